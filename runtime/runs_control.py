"""Training control for `--runs N`: what many runs at once can follow, and what they cannot.

In: the checked program; for clipping, the stacked leaves (each tensor holding
every run's on dim 0) and the number of runs. Out: `refuse_control(program)`,
a located error for `schedule`, `warmup` and `stop` (each run would stop at an
epoch of its own, and `--runs` steps them all together: train those seeds one
by one); and `member_clip(spec, leaves, runs)`, each run's gradients clipped
as its single run clips them: by value, element by element, or by norm, with
the norm of each run's own gradients (torch's `clip_grad_norm_`: the norm of
every tensor's norm, a factor `max_norm / (norm + 1e-6)` of at most 1).
`init` needs nothing here: each run's network is built as its single run builds it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from compiler import CheckedSpec, Program
from spec_lang import Diagnostic, SpecError, codes, parse

_REFUSED = ("schedule", "warmup", "stop")


def refuse_control(program: Program) -> None:
    spec = program.spec
    given = [name for name in _REFUSED if getattr(spec, name) is not None]
    if not given:
        return
    name = given[0]
    span = next((s.span for s in parse(program.source).statements if s.name == name), None) if program.source else None
    raise SpecError(Diagnostic(f"`--runs` cannot train `{name}` for many runs at once yet", span, "not with --runs",
                               hint=f"train each seed on its own (`nqa run SPEC --seed N`), or remove `{name}`",
                               code=codes.RUNS_UNSUPPORTED),
                    program.source, program.filename)


def member_clip(spec: CheckedSpec, leaves: list[torch.Tensor], runs: int) -> Callable[[], None] | None:
    """Each run's gradients clipped as `clip` says (None: the spec does not clip)."""
    clip = spec.clip
    if clip is None:
        return None

    @torch.no_grad()
    def by_value() -> None:
        torch.nn.utils.clip_grad_value_(leaves, clip.value or 0.0)

    @torch.no_grad()
    def by_norm() -> None:
        grads = [leaf.grad for leaf in leaves if leaf.grad is not None]
        if not grads:
            return
        norms = torch.stack([torch.linalg.vector_norm(g.reshape(runs, -1), 2, dim=1) for g in grads], 1)
        total = torch.linalg.vector_norm(norms, 2, dim=1)
        factor = torch.clamp(float(clip.norm or 0.0) / (total + 1e-6), max=1.0)  # by norm: `norm` is set
        for g in grads:
            g.mul_(factor.view(runs, *[1] * (g.dim() - 1)))

    return by_value if clip.value is not None else by_norm
