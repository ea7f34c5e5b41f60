"""Which options go with checkpoints, checked in one place for the command line
(`--checkpoint-every`, `--checkpoint-dir`, `--resume`) and the library
(`TrainOptions(checkpoint_every=..., checkpoint_dir=..., resume=...)`).

In: the options (an argparse namespace or `TrainOptions`) and whether to name
them as Python does. Out: nothing, or a `SpecError` (no location) naming them
as the user wrote them. `default_folder(spec, json)` is where the command line
writes checkpoints when `--checkpoint-dir` is not given. Never imports torch.
"""

from __future__ import annotations

from pathlib import Path

from spec_lang import codes, usage_error

from . import option_rules as rules


def check_checkpointing(options, python: bool) -> None:
    """Refuse what a resumed run could not repeat exactly, or a folder option on its own."""
    def name(flag: str) -> str:
        return flag.removeprefix("--").replace("-", "_") if python else flag

    every, folder, resume = options.checkpoint_every, options.checkpoint_dir, options.resume
    if every is not None:
        rules.whole(every, name("--checkpoint-every"), least=1)
    for flag, value in (("--checkpoint-dir", folder), ("--resume", resume)):
        if value is not None and not isinstance(value, (str, Path)):
            raise usage_error(f"{name(flag)} must be a path, not {type(value).__name__}",
                              f"e.g. `{name(flag)}=Path('run.checkpoints')`", code=codes.BAD_ARGUMENT_TYPE)
    if every is None and resume is None:
        if folder is not None:
            raise usage_error(f"{name('--checkpoint-dir')} applies only with {name('--checkpoint-every')} "
                              f"or {name('--resume')}", f"add {_spelt(name('--checkpoint-every'), 10, python)}",
                              code=codes.CONFLICTING_OPTIONS)
        return
    if python and every is not None and folder is None and resume is None:
        raise usage_error("checkpoint_every needs a folder to write into: checkpoint_dir",
                          "e.g. `checkpoint_dir=Path('run.checkpoints')`", code=codes.MISSING_OPTION)
    if resume is not None and options.load is not None:
        raise usage_error(f"{name('--load')} cannot be used with {name('--resume')}: a resumed run goes on "
                          "from the weights of its checkpoint", f"leave out {name('--load')}",
                          code=codes.CONFLICTING_OPTIONS)
    if options.trace:
        raise usage_error(f"{name('--trace')} cannot be used with checkpoints: a resumed run would lose the "
                          "steps traced before it stopped",
                          f"trace a run without {name('--checkpoint-every')} and {name('--resume')}",
                          code=codes.CONFLICTING_OPTIONS)
    _no_gpu_options(options, name, python)


def _no_gpu_options(options, name, python: bool) -> None:
    """`--precision bf16|fp16` and `--compile`: a checkpoint records neither (nor fp16's grad scaler), so a
    resumed run could not go on as the run began."""
    precision, compiled = getattr(options, "precision", None) or "fp32", getattr(options, "compile", False)
    given = [_spelt(name("--precision"), precision, python)] if precision != "fp32" else []
    given += [f"`{name('--compile')}{'=True' if python else ''}`"] if compiled else []
    if given:
        raise usage_error(f"{' and '.join(given)} cannot be used with checkpoints: a checkpoint does not record "
                          "the precision, the compiled network or fp16's grad scaler, so a resumed run could not "
                          "go on as it began",
                          f"train without {name('--checkpoint-every')} and {name('--resume')}, or in fp32 "
                          f"without {name('--compile')}", code=codes.GPU_CHECKPOINT)


def default_folder(spec: str, json: str | None) -> Path:
    """Beside the `--json` report, named after it (`out.json` -> `out.checkpoints`); without one,
    beside the spec, named after it (`iris.nqa` -> `iris.checkpoints`)."""
    beside = Path(json) if json and json != "-" else Path(spec)
    return beside.parent / f"{beside.stem}.checkpoints"


def _spelt(name: str, value: object, python: bool) -> str:
    return f"`{name}={value!r}`" if python else f"`{name} {value}`"


FLAGS = ("--checkpoint-every", "--checkpoint-dir", "--resume")


def given(args) -> list[str]:
    """The checkpoint options given on a command line."""
    return [flag for flag in FLAGS if getattr(args, flag.removeprefix("--").replace("-", "_"), None) is not None]
