"""Hypothesis strategies for hostile specs: arbitrary text, and grammar-aware
mutations of the specs in specs/ (tokens deleted, repeated, swapped or replaced
by tokens that are often wrong: odd numbers, stray brackets, separators, names).

Also `verdict(text)`: None when `check` accepts the text or refuses it with a
`SpecError` whose spans all lie inside the text, whose codes are all registered
(spec_lang/codes.py) and which renders; otherwise a
description of what escaped. Used by tests/test_fuzz.py and bench/fuzz.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import strategies as st

from compiler import check
from conftest import spec_files
from spec_lang import SpecError
from spec_lang.codes import CODES
from spec_lang.parser import normalized

SPECS = Path(__file__).resolve().parent.parent / "specs"
SEEDS = [p.read_text(encoding="utf-8") for p in spec_files(SPECS)]
TOKEN = re.compile(r"\s+|->|[A-Za-z_]\w*|[+-]?\d[\d.eE+-]*|\S")
ODD = ["nan", "inf", "-inf", "1e999", "-0", "0", "-1", "0.5", "99999999999999999999", "1e-320",
       "->", "[", "]", "[]", ",", "=", ";", "\n", '"', '"x.csv"', "#", "\t", "\r\n", "\ufeff", "é",
       "linear", "relu", "leaky_relu", "dropout", "softmax", "optimizer", "loss", "epochs", "example",
       "eval", "input", "seed", "batch", "shuffle", "data", "sgd", "adam", "mse", "cross_entropy",
       "lr=", "momentum=", "p=", "slope=", "nobias", "bias", "nesterov", "2->3", "[1, 1]", "->3",
       "choice(", "(", ")", "choice()", "choice(0.1, 0.01)", "lr=choice(0.1, 1e-2)", "choice(1, a)",
       "batch choice(2, 4)"]


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@st.composite
def mutated_specs(draw) -> str:
    parts = tokens(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not parts:
            parts = [draw(st.sampled_from(ODD))]
        i = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["delete", "repeat", "swap", "replace", "insert"]))
        if action == "delete":
            del parts[i]
        elif action == "repeat":
            parts.insert(i, parts[i])
        elif action == "swap":
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        else:
            new = draw(st.sampled_from(ODD) | st.text(max_size=4))
            parts[i:i + (action == "replace")] = [new]
    return "".join(parts)


hostile_specs = st.one_of(mutated_specs(), st.text(max_size=200),
                          st.text(alphabet="linear2->3 [],;=\n#.e-", max_size=80))


def _span_ok(span, text: str) -> bool:
    lines = normalized(text).count("\n") + 2  # a file with CR alone for line ends has lines too
    return (1 <= span.line <= span.end_line <= lines and span.column >= 1 and span.end_column >= 1
            and 0 <= span.start <= span.end <= len(text) + 1)


def verdict(text: str) -> str | None:
    try:
        check(text, filename="fuzz.nqa")
    except SpecError as err:
        spans = [d.span for d in err.diagnostics if d.span is not None]
        spans += [n.span for d in err.diagnostics for n in d.notes]
        bad = [s for s in spans if not _span_ok(s, text)]
        if not err.diagnostics or bad:
            return f"invalid span {bad[:1]}"
        unknown = [d.code for d in err.diagnostics if d.code not in CODES]
        if unknown:
            return f"unregistered code {unknown[0]!r}"
        err.render()
    except Exception as exc:  # anything else escaped: that is what the fuzzer looks for
        return f"{type(exc).__name__}: {exc}"
    return None
