"""Every benchmark, each against its baseline measured in the same run.

In: nothing (`python bench/run.py [--quick]`; `--only-runs` for the two
`--runs` figures alone, `--only-sweep` for the sweeps'). Out: a table of
medians and ratios, with the date, the machine (cores) and the torch version,
as the README carries it. Targets: training loop <= 0.7x the tutorial's;
`--runs 1000` >= 300x faster than 1000 hand-written runs; `--runs 100` of a
small conv net (the generic path, `torch.func`) faster than 100 single runs one
after another; a sweep of 8 learning rates x 10 seeds >= 20x faster than its 80
runs one after another; parse + check + compile <= 30 us/line for a 10-line
spec and <= 50 us/line for 10,000 lines; `nqa check` cold start <= 0.15x
`python -c "import torch"`.
"""

from __future__ import annotations

import datetime
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import torch  # noqa: E402

from compiler import check, compile_spec  # noqa: E402
from guide_loops import guide_run  # noqa: E402
from runtime import train  # noqa: E402
from runtime.runs import train_runs  # noqa: E402
from runtime.sweep_report import SweepReport, sweep_report  # noqa: E402
from runtime.sweep_run import train_sweep  # noqa: E402
from spec_lang import parse  # noqa: E402

QUICK = "--quick" in sys.argv
REPEATS = 3 if QUICK else 7


def median_of(measure, repeats: int = REPEATS) -> float:
    return statistics.median(measure() for _ in range(repeats))


def training_loop(stage: int, spec: str, steps: int) -> tuple[float, float, float, float]:
    """(nqa loop seconds, tutorial loop seconds as written, ratio to it, ratio to the
    tutorial loop without its prints). The three are timed in turn within each
    repeat and the ratios are medians of each repeat's, so that a slow spell of
    this machine slows both sides of a ratio; short runs get more repeats."""
    program = check(ROOT / "specs" / spec)
    repeats = REPEATS if steps > 1000 else 3 * REPEATS
    samples = []
    for _ in range(repeats):
        ours = train(program, seed=1, epochs=steps).report.timing.train_seconds
        theirs = guide_run(stage, 1, steps)[0]
        quiet = guide_run(stage, 1, steps, printing=False)[0]
        samples.append((ours, theirs, ours / theirs, ours / quiet))
    return tuple(statistics.median(column) for column in zip(*samples, strict=True))


def many_runs(count: int) -> tuple[float, float, float]:
    """(--runs seconds, sequential hand-written seconds, largest final-parameter difference)."""
    program = check(ROOT / "specs/mlp.nqa")
    start = time.perf_counter()
    nets = [guide_run(7, seed, printing=False)[2] for seed in range(count)]
    sequential = time.perf_counter() - start
    vectorised = median_of(lambda: _timed(lambda: train_runs(program, 0, count)), 3)
    result = train_runs(program, 0, count)
    worst = max((torch.cat([p.detach().flatten() for p in net.parameters()]) - result.final[n]).abs().max().item()
                for n, net in enumerate(nets))
    return vectorised, sequential, worst


CONV_NET = ("input 1x8x8\nconv2d ->4 kernel=3\nrelu\nmax_pool2d 2\nflatten\nlinear ->3\nloss cross_entropy\n"
            "optimizer adam lr=0.01\nepochs 20\nbatch 16\nshuffle\ndata \"d.csv\" shape=1x8x8\n")


