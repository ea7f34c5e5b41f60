"""`nqa run`: train a spec file and write what was asked for.

In: the parsed command line and limits. Out: the text report on stdout (unless
`--quiet` or `--json -`), and where asked the JSON report, the weights
(`--save`), the loss curve (`--plot`) and the drawn network with its trained
weights (`--draw`), each written atomically; the exit code. An interrupted or
diverging run still writes them all, up to where it stopped — except that its
weights go beside the `--save` file (`out.partial.safetensors`), which keeps
the weights of the last run that finished. Every output is checked before
training: none may be the spec, its data file, the `--load` file or another output.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from compiler.layers.activations import ReLU
from spec_lang import codes, usage_error
from spec_lang.files import same_file

from .files import check_outputs, check_svg_name, spec_inputs, write_atomic
from .json_text import json_text
from .precision import refuse_off_gpu
from .progress import Bar, plain_lines
from .run_log import note
from .tensorboard_log import check_tensorboard
from .text_report import render_text
from .training import DataStopped, Run, TrainingInterrupted, TrainOptions, check_device, train

TOLERANCE = 1e-3  # --runs: a final loss below this has reached the target


def run_command(args, limits) -> int:
    from .distributed import world_size
    from .launch import check_nproc, launched

    if world_size() > 1:  # one worker of a torchrun world (or of `--nproc N`), silenced unless rank 0 (cli.py)
        check_nproc(args)  # inside a torchrun world, --nproc may only say its own size
        return _run_command(args, limits)
    code = launched(args, limits)
    return _run_command(args, limits) if code is None else code


def _run_command(args, limits) -> int:
    args.tolerance_given = args.tolerance is not None
    if args.runs is not None:
        args.tolerance = TOLERANCE if args.tolerance is None else args.tolerance
        return _many(args, limits)
    _options_first(args)
    program, checking = _prepare(args, limits)
    if program.sweep is not None:
        return _sweep(args, limits, program)
    _options_then(args)
    progress, every = _progress(args)
    options = TrainOptions(seed=args.seed, epochs=args.epochs, limits=limits,
                           allow_outside_data=args.allow_outside_data, progress=progress, every=every,
                           trace=frozenset(args.trace or ()), device=args.device,
                           load=Path(args.load) if args.load else None,
                           full_parameters=args.full_parameters, precision=args.precision or "fp32",
                           compile=args.compile, **_checkpointing(args))
    try:
        run = _counting_check(train(program, options=options), checking)
    except TrainingInterrupted as stop:
        _emit(_counting_check(stop.run, checking), args)
        print(f"nqa: {stop.run.report.stopped}; the report so far was written", file=sys.stderr)
        return stop.exit_code
    except DataStopped as stop:  # the report so far, then the located error (exit 2)
        if stop.run is not None:
            _emit(_counting_check(stop.run, checking), args)
        raise
    finally:
        if isinstance(progress, Bar):
            progress.close()
    _emit(run, args)
    if run.report.stopped:
        for diagnostic in run.report.diagnostics:
            if diagnostic.kind == "diverged":
                print(f"error[{codes.DIVERGED}]: {diagnostic.message}", file=sys.stderr)
        return 3
    return 0


def refused_before_launch(args, program) -> None:
    """What one run checks of its command line before training, checked by `--nproc N`'s launcher with the
    same functions before any worker starts (`program`: the spec checked without its data), so that a mistake
    is said once: the options, the outputs, and the --load weights and checkpoint folders, which a run reads
    only once training starts."""
    from .checkpoint import load_state
    from .resume import check_folders

    _options_first(args)
    _outputs_safe(args, program)
    _options_then(args)
    folders = _checkpointing(args)
    if folders["checkpoint_every"] is not None or folders["resume"] is not None:
        check_folders(folders["resume"], folders["checkpoint_dir"], program, args.load)
    if args.load:
        load_state(Path(args.load), program)


def _options_first(args) -> None:
    """The options checked before the spec is."""
    if args.tolerance is not None:
        raise usage_error("--tolerance applies only with --runs", "add --runs N, or leave out --tolerance",
                          code=codes.CONFLICTING_OPTIONS)
    _needs_matplotlib(args)
    check_tensorboard(args.tensorboard)


def _options_then(args) -> None:
    """The options checked once the spec is known not to be a sweep."""
    _not_a_sweep(args)
    check_svg_name("--draw", args.draw)
    _checkpointing(args)
    check_device(args.device, python=False)  # as `train` would, but naming the flags
    refuse_off_gpu(args, python=False)


def _prepare(args, limits):
    """The checked spec, once every output is known to be safe to write; and the seconds that took."""
    started = time.perf_counter()
    program = _program(args, limits)
    _outputs_safe(args, program)
    return program, time.perf_counter() - started


def _outputs_safe(args, program) -> None:
    """Refuse an output that is an input, another output, or a checkpoint of the run's folder."""
    from .checkpoint import partial_path

    check_outputs(_outputs(args), _inputs(args, program))
    _clear_of_checkpoints(args)
    if args.save:  # where a run that stops early writes: never over another output
        partial = partial_path(args.save)
        others = {flag: path for flag, path in _outputs(args).items() if flag != "--save" and path}
        check_outputs({"--save (weights of a stopped run)": partial, **others}, {})


