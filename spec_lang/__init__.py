"""The .nqa language: text in, a frozen syntax tree out; and the error users see.

`parse(text, filename)` returns a `Spec` or raises `SpecError`; `read_source(path)`
reads a spec file with every way that can go wrong turned into a `SpecError`.
Every diagnostic carries a stable code from `codes.CODES` (`E0201`, `W0002`).
This package never imports torch.
"""

from .ast import Arrow, Choice, Number, Option, Span, Spec, Statement, String, Vector, Word
from .errors import Diagnostic, Fix, Label, SpecError, render_all, render_diagnostic, usage_error, visible
from .parser import parse
from .source import read_source

__all__ = [
    "Arrow",
    "Choice",
    "Diagnostic",
    "Fix",
    "Label",
    "Number",
    "Option",
    "Span",
    "Spec",
    "SpecError",
    "Statement",
    "String",
    "Vector",
    "Word",
    "parse",
    "read_source",
    "render_all",
    "render_diagnostic",
    "usage_error",
    "visible",
]
