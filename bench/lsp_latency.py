"""How long `nqa lsp` takes to answer a change: from sending `didChange` on a
200-line spec to receiving its `publishDiagnostics`, the median over many
changes (each one edit of one line, as typing makes them, waited for before
the next), against a baseline measured in the same run, in turn with them:
`check()` of the same texts in this process, which is what `nqa check` does
once it has started.

Run: `python bench/lsp_latency.py [--changes N]`. Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from compiler import check  # noqa: E402
from lsp_client import Client, span  # noqa: E402

LAYERS = 100  # `linear ->16` and `relu` each: 200 lines, and `input 8`


def spec(width: int) -> str:
    return f"input {width}\n" + "linear ->16\nrelu\n" * LAYERS


def measure(changes: int, folder: Path) -> tuple[list[float], list[float]]:
    """Each change timed through the server, then its text checked in this process: the two
    taken turn about, so that both see the same load on the machine."""
    check(spec(8))
    client = Client()
    try:
        client.initialize()
        uri = (folder / "bench.nqa").as_uri()
        client.open(uri, spec(8))
        client.diagnostics(uri, 1, timeout=120)
        served, checked = [], []
        for version in range(2, changes + 2):
            old, new = str(8 + (version - 1) % 7), str(8 + version % 7)  # `input 8` becomes `input 9`, ...
            started = time.perf_counter()
            client.change(uri, version, new, span((0, 6), (0, 6 + len(old))))
            client.diagnostics(uri, version, timeout=120)
            served.append(time.perf_counter() - started)
            text = spec(int(new))
            started = time.perf_counter()
            check(text)
            checked.append(time.perf_counter() - started)
        client.close()
        return served, checked
    finally:
        client.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        served_times, checked_times = measure(args.changes, Path(folder))
    served, checked = statistics.median(served_times) * 1000, statistics.median(checked_times) * 1000
    print(f"didChange -> publishDiagnostics, {2 * LAYERS}-line spec, median of {args.changes}: {served:.2f} ms")
    print(f"check() of the same texts in-process (baseline), median:          {checked:.2f} ms")
    print(f"ratio server / check(): {served / checked:.2f}")


if __name__ == "__main__":
    main()
