"""`init kaiming|xavier|normal|zeros ...`, and a layer's `init=`: how weights start.

In: the options after the scheme's name, or a layer's `init=NAME`. Out: frozen
models naming the `torch.nn.init` function drawn for every weight (each
parameter of two or more dimensions: a matrix, a kernel, an embedding table,
a recurrent layer's weights) and its arguments; every bias (each
one-dimensional parameter) starts at 0. The draws come from torch's generator,
seeded by the run's seed, right after the layer is built, in the order of its
parameters: `compiler.initialise.initialised`, which `--emit python` copies
into its program. Layers without such weights (`batch_norm`, `layer_norm`,
activations) keep torch's start. No torch here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic_core import PydanticCustomError

from .registry import FAMILIES, member
from .statement import StatementModel

HOME = "compiler.initialise"  # where `initialised` lives; the emitted program copies it from there
FUNCTION = "initialised"


class Init(StatementModel):
    kind: str
    torch_init: ClassVar[str] = ""  # the torch.nn.init function drawn for the weights
    sweepable = None  # every setting may vary in a sweep (the scheme itself may not)

    def torch_kwargs(self) -> dict[str, Any]:
        return {}

    def source(self, module: str) -> str:
        """The module's source (`nn.Linear(2, 3)`) wrapped in the call that initialises it."""
        options = "".join(f", {k}={v!r}" for k, v in self.torch_kwargs().items())
        return f"{FUNCTION}({module}, {self.torch_init!r}{options})"

    def apply(self, module: Any) -> Any:
        """Initialise a built module in place (importing torch), and give it back."""
        import importlib

        initialised = getattr(importlib.import_module(HOME), FUNCTION)
        return initialised(module, self.torch_init, **self.torch_kwargs())

    @classmethod
    def named(cls, value: Any) -> Any:
        """A layer's `init=xavier`: the scheme of that name with its defaults."""
        if isinstance(value, Init) or value is None:
            return value
        scheme = FAMILIES["init"].get(value) if isinstance(value, str) else None
        if scheme is None:
            names = list(FAMILIES["init"])
            expected = ", ".join(f"'{n}'" for n in names[:-1]) + f" or '{names[-1]}'"
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return scheme()


@member("init")
class Kaiming(Init):
    """He et al.: a normal draw with std sqrt(2 / fan), for layers followed by ReLU."""

    kind: Literal["kaiming"] = "kaiming"
    mode: Literal["fan_in", "fan_out"] = Field("fan_in", title="`mode`",
                                               description="which fan the spread is computed from: `fan_in` or "
                                                           "`fan_out`")

    keyword = "kaiming"
    torch_init = "kaiming_normal_"
    example = "init kaiming"
    aliases = ("he", "he_normal", "kaiming_normal")

    def torch_kwargs(self) -> dict[str, Any]:
        return {"mode": self.mode, "nonlinearity": "relu"}


@member("init")
class Xavier(Init):
    """Glorot and Bengio: a uniform draw within gain * sqrt(6 / (fan_in + fan_out))."""

    kind: Literal["xavier"] = "xavier"
    gain: float = Field(1.0, gt=0, title="`gain`",
                        description="the factor the bound is scaled by")

    keyword = "xavier"
    torch_init = "xavier_uniform_"
    example = "init xavier"
    aliases = ("glorot", "glorot_uniform", "xavier_uniform")

    def torch_kwargs(self) -> dict[str, Any]:
        return {"gain": self.gain}


@member("init")
class Normal(Init):
    """A normal draw around 0."""

    kind: Literal["normal"] = "normal"
    std: float = Field(0.02, gt=0, title="`std`",
                       description="the standard deviation of the draw")

    keyword = "normal"
    torch_init = "normal_"
    example = "init normal std=0.02"
    aliases = ("gaussian", "random_normal")
    hints = {"std": "the standard deviation of the draw, above 0, e.g. `std=0.02`"}

    def torch_kwargs(self) -> dict[str, Any]:
        return {"mean": 0.0, "std": self.std}


@member("init")
class Zeros(Init):
    """Every weight and bias 0."""

    kind: Literal["zeros"] = "zeros"

    keyword = "zeros"
    torch_init = "zeros_"
    example = "init zeros"
    aliases = ("zero",)