def generic_runs(count: int) -> tuple[float, float, float]:
    """(--runs seconds, seconds for `count` single runs one after another, median ratio) for
    a small conv net (which takes the generic path, `torch.func`) on 64 rows of 1x8x8 in
    shuffled batches of 16, 20 epochs. The two are timed in turn within each repeat, and the
    ratio is the median of each repeat's, so that a slow spell of this machine slows both
    sides of it."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "d.csv").write_text("".join(
            ",".join(f"{((i * 37 + j * 11) % 23) / 11.5 - 1:.3f}" for j in range(64)) + f",{i % 3}\n"
            for i in range(64)))
        (Path(folder) / "conv.nqa").write_text(CONV_NET)
        program = check(Path(folder) / "conv.nqa")
    train_runs(program, 0, 2)  # torch.func's first call in a process sets itself up
    train(program, seed=0)
    samples = []
    for _ in range(3):
        ours = _timed(lambda: train_runs(program, 0, count))
        theirs = _timed(lambda: [train(program, seed=seed) for seed in range(count)])
        samples.append((ours, theirs, theirs / ours))
    return tuple(statistics.median(column) for column in zip(*samples, strict=True))


def digits_epoch() -> tuple[float, float, float]:
    """(nqa seconds, hand-written seconds, median ratio) for one epoch of `specs/examples/digits.nqa`
    (1,437 rows in shuffled batches of 64, then the held-out pass), against the same model, batches
    and shuffling written by hand (bench/reference_nets.py). nqa's figure is its report's
    training time: building the model and reading the data are left out on both sides."""
    import reference_nets as ref

    program = check(ROOT / "specs/examples/digits.nqa")
    x, y = ref.load_digits()
    criterion = torch.nn.CrossEntropyLoss()

    def by_hand() -> float:
        run = ref.start(ref.digits_net, x, y, ref.DIGITS)
        began = time.perf_counter()
        ref.train_epoch(run, criterion)
        run.model.eval()
        with torch.no_grad():
            criterion(run.model(run.held_inputs), run.held_targets).item()
        return time.perf_counter() - began

    samples = []
    for _ in range(REPEATS):
        ours = train(program, epochs=1).report.timing.train_seconds
        theirs = by_hand()
        samples.append((ours, theirs, ours / theirs))
    return tuple(statistics.median(column) for column in zip(*samples, strict=True))


def digits_runs(count: int) -> tuple[float, float, float]:
    """(--runs seconds, seconds for `count` single runs, ratio) of `specs/examples/digits.nqa`
    for one epoch (23 steps), through torch.func against single runs one after another."""
    program = check(ROOT / "specs/examples/digits.nqa")
    program = replace(program, spec=program.spec.model_copy(update={"epochs": 1}))
    train_runs(program, 0, 2)  # torch.func's first call in a process sets itself up
    ours = _timed(lambda: train_runs(program, 0, count))
    theirs = _timed(lambda: [train(program, seed=seed) for seed in range(count)])
    return ours, theirs, theirs / ours


RATES = "choice(0.001, 0.002, 0.003, 0.005, 0.007, 0.01, 0.015, 0.02)"


def sweep_runs(spec: str, old: str, seeds: int, epochs: int | None = None) -> tuple[float, float, float, float]:
    """(sweep seconds, seconds for its runs one after another, median ratio, largest difference of a final
    loss) for `spec` with its `old` learning rate replaced by 8 to try, `seeds` seeds each. Both sides
    are timed whole, from the spec's text: the sweep checks its 8 combinations, trains them and builds
    its report; each single run checks its own spec (the sweep's, with the rate written in), trains
    and builds its report. Timed in turn within each repeat, so that a slow spell slows both sides."""
    import re
    import shutil
    import tempfile

    from compiler.sweep import filled

    text = (ROOT / spec).read_text().replace(old, f"lr={RATES}")
    text = re.sub(r"epochs \d+", f"epochs {epochs}", text) if epochs is not None else text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sweep.nqa"
        path.write_text(text)
        for data in (ROOT / spec).parent.glob("*.csv"):
            shutil.copy(data, folder)
        program = check(path)
        assert program.sweep is not None
        singles = [Path(folder) / f"c{n}.nqa" for n in range(len(program.sweep.combinations))]
        for single, combination in zip(singles, program.sweep.combinations, strict=True):
            single.write_text(filled(text, program.sweep.choices, combination.picks, program.source))

        def ours() -> SweepReport:
            swept = check(path)
            return sweep_report(swept, train_sweep(swept, 0, seeds), 0, seeds, torch.__version__, {})

        def theirs() -> list[list[float | None]]:
            return [[train(single, seed=seed).report.final_loss for seed in range(seeds)] for single in singles]

        samples = []
        for _ in range(3 if not QUICK else 1):
            a, b = _timed(ours), _timed(theirs)
            samples.append((a, b, b / a))
        report, finals = ours(), theirs()
    worst = max(abs(run.final_loss - (finals[entry.combination][run.seed] or math.nan))
                for entry in report.each for run in entry.runs if run.final_loss is not None)
    a, b, ratio = (statistics.median(column) for column in zip(*samples, strict=True))
    return a, b, ratio, worst


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def front_end(text: str) -> float:
    """Seconds to parse, check and compile `text` into an `nn.Sequential`: the median
    over repeats of the mean over enough calls to fill 50 ms (one call of a small
    spec is too short to time alone)."""
    compile_spec(check(text))  # the tables and models are built once per process
    calls = max(1, round(0.05 / _timed(lambda: compile_spec(check(text)))))

    def batch() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            compile_spec(check(text))
        return (time.perf_counter() - start) / calls

    return median_of(batch)


def generated_spec(lines: int) -> str:
    """A tenth layers (up to 900), then settings, then rows like the tutorial's:
    `example [x1, x2] -> [y]`."""
    layers = min(lines // 10, 900)
    body = ["input 2"] + ["linear ->2" if i % 2 == 0 else "relu" for i in range(layers)]
    body += ["optimizer sgd lr=0.01 momentum=0.9", "loss mse", "epochs 10"]
    while len(body) < lines:
        body.append(f"example [{len(body) % 7}, -1.25] -> [{len(body) % 3 / 2}]")
    return "\n".join(body[:lines]) + "\n"


def cold_start() -> tuple[float, float, float]:
    """Whole processes, in turn within each repeat: (nqa seconds, torch seconds,
    median ratio). nqa's modules are byte-compiled first, as an installed package's are."""
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(ROOT / p) for p in ("spec_lang", "compiler", "runtime"))], check=True)
    nqa = str(Path(sys.executable).with_name("nqa"))
    specs = sorted(str(p) for p in (ROOT / "specs").glob("*.nqa"))

    def process(argv) -> float:
        return _timed(lambda: subprocess.run(argv, check=True, capture_output=True))

    process([nqa, "check", *specs])  # the first start after a grammar change stores the parser's tables
    samples = []
    for _ in range(REPEATS):
        ours, theirs = process([nqa, "check", *specs]), process([sys.executable, "-c", "import torch"])
        samples.append((ours, theirs, ours / theirs))
    return tuple(statistics.median(column) for column in zip(*samples, strict=True))


def main() -> None:
    rows = []
    for stage, spec, steps in ((1, "neuron.nqa", 100), (7, "mlp.nqa", 100),
                               (7, "mlp.nqa", 10_000 if not QUICK else 2_000)):
        ours, theirs, ratio, quiet_ratio = training_loop(stage, spec, steps)
        rows.append((f"training loop, stage {stage}, {steps:,} steps", f"{ours * 1e3:.2f} ms",
                     f"{theirs * 1e3:.2f} ms", f"{ratio:.2f}x", "<= 0.7x",
                     f"{quiet_ratio:.2f}x vs the loop without its prints"))
    count = 1000 if not QUICK else 200
    ours, theirs, worst = many_runs(count)
    rows.append((f"--runs {count}, stage 7, 100 steps, init included", f"{ours * 1e3:.0f} ms",
                 f"{theirs * 1e3:.0f} ms", f"{theirs / ours:.0f}x faster", ">= 300x",
                 f"largest final-parameter difference {worst:.1e}"))
    ours, theirs, ratio = generic_runs(100)
    rows.append(("--runs 100 through torch.func, small conv net, 80 steps", f"{ours * 1e3:.0f} ms",
                 f"{theirs * 1e3:.0f} ms", f"{ratio:.1f}x faster", "> 1x",
                 "baseline: 100 single nqa runs one after another"))
    ours, theirs, ratio = digits_epoch()
    rows.append(("one epoch of digits.nqa (conv net, 23 steps + held-out pass)", f"{ours * 1e3:.0f} ms",
                 f"{theirs * 1e3:.0f} ms", f"{ratio:.2f}x", "<= 1.0x (aim 0.8x)",
                 "baseline: the same model, batches and shuffling written by hand"))
    ours, theirs, ratio, worst = sweep_runs("specs/mlp.nqa", "lr=0.01", 10)
    rows.append(("sweep of 8 learning rates x 10 seeds, stage 7, 100 steps", f"{ours * 1e3:.0f} ms",
                 f"{theirs * 1e3:.0f} ms", f"{ratio:.0f}x faster", ">= 20x",
                 f"baseline: its 80 runs one after another; largest final-loss difference {worst:.1e}"))
    ours, theirs, ratio, worst = sweep_runs("specs/examples/iris.nqa", "lr=0.01", 10, 10)
    rows.append(("sweep of 8 learning rates x 10 seeds, iris.nqa, 10 epochs", f"{ours:.1f} s", f"{theirs:.1f} s",
                 f"{ratio:.1f}x faster", "", ("Adam, shuffled batches, held-out fifth; largest final-loss "
                                              f"difference {worst:.1e}")))
    count = 100 if not QUICK else 20
    ours, theirs, ratio = digits_runs(count)
    rows.append((f"--runs {count} of digits.nqa, one epoch", f"{ours:.1f} s", f"{theirs:.1f} s",
                 f"{ratio:.1f}x faster", ">= 10x", f"baseline: {count} single nqa runs one after another"))
    for text, target, what in (((ROOT / "specs/mlp.nqa").read_text(), "<= 30 us/line", "specs/mlp.nqa"),
                               (generated_spec(10_000), "<= 50 us/line", "generated: 900 layers, then rows")):
        seconds, lines, statements = front_end(text), text.count("\n"), len(parse(text).statements)
        rows.append((f"parse + check + compile, {lines:,} lines", f"{seconds / lines * 1e6:.1f} us/line", "", "",
                     target, (f"{what}: {seconds * 1e3:.2f} ms, {seconds / statements * 1e6:.1f} us "
                              f"per statement ({statements:,})")))
    ours, theirs, ratio = cold_start()
    rows.append(("cold start: nqa check specs/*.nqa", f"{ours * 1e3:.0f} ms", f"{theirs * 1e3:.0f} ms",
                 f"{ratio:.2f}x", "<= 0.15x", "baseline: python -c 'import torch'"))
    print(f"{datetime.date.today()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"medians of {REPEATS} repeats")
    header = ("benchmark", "nqa", "baseline", "ratio", "target", "note")
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    if "--only-digits" in sys.argv:  # the two digits figures alone
        print("one epoch of digits.nqa: nqa {:.0f} ms, by hand {:.0f} ms, {:.2f}x".format(*tuple(
            v * f for v, f in zip(digits_epoch(), (1e3, 1e3, 1), strict=True))))
        print("--runs 100 of digits.nqa, one epoch: {:.1f} s, 100 single runs {:.1f} s, {:.1f}x faster".format(
            *digits_runs(100)))
    elif "--only-sweep" in sys.argv:  # the sweeps' figures alone
        for spec, epochs in (("specs/mlp.nqa", None), ("specs/examples/iris.nqa", 10)):
            ours, theirs, ratio, worst = sweep_runs(spec, "lr=0.01", 10, epochs)
            print(f"sweep of 8 learning rates x 10 seeds, {spec}: {ours * 1e3:.0f} ms, its 80 runs one after "
                  f"another {theirs * 1e3:.0f} ms, {ratio:.1f}x faster (median of each repeat's ratio), "
                  f"largest final-loss difference {worst:.1e}")
    elif "--only-runs" in sys.argv:  # the two --runs figures alone
        ours, theirs, worst = many_runs(1000)
        print(f"--runs 1000, stage 7: {ours * 1e3:.0f} ms, 1000 hand-written runs {theirs * 1e3:.0f} ms, "
              f"{theirs / ours:.0f}x faster, largest difference {worst:.1e}")
        ours, theirs, ratio = generic_runs(100)
        print(f"--runs 100 through torch.func: {ours * 1e3:.0f} ms, 100 single runs {theirs * 1e3:.0f} ms, "
              f"{ratio:.1f}x faster (median of each repeat's ratio)")
    else:
        main()
