"""What every layer knows about itself, given the type flowing into it.

In: the per-example `TensorType` arriving at the layer. Out: the type it gives
(or a `Fault` naming the field at fault, with its own message and hint), its
parameter count and multiply-accumulates per example, and one description of
its torch module, a `Call`, from which the module is built (`build`, the only
place torch is imported), its summary name (`describe`) and the source that
`--emit python` writes (`source`) are all derived.

A layer that states the size it reads (`linear 3->1`, `conv2d 1->8`) names
that field in `input_field` and the dimension it reads in `input_axis`; the
check against what arrives, and filling the field in when it is left out
(`linear ->1`), are done here once for every such layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from spec_lang import codes

from ..inits import Init
from ..messages import plural
from ..statement import StatementModel
from ..types import TensorType

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Fault:
    """Why a layer cannot take the type flowing into it.

    `message` may hold `{name}` (the statement as written) and `{why}` (what
    arrives and from where, worded by the shape pass from `arriving`)."""

    message: str
    field: str = ""  # the field to underline; "" for the whole statement
    label: str = ""
    hint: str = ""
    arriving: str = ""  # what arrives, as said where it comes from: "2", "3 channels", "[16, 8, 8]"
    code: str = dataclasses.field(kw_only=True)  # the kind of fault (spec_lang/codes.py)
    fix: tuple[str, str] | None = None  # the hint as one edit: the field's new text, and the edit said as a title


@dataclass(frozen=True)
class Call:
    """A module's constructor call: `Linear(2, 3, bias=False)`. `home` is where the
    class lives: `torch.nn`, or `compiler.modules` for the few nqa adds."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    home: str = "torch.nn"
    quiet: tuple[str, ...] = ()  # keyword arguments the summary leaves out (at their default), the program writes

    def text(self, every: bool = False) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs if every or k not in self.quiet]
        return f"{self.name}({', '.join(parts)})"

    def source(self) -> str:
        """As the emitted program writes it: torch's modules as `nn.X`, nqa's by their own name."""
        return ("nn." if self.home == "torch.nn" else "") + self.text(every=True)

    def build(self) -> nn.Module:
        import importlib

        module: nn.Module = getattr(importlib.import_module(self.home), self.name)(*self.args, **dict(self.kwargs))
        return module

    def definition(self) -> str:
        """The source of the class, for the few nqa adds ("" for torch's own), read
        without importing torch: an emitted program copies it in."""
        return "" if self.home == "torch.nn" else source_of(self.home, self.name)


def source_of(home: str, name: str) -> str:
    """The source of the class or function `name` of the module `home`, read without importing it."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(home)
    if spec is None or spec.origin is None:
        raise LookupError(f"no source for {home}")
    with open(spec.origin, encoding="utf-8") as file:
        text = file.read()
    found = next(node for node in ast.parse(text).body
                 if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name)
    return ast.get_source_segment(text, found) or ""

# a layer resolved for the size reaching it, by the layer's id and that size (`Layer.resolve`); the
# layers are frozen and `_validated` gives the same one for the same statement, so a spec checked
# again as it is edited resolves each layer once
_RESOLVED: dict[tuple[int, Any], tuple[Layer, Layer]] = {}
MAX_KEPT_RESOLVED = 4096
# what a layer gives for a type, by the layer's id and the type (`inferred`), on the same grounds
_INFERRED: dict[tuple[int, TensorType], tuple[Layer, TensorType | Fault]] = {}
_TYPES: dict[TensorType, TensorType] = {}


def inferred(layer: Layer, t: TensorType) -> TensorType | Fault:
    """`layer.infer(t)`, the same answer given again for the same (frozen) layer and an equal type:
    the shape pass and the checked spec's types ask it of every layer of a spec checked again."""
    key = (id(layer), t)
    kept = _INFERRED.get(key)
    if kept is not None and kept[0] is layer:
        return kept[1]
    found = layer.infer(t)
    if len(_INFERRED) >= MAX_KEPT_RESOLVED:
        _INFERRED.clear()
        _TYPES.clear()
    if isinstance(found, TensorType):  # one object for equal types: the pass tells a type that did not change by `is`
        found = _TYPES.setdefault(found, found)
    _INFERRED[key] = (layer, found)  # `layer` held, so that its id is not reused
    return found