def _program(args, limits):
    """The spec, checked as training needs it, with its warnings printed before anything runs."""
    from compiler import check

    from .cli import print_warnings

    program = check(Path(args.spec), filename=args.spec, limits=limits, require_data=True,
                    allow_outside=args.allow_outside_data)
    print_warnings(program)
    return program


def _clear_of_checkpoints(args) -> None:
    """Refuse an output that is, or would become, a file of the checkpoint folder (which the run reads and replaces)."""
    from spec_lang.files import same_file

    from .resume_files import checkpoint_files, is_checkpoint_name

    folders = {Path(folder) for folder in (args.resume, _checkpointing(args)["checkpoint_dir"]) if folder}
    for flag, path in _outputs(args).items():
        for folder in folders:
            taken = is_checkpoint_name(Path(path).name) and same_file(Path(path).parent, folder) if path else False
            if path and (taken or (folder.is_dir() and any(same_file(path, c) for _, c in checkpoint_files(folder)))):
                raise usage_error(f"{flag} `{path}` would write over a checkpoint of `{folder}`",
                                  f"give {flag} a path outside the checkpoint folder, or another name",
                                  code=codes.WOULD_OVERWRITE)


def _checkpointing(args) -> dict:
    """`--checkpoint-every`, `--checkpoint-dir` and `--resume` as `TrainOptions` takes them."""
    from .resume_rules import check_checkpointing, default_folder

    check_checkpointing(args, python=False)
    folder = args.checkpoint_dir
    if folder is None and args.checkpoint_every is not None and args.resume is None:
        folder = default_folder(args.spec, args.json)
    return {"checkpoint_every": args.checkpoint_every, "resume": Path(args.resume) if args.resume else None,
            "checkpoint_dir": Path(folder) if folder else None}


def _sweep(args, limits, program) -> int:
    from .sweep_command import sweep_command

    return sweep_command(args, limits, program)


def _not_a_sweep(args) -> None:
    if args.best:
        raise usage_error("--best applies only to a sweep: this spec has no `choice(...)`",
                          "give a setting several values to try, e.g. `optimizer sgd lr=choice(0.01, 0.1)`",
                          code=codes.CONFLICTING_OPTIONS)


def test_not_scored(program, how: str) -> None:
    """Say that the spec's `test` file is read but not scored by `--runs` or a sweep."""
    if program.test_table is not None:
        print(f"nqa: the `test` file is not scored {how}: train one seed with `nqa run SPEC` to score it "
              "(or score saved weights with `nqa evaluate`)", file=sys.stderr)


def _outputs(args) -> dict[str, str | None]:
    return {"--save": args.save, "--plot": args.plot, "--draw": args.draw,
            "--json": None if args.json == "-" else args.json, "--best": args.best}


def _inputs(args, program) -> dict[str, str | Path | None]:
    return {**spec_inputs(args.spec, program), "the --load file": args.load}


def _counting_check(run: Run, seconds: float) -> Run:
    """The run with checking the spec (done here, before training) in its compile time."""
    timing = run.report.timing
    if timing is not None:
        timing = timing.model_copy(update={"compile_seconds": timing.compile_seconds + seconds})
        run.report = run.report.model_copy(update={"timing": timing})
    return run


