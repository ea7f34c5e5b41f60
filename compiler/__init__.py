"""The .nqa compiler: syntax tree to checked spec to `nn.Sequential`.

`check(spec)` validates a spec (text, `Path` or parsed `Spec`) and returns a
`Program` holding the frozen `CheckedSpec`, or raises `SpecError`; it never
imports torch. `compile_spec(spec)` builds the `nn.Sequential`, importing torch
only then.
"""

from .build import as_program, compile_spec
from .check import check
from .limits import Limits
from .model import CheckedSpec, LayerInfo, Program

__all__ = ["CheckedSpec", "LayerInfo", "Limits", "Program", "as_program", "check", "compile_spec"]