class Layer(StatementModel):
    """A layer statement. Shape-preserving with no parameters unless a subclass says otherwise."""

    kind: str
    torch_name: ClassVar[str] = ""  # the module's class name
    fixed_hint = ("every combination of a sweep trains a network of the same shape: write one spec for each "
                  "{title}; a sweep varies settings, e.g. `lr=choice(0.01, 0.1)`")
    input_field: ClassVar[str | None] = None  # the field stating the size the layer reads
    input_axis: ClassVar[int] = -1  # the dimension that size is read from
    input_noun: ClassVar[str] = "input"  # how that size is counted: "input", "input channel"
    output_field: ClassVar[str | None] = None  # the field stating the size the layer gives
    size_fields: ClassVar[tuple[str, ...]] = ()  # fields that are sizes, held to --max-width
    ranks: ClassVar[tuple[int, ...] | None] = None  # the input ranks it takes; None: any
    rank_words: ClassVar[str] = ""  # those ranks as a user reads them: "[C, H, W] (channels, height, width)"
    takes_ids: ClassVar[bool] = False  # takes int64 ids (and only them); the others take float32
    keeps_shape: ClassVar[bool] = True  # never changes the shape (activations, dropout, norms)
    unbatched: ClassVar[bool] = False  # its module also takes one example without a batch dim (nn.Linear does)

    # what is stated and what arrives
    def expects(self) -> int | None:
        """The size this layer states it reads, if it states one."""
        return getattr(self, self.input_field) if self.input_field else None

    def states_output(self) -> bool:
        """Whether this layer states the size it gives (so what follows is known again after a gap)."""
        return self.output_field is not None

    def implied_input(self) -> TensorType | None:
        """The network's input type, when this layer comes first and its statement says it all."""
        return None

    def assumed_input(self, t: TensorType) -> TensorType:
        """`t` with the size this layer states in place of what arrives: after a
        mismatch, the shape pass goes on as if the layer's own statement were right."""
        stated = self.expects()
        if stated is None or not t.dims or not -t.rank <= self.input_axis < t.rank:
            return t
        dims = list(t.dims)
        dims[self.input_axis] = type(dims[self.input_axis])(stated, dims[self.input_axis].name)
        return TensorType(tuple(dims), t.dtype)

    def resolve(self, t: TensorType) -> Layer:
        """The same layer with the size it reads filled in from `t` when left out."""
        if self.input_field is None or getattr(self, self.input_field) is not None or not t.dims:
            return self
        if not -t.rank <= self.input_axis < t.rank:
            return self
        size = t.dims[self.input_axis].size
        kept = _RESOLVED.get((id(self), size))
        if kept is not None and kept[0] is self:  # the same (frozen) layer resolved for that size before
            return kept[1]
        found = self.model_copy(update={self.input_field: size})
        if len(_RESOLVED) >= MAX_KEPT_RESOLVED:
            _RESOLVED.clear()
        _RESOLVED[(id(self), size)] = (self, found)  # `self` held, so that its id is not reused
        return found

    def infer(self, t: TensorType) -> TensorType | Fault:
        """The type this layer gives for `t`, or why it cannot take `t`."""
        wrong = self._wrong_kind(t)
        if wrong is not None:
            return wrong
        stated = self.expects()
        if stated is not None and t.dims[self.input_axis].size != stated:
            return self.mismatch(stated, t.dims[self.input_axis].size)
        return self.output(t)

    def _wrong_kind(self, t: TensorType) -> Fault | None:
        """The dtype first: ids where floats belong (or floats for ids) is the cause a wrong rank then shows."""
        if t.dtype == "int64" and not self.takes_ids:
            return Fault("`{name}` takes float values, but {why}: token ids", label="takes floats",
                         hint="token ids go into an `embedding` first, e.g. `embedding 50->8`", arriving=str(t),
                         code=codes.IDS_MISMATCH)
        if t.dtype != "int64" and self.takes_ids:
            return Fault("`{name}` takes whole-number ids, but {why}", label="takes ids",
                         hint="an `embedding` comes first, on integer ids from the data", arriving=str(t),
                         code=codes.IDS_MISMATCH)
        if self.ranks is not None and t.rank not in self.ranks:
            return Fault(f"`{{name}}` takes {self.rank_words}, but {{why}}", label=f"takes {self.rank_words}",
                         hint=self.rank_hint(t), arriving=str(t), code=codes.RANK_MISMATCH)
        return None

    def id_count(self) -> int | None:
        """For a layer that takes ids: how many there are (ids run from 0 to one less)."""
        return None

    def rank_hint(self, t: TensorType) -> str:
        return f"give it {self.rank_words}"

    def mismatch(self, stated: int, arriving: int) -> Fault:
        """The stated size differs from what arrives (`linear 3->1` after a 2-wide layer)."""
        noun = self.input_noun.removeprefix("input ")  # "2 inputs" arrive bare, as widths; "3 channels" named
        return Fault(f"`{{name}}` expects {plural(stated, self.input_noun)}, but {{why}}", self.input_field or "",
                     f"expects {stated}", self.mismatch_hint(arriving),
                     str(arriving) if noun == self.input_noun else plural(arriving, noun), code=codes.WIDTH_MISMATCH,
                     fix=(str(arriving), self.mismatch_fix(arriving)))

    def mismatch_hint(self, arriving: int) -> str:
        return f"write `{self.keyword} {arriving}->...`, or leave the size out to infer it"

    def mismatch_fix(self, arriving: int) -> str:
        """The quick fix that writes the size that arrives, as an editor titles it."""
        return f"write {arriving} as the {self.title_of(self.input_field or '')}"

    def recover(self, t: TensorType) -> TensorType | None:
        """The type given after a fault, as if the layer's own statement were right (None: unknown)."""
        if self._wrong_kind(t) is not None:
            return None
        found = self.output(self.assumed_input(t))
        return found if isinstance(found, TensorType) else None

    def output(self, t: TensorType) -> TensorType | Fault:
        """The type given for an input whose rank, dtype and stated size are right."""
        return t

    def batch_problem(self, t: TensorType, smallest: int) -> Fault | None:
        """Why this layer cannot train on a batch of `smallest` rows (the smallest of an epoch), else None."""
        return None

    # what it costs
    def parameter_count(self, t: TensorType) -> int:
        return 0

    def flops(self, t: TensorType) -> int:
        """Multiply-accumulates per example (as torchinfo counts them)."""
        return 0

    def last_leaf(self) -> Layer:
        """The layer whose output is the network's when this one comes last (a block's last layer inside)."""
        return self

    # what it is in torch
    def calls(self, t: TensorType) -> list[Call]:
        """This layer's module call, and those of any layers inside it."""
        return [self.call(t)]

    def call(self, t: TensorType) -> Call:
        return Call(self.torch_name)

    def describe(self, t: TensorType) -> str:
        """How the layer prints in a summary: its module's constructor call."""
        return self.call(t).text()

    def source(self, t: TensorType) -> str:
        return self.call(t).source()

    def build(self, t: TensorType) -> nn.Module:
        return self.call(t).build()

    def with_init(self, init: Init) -> Layer:
        """The layer as the spec's `init` statement leaves it: unchanged, unless it has weights."""
        return self


class Weighted(Layer):
    """A layer with weights (matrices, kernels, tables): `init=` picks how they start, else
    the spec's `init` statement, else torch's own start. Mixed in before the layer's other base."""

    init: Init | None = Field(None, title="init scheme",
                              description="how this layer's weights start (`kaiming`, `xavier`, `normal`, "
                                          "`zeros`): overrides the `init` statement")

    @classmethod
    def sweep_problem(cls, name: str) -> str | None:
        if name == "init":
            return "every combination of a sweep starts its layers alike: write one spec for each init scheme"
        return super().sweep_problem(name)

    _named = field_validator("init", mode="before")(Init.named)

    def with_init(self, init: Init) -> Layer:
        """The spec's `init` fills in a layer that names none; one that names the same scheme takes its options."""
        if self.init is not None and self.init.kind != init.kind:
            return self
        return self.model_copy(update={"init": init})

    def build(self, t: TensorType) -> nn.Module:
        module = super().build(t)
        return self.init.apply(module) if self.init is not None else module

    def source(self, t: TensorType) -> str:
        text = super().source(t)
        return self.init.source(text) if self.init is not None else text