def _many(args, limits) -> int:
    from dataclasses import replace

    from .option_rules import seed as seed_rule
    from .resume_rules import given as checkpoint_flags
    from .runs import runs_fit, train_runs
    from .runs_report import render_runs, runs_report

    ignored = [flag for flag, value in (("--save", args.save), ("--load", args.load), ("--plot", args.plot),
                                        ("--draw", args.draw), ("--trace", args.trace),
                                        ("--log-every", args.log_every), ("--device", args.device != "cpu"),
                                        ("--precision", args.precision), ("--compile", args.compile),
                                        ("--full-parameters", args.full_parameters),
                                        ("--tensorboard", args.tensorboard),
                                        *((flag, True) for flag in checkpoint_flags(args)))
               if value]
    if ignored:
        raise usage_error(f"{', '.join(ignored)} cannot be used with --runs",
                          "train one seed with `nqa run SPEC --seed N` to save, load, plot, draw or trace it",
                          code=codes.CONFLICTING_OPTIONS)
    if not args.tolerance >= 0:
        raise usage_error(f"--tolerance must be a loss of at least 0, not {args.tolerance}", "e.g. --tolerance 0.001",
                          code=codes.BAD_OPTION_VALUE)
    if args.runs > limits.max_runs:
        raise usage_error(f"--runs {args.runs:,} is over the limit of {limits.max_runs:,}", "raise it with --max-runs",
                          code=codes.TOO_MANY_RUNS)
    program = _program(args, limits)
    if program.sweep is not None:
        return _sweep(args, limits, program)
    _not_a_sweep(args)
    test_not_scored(program, "with --runs")
    check_outputs({"--json": None if args.json == "-" else args.json}, spec_inputs(args.spec, program))
    if args.epochs is not None:  # checked as a single run's `--epochs` is
        program = replace(program, spec=program.spec.model_copy(update={"epochs": args.epochs}))
    first = program.spec.seed if args.seed is None else args.seed
    seed_rule(first, "--seed" if args.seed is not None else "the spec's `seed`", args.runs)
    runs_fit(program, args.runs, limits)
    start = time.perf_counter()
    result = train_runs(program, first, args.runs)
    timing = {"train_seconds": time.perf_counter() - start}
    report = runs_report(program, result, args.tolerance, timing)
    note(args, report, "runs")
    if args.json == "-":
        sys.stdout.write(json_text(report))
    else:
        if args.json:
            write_atomic(args.json, json_text(report))
        if not args.quiet:
            sys.stdout.write(render_runs(report, relu=any(isinstance(layer, ReLU) for layer in program.spec.flat()[0])))
    if result.stopped:
        print(f"nqa: {result.stopped}; the report so far was written", file=sys.stderr)
    return result.exit_code


def _progress(args):
    if args.log_every:
        return plain_lines(sys.stderr), args.log_every
    if sys.stderr.isatty() and not args.quiet and args.json != "-":
        return Bar(sys.stderr), None
    return None, 0


PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "webp", "tif", "tiff", "eps", "ps")


def _needs_matplotlib(args) -> None:
    needs_matplotlib(args.plot)


def needs_matplotlib(plot: str | None) -> None:
    """Refuse, before any work, a `--plot` name of no picture format, or a `--plot` without matplotlib."""
    suffix = Path(plot).suffix.lstrip(".").lower() if plot else ""
    if plot and suffix not in PLOT_FORMATS:
        raise usage_error(f"--plot cannot write a `.{suffix}` file" if suffix else
                          "--plot needs a file name ending in the picture format",
                          "end the name with " + ", ".join(f".{f}" for f in PLOT_FORMATS[:4]), code=codes.OUTPUT_NAME)
    if plot and importlib.util.find_spec("matplotlib") is None:
        raise usage_error("--plot needs matplotlib, which is not installed",
                          "install it with `pip install 'nqa[plot]'`", code=codes.MISSING_PACKAGE)


def _emit(run: Run, args) -> None:
    from .distributed import rank

    if rank() != 0:  # a distributed run's other workers write nothing
        return
    note(args, run.report)
    if args.save:
        _save(run, args)
    if args.plot:
        from .plot import plot_losses

        plot_losses(run.report, Path(args.plot))
    if args.tensorboard:
        from .tensorboard_log import write_events

        write_events(run.report, args.tensorboard)
    if args.draw:
        from compiler.draw import draw_network, draws_neurons

        from .drawing import drawn_weights

        spec = run.program.spec  # a block diagram draws no weights: none are gathered for it
        weights = drawn_weights(run.report.parameters.final) if draws_neurons(spec) else None
        write_atomic(args.draw, draw_network(spec, weights))
    if args.json == "-":
        sys.stdout.write(json_text(run.report))
        return
    if args.json:
        write_atomic(args.json, json_text(run.report))
    if not args.quiet:
        sys.stdout.write(render_text(run.report))


def _save(run: Run, args) -> None:
    """The weights at --save when the run finished; else beside it, leaving that file as it was."""
    from .checkpoint import partial_path, save_weights

    if not run.report.stopped:
        save_weights(Path(args.save), run.model, run.program, run.report.seed)
        return
    partial = partial_path(args.save)
    kept = (f"nqa: the run did not finish, so `{args.save}` keeps the weights it held" if Path(args.save).exists()
            else f"nqa: the run did not finish, so nothing was written to `{args.save}`")
    clash = [what for what, path in _inputs(args, run.program).items() if path and same_file(partial, path)]
    if clash:
        print(f"{kept}; the run's weights were not saved, as `{partial}` is {clash[0]}", file=sys.stderr)
        return
    save_weights(Path(partial), run.model, run.program, run.report.seed)
    print(f"{kept}; the run's weights so far are in `{partial}`", file=sys.stderr)
