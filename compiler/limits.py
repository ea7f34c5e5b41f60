"""How big a spec may make things, so that no spec can exhaust the machine.

In: nothing (defaults) or the user's overrides (`--max-params` ...). Out: a
frozen `Limits`. The defaults fit a 24 GiB machine with a wide margin: the
largest network allowed, with its gradients and an optimizer's two buffers,
needs about 1.6 GB; the largest JSON report (`--trace`, `--full-parameters`),
about 300 MB.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

BYTES_PER_PARAMETER = 4  # float32


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    max_width: int = Field(100_000, ge=1)
    max_params: int = Field(100_000_000, ge=1)
    max_layers: int = Field(1_000, ge=1)
    max_epochs: int = Field(1_000_000, ge=1)
    max_examples: int = Field(1_000_000, ge=1)
    max_activations: int = Field(100_000_000, ge=1)  # layer outputs one step holds: rows x values per example
    max_example_activations: int = Field(
        10_000_000, ge=1, description="the values one example makes: its input and every layer's output")
    max_data_bytes: int = Field(100_000_000, ge=1)
    max_runs: int = Field(100_000, ge=1)
    max_combinations: int = Field(256, ge=1, description="combinations a sweep may have: the product of the "
                                                         "numbers of values of its choices")
    max_trace_values: int = Field(
        10_000_000, ge=1, description="the values a JSON report may list: --trace records parameters x steps "
                                      "x kinds, --full-parameters 2 x parameters")


def human_bytes(count: int) -> str:
    """`1234567` -> `1.2 MB` (decimal units, as disks and RAM sticks are sold)."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if unit == "PB" and value >= 1000:
            return f"{value:.3g} PB"
        if value < 1000 or unit == "PB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
