"""Checking a spec again as it is edited: what `check` keeps from earlier checks (the statements
of unchanged lines, moved to where they stand now; the bound statements; what each layer gives)
never changes a result. A long spec is edited one line at a time (lines inserted and deleted, so
that every span after them moves; widths changed; lines broken and mended), and after each edit its
check, with everything kept from the checks before, is compared with a fresh one: the same
diagnostics (spans, labels, fixes, rendered text) or the same program (layers, shapes, spans)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import bind_kept, check
from compiler.layers import base
from spec_lang import SpecError, reparse


def long_spec() -> list[str]:
    lines = ["input 16"]
    for index in range(60):
        lines += [f"linear ->16 bias   # layer {index}", "relu"]
    return lines + ["repeat 2 { linear ->16; relu }", "linear ->1", "loss mse", "optimizer sgd lr=0.01",
                    "epochs 1", "example [" + ", ".join(str(k) for k in range(16)) + "] -> [1]"]


EDITS = [  # lines put in, each good or bad in its own way
    "relu", "linear ->16", "linear 16->16", "linear 3->16", "  linear ->16 nobias  # indented",
    "lienar ->16", "linear ->16 bais", "linear ->", "dropout 0.5", "dropout p=2", "", "# a comment",
    "relu; linear ->16", "example [1, x] -> [1]", "linear ->1.0", "linear ->16.5", "epochs 2",
    "repeat 2 {", "}", "residual { linear ->16; relu }", "block b { linear ->16 }", "b", "b * 2",
    "repeat 3", "linear ->16 * 2", "conv2d ->4 kernel=3", "batch 4", "stop patience=2",
]


def fresh() -> None:
    """Forget everything kept from earlier checks."""
    reparse._KEPT.clear()
    reparse._size[0] = 0
    reparse._LAST[0] = {}
    bind_kept._KEPT.clear()
    bind_kept._BY_ID.clear()
    base._INFERRED.clear()
    base._TYPES.clear()


def outcome(text: str) -> tuple[object, ...]:
    try:
        program = check(text)
    except SpecError as err:
        return ("error", str(err), tuple(err.diagnostics))
    spec = program.spec
    return ("program", spec.model_dump(), spec.summary(), spec.types(), program.layer_spans,
            dict(program.path_spans), program.warnings, program.source)


edit = st.tuples(st.sampled_from(["insert", "delete", "replace", "width"]), st.integers(0, 10**6),
                 st.sampled_from(EDITS), st.integers(1, 40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=12))
def test_each_edit_checks_as_a_fresh_check_does(edits):
    lines = long_spec()
    check("\n".join(lines))
    for kind, where, text, width in edits:
        at = where % (len(lines) + 1)
        if kind == "insert":
            lines.insert(at, text)
        elif kind == "delete" and lines:
            del lines[min(at, len(lines) - 1)]
        elif kind == "replace" and lines:
            lines[min(at, len(lines) - 1)] = text
        else:
            lines[0] = f"input {width}"
        source = "\n".join(lines)
        kept = outcome(source)
        fresh()
        assert kept == outcome(source)
        check("\n".join(long_spec()))  # something else kept again before the next edit


def test_typing_a_line_checks_as_a_fresh_check_does():
    """Every prefix of a line typed in the middle of the spec, each one moving the offsets after it."""
    lines = long_spec()
    check("\n".join(lines))
    typed = "linear 16->8 nobias"
    for end in range(len(typed) + 1):
        source = "\n".join(lines[:40] + [typed[:end]] + lines[40:])
        kept = outcome(source)
        fresh()
        assert kept == outcome(source)
        check("\n".join(lines[:10] + lines[11:]))  # the lines before it moved, and kept so


def test_what_is_kept_is_bounded():
    for index in range(reparse.MAX_PIECES + 10):
        check(f"input 2\nlinear ->{index + 1}  # {index}\n")
    assert len(reparse._KEPT) <= reparse.MAX_PIECES and reparse._size[0] <= reparse.MAX_CHARACTERS
    assert len(reparse._LAST[0]) <= reparse.MAX_LINES
    assert len(bind_kept._KEPT) <= bind_kept.MAX_KEPT and len(bind_kept._BY_ID) <= bind_kept.MAX_KEPT
    assert len(base._INFERRED) <= base.MAX_KEPT_RESOLVED
