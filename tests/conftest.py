"""Shared test set-up: the `--update-goldens` flag and the golden-file fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite tests/golden/ from the current output (read the diff before committing)")


class Golden:
    """Compares text with a file under tests/golden/, or rewrites it with --update-goldens."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-goldens"))
