"""The values a run may be given beyond its spec, checked in one place for the
command line (`--seed 3`) and the library (`train(spec, seed=3)`).

In: a value and the spelling of its name where the user wrote it (`--seed` on
the command line, `seed` in Python). Out: the value, or a `SpecError` (no
location: the mistake is not in the spec) that names it as the user wrote it.
Never imports torch.
"""

from __future__ import annotations

import operator

from spec_lang import SpecError, codes, usage_error

SEED_LIMIT = 2**63  # torch.manual_seed takes a signed 64-bit seed; the spec's `seed` has the same range
DEVICES = ("auto", "cpu", "cuda")
TRACES = ("grads", "params")
PRECISIONS = ("fp32", "bf16", "fp16")  # `--precision`: float32 throughout, or autocast to bfloat16 or float16


def whole(value: object, name: str, least: int = 0, example: int = 1) -> int:
    """A whole number of at least `least` (bool is not a number here)."""
    hint = f"e.g. {_spelt(name, max(least, example))}"
    value = _integer(value, name, hint)
    if value < least:
        raise usage_error(f"{name} must be at least {least}, not {value}", hint, code=codes.BAD_OPTION_VALUE)
    return value


def _integer(value: object, name: str, hint: str) -> int:
    """Any integer type (numpy's too), but not a bool or a float."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        raise usage_error(f"{name} must be a whole number, not {shown}", hint, code=codes.BAD_OPTION_VALUE) from None


def seed(value: object, name: str, count: int = 1) -> int:
    """A seed from 0 to 2**63 - 1; with `count` runs, the last seed too."""
    value = whole(value, name, example=0)
    if value >= SEED_LIMIT:
        raise usage_error(f"{name} must be below 2**63 = {SEED_LIMIT:,}, not {value:,}",
                          f"pick a smaller seed, e.g. {_spelt(name, 0)}", code=codes.BAD_OPTION_VALUE)
    if value + count - 1 >= SEED_LIMIT:
        raise usage_error(f"{count:,} runs from seed {value:,} would reach seed {value + count - 1:,}, "
                          f"past the largest seed, 2**63 - 1", "start from a smaller seed, or train fewer runs",
                          code=codes.BAD_OPTION_VALUE)
    return value


def epochs(value: object, name: str, limit: int) -> int:
    """Epochs from 1 to the `max_epochs` limit."""
    value = _integer(value, name, f"e.g. {_spelt(name, 100)}")
    if not 1 <= value <= limit:
        hint = ("train for at least 1 epoch" if value < 1 else
                f"raise the limit with {'--max-epochs' if name.startswith('--') else 'Limits(max_epochs=...)'}")
        raise usage_error(f"{name} must be from 1 to {limit:,}, not {value:,}", hint, code=codes.BAD_OPTION_VALUE)
    return value


def device(value: object, name: str) -> str:
    if value not in DEVICES:
        raise usage_error(f"{name} must be one of {', '.join(DEVICES)}, not {value!r}",
                          f"e.g. {_spelt(name, 'cpu')}, or {_spelt(name, 'auto')} to use a GPU when there is one",
                          code=codes.BAD_OPTION_VALUE)
    return str(value)


def precision(value: object, name: str) -> str:
    if value not in PRECISIONS:
        raise usage_error(f"{name} must be one of {', '.join(PRECISIONS)}, not {value!r}",
                          f"e.g. {_spelt(name, 'bf16')} (with a CUDA device)", code=codes.BAD_OPTION_VALUE)
    return str(value)


def flag(value: object, name: str) -> bool:
    """A switch: True or False (not 1, not "yes")."""
    if not isinstance(value, bool):
        raise usage_error(f"{name} must be True or False, not {value!r}", f"e.g. {_spelt(name, True)}",
                          code=codes.BAD_OPTION_VALUE)
    return value


def traces(value: object, name: str) -> frozenset[str]:
    kinds = frozenset(value) if isinstance(value, (set, frozenset, list, tuple)) else None
    if kinds is None or not kinds <= set(TRACES):
        raise usage_error(f"{name} takes a set of {' and '.join(TRACES)}, not {value!r}",
                          f"e.g. {_spelt(name, frozenset({'grads'}))}", code=codes.BAD_OPTION_VALUE)
    return kinds


def command_line(args) -> None:
    """`--seed` and `--epochs`, for the commands that take them (with `--runs N`, the last seed too)."""
    if getattr(args, "seed", None) is not None:
        seed(args.seed, "--seed", max(1, getattr(args, "runs", 0) or 0))
    if getattr(args, "epochs", None) is not None:
        epochs(args.epochs, "--epochs", args.max_epochs)


def _spelt(name: str, value: object) -> str:
    """How the user would write `name` with `value`: `--seed 0`, or `seed=0` in Python."""
    if name.startswith("--"):
        return f"`{name} {value}`"
    return f"`{name}={value!r}`"


__all__ = ["DEVICES", "PRECISIONS", "SEED_LIMIT", "TRACES", "SpecError", "device", "epochs", "flag", "precision",
           "seed", "traces", "whole"]
