"""`optimizer sgd|adam|adamw|rmsprop|adagrad|adamax|nadam ...`: validated optimizer settings.

In: the options after the optimizer's name. Out: a frozen model whose
`torch_name` and `torch_kwargs()` say how the runtime builds the torch optimizer.
No torch here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from .registry import member
from .statement import StatementModel, fits_float32

_LR = "use a positive learning rate, e.g. `lr=0.01`"
_BETA = "a decay rate from 0 up to (not including) 1, e.g. 0.9"


class Optimizer(StatementModel):
    kind: str
    torch_name: ClassVar[str] = ""
    sweepable = None  # every setting may vary in a sweep

    def torch_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude={"kind"})


@member("optimizer")
class SGD(Optimizer):
    """`optimizer sgd`: stochastic gradient descent, with optional momentum (torch.optim.SGD)."""

    kind: Literal["sgd"] = "sgd"
    lr: float = Field(0.01, gt=0, title="learning rate `lr`",
                      description="the learning rate")
    momentum: float = Field(0.0, ge=0, lt=1, title="`momentum`",
                            description="the momentum factor, from 0 up to (not including) 1")
    dampening: float = Field(0.0, ge=0, le=1, title="`dampening`",
                             description="dampening of the momentum, from 0 to 1")
    weight_decay: float = Field(0.0, ge=0, title="`weight_decay`",
                                description="L2 penalty added to the gradient")
    nesterov: bool = Field(False, title="`nesterov`",
                           description="Nesterov momentum (a word; needs momentum and no dampening)")

    keyword = "sgd"
    torch_name = "SGD"
    flags = {"nesterov": ("nesterov", True)}
    example = "optimizer sgd lr=0.01 momentum=0.9"
    hints = {"lr": _LR, "momentum": "momentum runs from 0 up to (not including) 1, e.g. `momentum=0.9`",
             "nesterov": "use a momentum above 0 (e.g. `momentum=0.9`) and no `dampening`, or remove `nesterov`",
             "dampening": "dampening runs from 0 to 1; 0 (the default) keeps every gradient",
             "weight_decay": "weight decay is at least 0, e.g. `weight_decay=0.0001`"}

    @field_validator("nesterov")
    @classmethod
    def _nesterov_needs_momentum(cls, nesterov: bool, info: ValidationInfo) -> bool:
        if nesterov and info.data.get("momentum", 1) <= 0:
            raise ValueError("`nesterov` needs a momentum above 0")
        if nesterov and info.data.get("dampening", 0) != 0:
            raise ValueError("`nesterov` works only without dampening")
        return nesterov


class _TwoDecays(Optimizer):
    """Adam and its kin: a learning rate, two decay rates, `eps` and weight decay."""

    lr: float = Field(0.001, gt=0, title="learning rate `lr`",
                      description="the learning rate")
    beta1: float = Field(0.9, ge=0, lt=1, title="`beta1`",
                         description="the decay rate of the gradient's running mean")
    beta2: float = Field(0.999, ge=0, lt=1, title="`beta2`",
                         description="the decay rate of the squared gradient's running mean")
    eps: float = Field(1e-8, gt=0, title="`eps`",
                       description="added to the denominator, for numerical stability")
    weight_decay: float = Field(0.0, ge=0, title="`weight_decay`", validate_default=True,
                                description="L2 penalty added to the gradient")

    decoupled_decay: ClassVar[bool] = False  # AdamW's: weights shrink by lr * weight_decay each step
    hints = {"lr": _LR, "beta1": _BETA, "beta2": _BETA, "eps": "a small positive number, e.g. `eps=1e-8`",
             "weight_decay": "weight decay is at least 0 (e.g. `weight_decay=0.01`), and `lr` small enough "
                             "for float32 (e.g. `lr=0.001`)"}

    @field_validator("weight_decay")  # lr and beta1 are known by then
    @classmethod
    def _steps_fit_float32(cls, weight_decay: float, info: ValidationInfo) -> float:
        """The scalars the update is computed with must fit float32 too: the first step moves by
        lr / (1 - beta1), and AdamW shrinks weights by lr * weight_decay."""
        lr, beta1 = info.data.get("lr"), info.data.get("beta1")
        if lr is None or beta1 is None:
            return weight_decay
        if not fits_float32(lr / (1 - beta1)):
            raise ValueError(f"with `beta1={beta1:g}` the first step moves by lr / (1 - beta1) = "
                             f"{lr / (1 - beta1):g}, too large for float32: use a smaller `lr`")
        if cls.decoupled_decay and not fits_float32(lr * weight_decay):
            raise ValueError(f"lr * weight_decay = {lr * weight_decay:g} is too large for float32: "
                             "use a smaller `lr` or `weight_decay`")
        return weight_decay

    def torch_kwargs(self) -> dict[str, Any]:
        kwargs = self.model_dump(exclude={"kind", "beta1", "beta2"})
        return {"betas": (self.beta1, self.beta2), **kwargs}


class _AdamLike(_TwoDecays):
    amsgrad: bool = Field(False, title="`amsgrad`",
                          description="use the AMSGrad variant (a word)")
    flags = {"amsgrad": ("amsgrad", True)}


@member("optimizer")
class Adam(_AdamLike):
    """`optimizer adam`: Adam (torch.optim.Adam)."""

    kind: Literal["adam"] = "adam"
    keyword = "adam"
    torch_name = "Adam"
    example = "optimizer adam lr=0.001"


@member("optimizer")
class AdamW(_AdamLike):
    """`optimizer adamw`: Adam with decoupled weight decay (torch.optim.AdamW)."""

    kind: Literal["adamw"] = "adamw"
    weight_decay: float = Field(0.01, ge=0, title="`weight_decay`", validate_default=True,
                                description="decoupled weight decay: weights shrink by lr x weight_decay each step")
    decoupled_decay = True
    keyword = "adamw"
    torch_name = "AdamW"
    example = "optimizer adamw lr=0.001 weight_decay=0.01"


@member("optimizer")
class RMSprop(Optimizer):
    """`optimizer rmsprop`: RMSprop (torch.optim.RMSprop)."""

    kind: Literal["rmsprop"] = "rmsprop"
    lr: float = Field(0.01, gt=0, title="learning rate `lr`",
                      description="the learning rate")
    alpha: float = Field(0.99, ge=0, lt=1, title="`alpha`",
                         description="the smoothing constant of the squared gradient's running mean")
    eps: float = Field(1e-8, gt=0, title="`eps`",
                       description="added to the denominator, for numerical stability")
    weight_decay: float = Field(0.0, ge=0, title="`weight_decay`",
                                description="L2 penalty added to the gradient")
    momentum: float = Field(0.0, ge=0, lt=1, title="`momentum`",
                            description="the momentum factor, from 0 up to (not including) 1")
    centered: bool = Field(False, title="`centered`",
                           description="normalise by the gradient's estimated variance (a word)")

    keyword = "rmsprop"
    torch_name = "RMSprop"
    flags = {"centered": ("centered", True)}
    example = "optimizer rmsprop lr=0.01"
    hints = {"lr": _LR, "alpha": _BETA}


@member("optimizer")
class Adagrad(Optimizer):
    """`optimizer adagrad`: Adagrad (torch.optim.Adagrad)."""

    kind: Literal["adagrad"] = "adagrad"
    lr: float = Field(0.01, gt=0, title="learning rate `lr`",
                      description="the learning rate")
    lr_decay: float = Field(0.0, ge=0, title="`lr_decay`",
                            description="how fast the learning rate decays")
    weight_decay: float = Field(0.0, ge=0, title="`weight_decay`",
                                description="L2 penalty added to the gradient")
    initial_accumulator_value: float = Field(0.0, ge=0, title="`initial_accumulator_value`",
                                             description="the starting value of the squared-gradient sums")
    eps: float = Field(1e-10, gt=0, title="`eps`",
                       description="added to the denominator, for numerical stability")

    keyword = "adagrad"
    torch_name = "Adagrad"
    example = "optimizer adagrad lr=0.01"
    hints = {"lr": _LR, "lr_decay": "how fast the learning rate falls with the steps, at least 0, e.g. `lr_decay=0`"}


class _InfinityNormLike(_TwoDecays):
    """Adamax and NAdam: Adam's settings without `amsgrad`, and torch's larger default `lr`."""

    lr: float = Field(0.002, gt=0, title="learning rate `lr`",
                      description="the learning rate")


@member("optimizer")
class Adamax(_InfinityNormLike):
    """`optimizer adamax`: Adamax, Adam on the infinity norm (torch.optim.Adamax)."""

    kind: Literal["adamax"] = "adamax"
    keyword = "adamax"
    torch_name = "Adamax"
    example = "optimizer adamax lr=0.002"


@member("optimizer")
class NAdam(_InfinityNormLike):
    """`optimizer nadam`: Adam with Nesterov momentum (torch.optim.NAdam)."""

    kind: Literal["nadam"] = "nadam"
    momentum_decay: float = Field(0.004, ge=0, title="`momentum_decay`",
                                  description="the momentum decay")
    keyword = "nadam"
    torch_name = "NAdam"
    example = "optimizer nadam lr=0.002"


DEFAULT = SGD()
