"""The one table from statement names to their models.

In: classes decorated with `@register` (layers, settings) or `@member(family)`
(the optimizers, losses, schedules and init schemes picked by the word after
`optimizer`, `loss`, `schedule` and `init`).
Out: lookups by statement name, the list of names for "did you mean", and the
statements that take a given option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .layers import Layer
    from .statement import StatementModel

T = TypeVar("T", bound="type[StatementModel]")

STATEMENTS: dict[str, type[StatementModel]] = {}
FAMILIES: dict[str, dict[str, type[StatementModel]]] = {"optimizer": {}, "loss": {}, "schedule": {}, "init": {}}


def register(cls: T) -> T:
    """Register a statement model under its `keyword`."""
    STATEMENTS[cls.keyword] = cls
    return cls


def member(family: str) -> Callable[[T], T]:
    """Register a model as `<family> <keyword>`, e.g. `optimizer sgd`."""

    def add(cls: T) -> T:
        FAMILIES[family][cls.keyword] = cls
        return cls

    return add


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:  # an import statement costs microseconds even when done: skip it after the first
        from . import control, inits, layers, losses, normalize, optimizers, schedules, settings  # noqa: F401
        _loaded = True


def statement_names() -> list[str]:
    _load()
    return sorted(list(STATEMENTS) + list(FAMILIES))


def lookup(name: str) -> type[StatementModel] | dict[str, type[StatementModel]] | None:
    _load()
    return STATEMENTS.get(name) or FAMILIES.get(name)


def statements_taking(option: str) -> list[str]:
    """Statement names (`optimizer sgd`, `leaky_relu`) that accept `option=`."""
    _load()
    found = [name for name, cls in STATEMENTS.items() if option in cls.option_names()]
    for family, members in FAMILIES.items():
        found += [f"{family} {name}" for name, cls in members.items() if option in cls.option_names()]
    return sorted(found)


def layer_classes(blocks: bool = False) -> list[type[Layer]]:
    """The layer statements; with `blocks`, also those holding layers (`repeat`, `residual`, a block's use)."""
    _load()
    from .layers import Layer
    from .layers.blocks import BlockUse, Container

    found = [cls for cls in STATEMENTS.values()
             if issubclass(cls, Layer) and (blocks or not issubclass(cls, Container))]
    return found + [BlockUse] if blocks else found
