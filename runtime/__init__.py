"""Training and reporting: `train(spec) -> Run` (the trained model and its `Report`).

Importing this package is cheap: torch is loaded when `train` is first used,
so `nqa check` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Report", "Run", "TrainOptions", "TrainingInterrupted", "train"]


def version() -> str:
    """The installed nqa version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("nqa")
    except PackageNotFoundError:
        return "unknown"


def __getattr__(name: str) -> Any:
    if name in ("train", "Run", "TrainOptions", "TrainingInterrupted"):
        from . import training as module

        return getattr(module, name)
    if name == "Report":
        from .report import Report

        return Report
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
