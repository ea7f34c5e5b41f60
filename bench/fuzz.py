"""Long fuzz campaign: `python bench/fuzz.py [CASES]` (default 100,000).

In: the same hostile-spec strategies as tests/test_fuzz.py. Out: how many
cases ran, how many escaped (anything but acceptance or a located SpecError),
and the first few escapes. Exits 1 if any escaped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from spec_strategies import hostile_specs, verdict  # noqa: E402


def campaign(cases: int) -> tuple[int, list[tuple[str, str]]]:
    ran, escaped = 0, []

    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(hostile_specs)
    def one(text: str) -> None:
        nonlocal ran
        ran += 1
        problem = verdict(text)
        if problem:
            escaped.append((text, problem))

    one()
    return ran, escaped


def main() -> int:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    start = time.perf_counter()
    ran, escaped = campaign(cases)
    seconds = time.perf_counter() - start
    print(f"fuzz: {ran:,} cases in {seconds:.0f} s, {len(escaped)} escaped")
    for text, problem in escaped[:5]:
        print(f"  {problem}\n    input: {text[:200]!r}")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
