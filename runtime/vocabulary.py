"""The words of the language sorted by what they name, and the spelling of its tokens: what a
highlighter colours, read from the compiler's registry and the grammar rather than copied.

In: the registry (`compiler/registry.py`: statements, and the members of `optimizer`, `loss`,
`schedule` and `init`) and the grammar's terminals (`spec_lang.parser.tables`), both read on
the first call of `words()` or `terminals()`, so that importing this module costs nothing.
Out: `words()`, the statement names by kind (layers, activations, block keywords, settings),
each family's members and the bare words statements take (`bias`, `nobias`); `terminals()`,
the regular expressions of the grammar's tokens by name (`NUMBER`, `NAME`, `COMMENT`, ...).
No torch, no Pygments.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """Every statement name falls in exactly one of `layers`, `activations`, `blocks`, `settings`."""

    layers: tuple[str, ...]  # statements that are a layer of the network: `linear`, `conv2d`
    activations: tuple[str, ...]  # layers that apply a function and hold no weights: `relu`, `tanh`
    blocks: tuple[str, ...]  # statements that open braces: `block`, `repeat`, `residual`
    definition: str  # the block keyword whose first argument names a block: `block`
    settings: tuple[str, ...]  # everything else: `data`, `optimizer`, `epochs`, `seed`
    families: Mapping[str, tuple[str, ...]]  # `optimizer` -> `adam`, `sgd`, ...
    flags: tuple[str, ...]  # bare words that set an option: `bias`, `nobias`, `sequence`

    def statement_kind(self, name: str) -> str | None:
        """`layer`, `activation`, `block` or `setting`; None for a name the registry lacks (a block's use)."""
        for kind, names in (("layer", self.layers), ("activation", self.activations), ("block", self.blocks),
                            ("setting", self.settings)):
            if name in names:
                return kind
        return None

    def members(self) -> tuple[str, ...]:
        """Every family's members, sorted."""
        return tuple(sorted({name for names in self.families.values() for name in names}))


@functools.cache
def words() -> Words:
    from compiler import registry
    from compiler.layers import activations
    from compiler.layers.blocks import BlockDefinition

    statements = registry.statement_names()  # loads every statement's module
    plain = registry.layer_classes()
    acting = {cls.keyword for cls in plain if cls.__module__ == activations.__name__}
    layers = {cls.keyword for cls in plain} - acting
    blocks = {cls.keyword for cls in registry.layer_classes(blocks=True)} - {cls.keyword for cls in plain}
    blocks = (blocks | {BlockDefinition.keyword}) & set(statements)  # a block's use has no keyword
    settings = set(statements) - layers - acting - blocks
    models = list(registry.STATEMENTS.values()) + [cls for family in registry.FAMILIES.values()
                                                   for cls in family.values()]
    return Words(layers=tuple(sorted(layers)), activations=tuple(sorted(acting)), blocks=tuple(sorted(blocks)),
                 definition=BlockDefinition.keyword, settings=tuple(sorted(settings)),
                 families={family: tuple(sorted(members)) for family, members in sorted(registry.FAMILIES.items())},
                 flags=tuple(sorted({flag for cls in models for flag in cls.flags})))


@functools.cache
def terminals() -> Mapping[str, str]:
    """The grammar's token names and their regular expressions (Python's syntax, which the
    tokens use only where Oniguruma's agrees), in the order the parser's scanner tries them."""
    from spec_lang.parser import tables

    return dict(tables().terminals)
