"""How big a spec may make things, so that no spec can exhaust the machine.

In: nothing (defaults) or the user's overrides (`--max-params` ...). Out: a
frozen `Limits`. The defaults fit a 24 GiB machine with a wide margin: the
largest network allowed, with its gradients and an optimizer's two buffers,
needs about 1.6 GB; the largest JSON report (`--trace`, `--full-parameters`),
about 300 MB. `memory_budget` (default a quarter of the machine's memory,
`parse_size` reads `500MB` or `2GiB`) decides when a data set is streamed
rather than read whole (`data_stream`): it, not `max_data_bytes` (1 GB) or
`max_examples` (100 million rows), is what keeps a data set within memory, as
a set is read whole only when reading it fits the budget (a CSV file takes
about eight times its size); past those two limits a set is streamed too.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

BYTES_PER_PARAMETER = 4  # float32
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """`"500MB"` -> 500_000_000, `"2GiB"` -> 2_147_483_648, `"1000"` -> 1000 (bytes); ValueError if not a size."""
    found = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in _UNITS:
        raise ValueError(f"expected a size such as 500MB or 2GiB, not {text!r}")
    size = int(float(found.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(f"expected a number of at least 1, not {text}")
    return size


def default_memory_budget() -> int:
    """A quarter of this machine's memory (2 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 2**31


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    max_width: int = Field(100_000, ge=1)
    max_params: int = Field(100_000_000, ge=1)
    max_layers: int = Field(1_000, ge=1)
    max_epochs: int = Field(1_000_000, ge=1)
    max_examples: int = Field(100_000_000, ge=1, description="training rows read whole: examples, and the rows of "
                                                             "a data set that is not streamed")
    max_activations: int = Field(100_000_000, ge=1)  # layer outputs one step holds: rows x values per example
    max_example_activations: int = Field(
        10_000_000, ge=1, description="the values one example makes: its input and every layer's output")
    max_data_bytes: int = Field(1_000_000_000, ge=1, description="bytes of a file read whole; a larger `data` set "
                                                                 "(CSV or Parquet) is streamed")
    max_runs: int = Field(100_000, ge=1)
    max_combinations: int = Field(256, ge=1, description="combinations a sweep may have: the product of the "
                                                         "numbers of values of its choices")
    max_trace_values: int = Field(
        10_000_000, ge=1, description="the values a JSON report may list: --trace records parameters x steps "
                                      "x kinds, --full-parameters 2 x parameters")
    memory_budget: int = Field(default_factory=default_memory_budget, ge=1, description=(
        "bytes a data set may take in memory: a CSV or Parquet set that reading whole would take more of, or "
        "larger than --max-data-bytes, is streamed in pieces instead of read whole"))

    @field_validator("memory_budget", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return parse_size(value) if isinstance(value, str) else value


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
