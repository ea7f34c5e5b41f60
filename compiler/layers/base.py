"""What every layer knows: the width it needs, the width it makes, its parameter
count and how to build its torch module.

In: the width flowing into the layer. Out: widths, counts, a display name, and
(from `build`, the only place torch is imported) an `nn.Module`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..statement import StatementModel

if TYPE_CHECKING:
    from torch import nn


class Layer(StatementModel):
    """A layer statement. Width-preserving with no parameters unless a subclass says otherwise."""

    kind: str
    torch_name: ClassVar[str] = ""

    def expects(self) -> int | None:
        """The input width this layer states, if it states one."""
        return None

    def states_output(self) -> bool:
        """Whether this layer sets the width after it (rather than passing it on)."""
        return False

    def resolve(self, width: int) -> Layer:
        """The same layer with its input width filled in."""
        return self

    def output_width(self, width: int) -> int:
        return width

    def parameter_count(self, width: int) -> int:
        return 0

    def describe(self) -> str:
        """How the layer prints in a summary: the torch module's own repr."""
        return f"{self.torch_name}()"

    def build(self, width: int) -> nn.Module:
        raise NotImplementedError
