"""Shared test set-up: the `--update-goldens` flag and the golden-file fixture.

Reports hold floats that the last bits of a CPU's kernels decide (another
processor's SIMD width changes the sixth significant digit of a long run), so
report goldens compare their text exactly and their numbers within a relative
tolerance: `same_report(actual, expected)`. Error messages and help texts are
compared exactly.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def spec_files(folder: Path, deep: bool = False) -> list[Path]:
    """The .nqa files of `folder` (and its subfolders, `deep`), sorted: not the run log's `.nqa`
    folder, which `nqa run` makes beside a spec."""
    return sorted(p for p in (folder.rglob("*.nqa") if deep else folder.glob("*.nqa")) if p.is_file())
GOLDEN = Path(__file__).resolve().parent / "golden"

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
REPORT_TOLERANCE = 2e-3  # relative; a changed formula moves numbers far more than that


def same_report(actual: str, expected: str, tolerance: float = REPORT_TOLERANCE, absolute: float = 1e-6) -> bool:
    """The same text with every number equal within `tolerance` (relative) or `absolute`."""
    if actual == expected:
        return True
    if _NUMBER.split(actual) != _NUMBER.split(expected):
        return False
    pairs = zip(_NUMBER.findall(actual), _NUMBER.findall(expected), strict=False)
    return all(a == e or math.isclose(float(a), float(e), rel_tol=tolerance, abs_tol=absolute) for a, e in pairs)


def test_same_report_tells_a_changed_number_from_a_last_digit():
    assert same_report("loss 0.0265261 after 100 steps", "loss 0.0265255 after 100 steps")
    assert not same_report("loss 0.0265261 after 100 steps", "loss 0.0275261 after 100 steps")
    assert not same_report("loss 0.0265261 after 100 steps", "loss 0.0265261 after 101 steps ")
    assert not same_report("loss 0.0265261 after 100 steps", "loss 0.0265261 after 10 steps")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite tests/golden/ from the current output (read the diff before committing)")


class Golden:
    """Compares text with a file under tests/golden/, or rewrites it with --update-goldens."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, relative: str, actual: str, numbers_within: tuple[float, float] | None = None) -> None:
        path = GOLDEN / relative
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        expected = path.read_text(encoding="utf-8")
        if numbers_within is not None and same_report(actual, expected, *numbers_within):
            return
        assert actual == expected, f"output differs from {path}"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session", autouse=True)
def _no_run_log_in_the_repository(tmp_path_factory: pytest.TempPathFactory):
    """Runs started by fixtures wider than a test (a module's trained weights) log here, not to
    `.nqa/` beside the repository's specs: they are set up before a test's own folder is."""
    saved = os.environ.get("NQA_LOG_DIR")
    os.environ["NQA_LOG_DIR"] = str(tmp_path_factory.mktemp("run_log_shared"))
    yield
    if saved is None:
        os.environ.pop("NQA_LOG_DIR", None)
    else:
        os.environ["NQA_LOG_DIR"] = saved


@pytest.fixture(autouse=True)
def _run_log_elsewhere(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every `nqa run` of a test (and of the processes it starts, which inherit the
    environment) logs to a folder of its own, never to `.nqa/` in the repository."""
    folder = tmp_path_factory.mktemp("run_log")
    monkeypatch.setenv("NQA_LOG_DIR", str(folder))
    return folder
