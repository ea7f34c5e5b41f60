"""Checkpoints of a run while it trains, and resuming from them.

In: `TrainOptions`' `checkpoint_every`, `checkpoint_dir` and `resume`, the
checked program and the run's seed. Out: `keeper_of(...)`, a `Keeper` (None
when none of them is set) that the loop calls at its start (`begin`: on
`--resume`, the newest intact checkpoint of the folder is checked against
this run and put back, and the loop goes on from the epoch after it), after
every epoch (`after_epoch`: the state is copied, and written every N epochs)
and on Ctrl-C (`interrupted`: the last finished epoch's state is written, so
that resuming is exact). A checkpoint is refused, with what differs, when
its spec text, data, seed, epochs, device, torch or nqa version are not this
run's; a damaged newest checkpoint gives way to the one before it (said on
stderr). A checkpoint that cannot be written (a full disk) is said on stderr
and training goes on; the folder keeps the checkpoints it held.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from compiler import CheckedSpec, Program
from compiler.limits import BYTES_PER_PARAMETER
from compiler.stream_checks import refuse_streamed
from spec_lang import codes, usage_error

from .checkpoint import HEADER_LIMIT
from .distributed import rank
from .resume_files import Loaded, checkpoint_files, read_checkpoints, tensors_digest, write_checkpoint
from .resume_state import State, capture, restore
from .summary import Session

_TEMPORARY = re.compile(r"\.checkpoint-\d{8}\.safetensors\..*\.tmp")  # left by a write that was killed


def note(text: str) -> None:
    if rank() != 0:  # a distributed run: rank 0 speaks for every worker
        return
    print(f"nqa: {text}", file=sys.stderr, flush=True)


@dataclass
class Keeper:
    folder: Path  # where this run's checkpoints go
    every: int | None  # epochs between two checkpoints; None: as often as the run resumed wrote them
    identity: dict[str, str]
    resume: Path | None = None
    written: int = 0  # the epoch of this run's newest checkpoint in `folder` (0: none)
    last: State | None = field(default=None, repr=False)  # the state after the last finished epoch

    def begin(self, training: Session, step: Callable[[], None]) -> int:
        """The first epoch to train: 1, or the epoch after the checkpoint resumed from."""
        self.identity["data_sha256"] = tensors_digest(_data(training))
        self.identity["device"] = training.data.inputs.device.type
        for stale in self.folder.iterdir() if rank() == 0 else ():  # a distributed run: rank 0 alone writes
            if _TEMPORARY.fullmatch(stale.name):
                stale.unlink(missing_ok=True)
        if self.resume is None:
            return 1
        loaded = self._newest(training)
        _same_run(self.resume, loaded.metadata, self.identity)
        if self.every is None:
            self.every = int(loaded.metadata.get("checkpoint_every", "1"))
        restore(loaded.state, training, step)
        epoch = loaded.state.epoch
        note(f"resuming from `{loaded.path}`, after epoch {epoch} of {self.identity['epochs']}")
        if loaded.path.parent.resolve() == self.folder.resolve():
            self.written = epoch
        return epoch + 1

    def _newest(self, training: Session) -> Loaded:
        assert self.resume is not None
        limit = _read_limit(training)
        damaged = []
        for path, loaded in read_checkpoints(self.resume, limit):
            if isinstance(loaded, str):
                damaged.append(f"`{path}` is damaged ({loaded})")
                continue
            if damaged:
                note("; ".join(damaged) + f": resuming from the checkpoint before, `{path}`")
            return loaded
        if damaged:
            raise usage_error(f"cannot resume from `{self.resume}`: {'; '.join(damaged)}",
                              "start the run afresh without --resume", code=codes.CANNOT_RESUME)
        raise usage_error(f"cannot resume from `{self.resume}`: it holds no checkpoint",
                          "give the folder a run wrote with --checkpoint-every, or start afresh without --resume",
                          code=codes.CANNOT_RESUME)

    def after_epoch(self, epoch: int, training: Session, step: Callable[[], None]) -> None:
        self.last = capture(training, step, epoch)
        if epoch % (self.every or 1) == 0:
            self._write(self.last)

    def interrupted(self) -> None:
        """Ctrl-C: the state after the last finished epoch, written if it is not yet."""
        last = self.last
        if last is not None and last.epoch > self.written:
            if self._write(last):
                note(f"the checkpoint of epoch {last.epoch} is in `{self.folder}`; "
                     f"continue with --resume {self.folder}")
        elif self.written:
            note(f"the last checkpoint, of epoch {self.written}, is in `{self.folder}`; "
                 f"continue with --resume {self.folder}")
        else:
            note("no epoch finished, so no checkpoint was written")

    def _write(self, state: State) -> bool:
        if rank() != 0:  # a distributed run's checkpoint holds the global state, which rank 0 writes
            self.written = state.epoch
            return True
        try:
            identity = {**self.identity, "checkpoint_every": str(self.every)}
            write_checkpoint(self.folder, state, identity, keep=self.written)
        except OSError as err:  # a full disk, or the folder gone: the run goes on
            kept = (f"`{self.folder}` keeps the checkpoint of epoch {self.written}" if self.written
                    else f"`{self.folder}` holds no checkpoint of this run")
            note(f"the checkpoint of epoch {state.epoch} was not written ({err}); training goes on, and {kept}")
            return False
        self.written = state.epoch
        return True


def _data(training: Session) -> dict[str, torch.Tensor]:
    data = training.data
    held = {} if data.held_inputs is None else {"held_inputs": data.held_inputs, "held_targets": data.held_targets}
    return {name: t.cpu() for name, t in {"inputs": data.inputs, "targets": data.targets, **held}.items()
            if t is not None}


def _read_limit(training: Session) -> int:
    """The most bytes a checkpoint of this run can hold: a dozen copies of the network's values
    (weights, starting and best weights, the optimizer's buffers), its losses, and a header."""
    values = sum(t.numel() for t in training.model.state_dict().values())
    steps = training.checked.epochs * training.data.batches_per_epoch()
    return 12 * BYTES_PER_PARAMETER * values + 8 * (2 * steps + training.checked.epochs) + 2 * HEADER_LIMIT


def identity_of(program: Program, checked: CheckedSpec, seed: int) -> dict[str, str]:
    from . import version

    return {"spec": program.source, "spec_sha256": hashlib.sha256(program.source.encode()).hexdigest(),
            "seed": str(seed), "epochs": str(checked.epochs),
            "torch_version": torch.__version__, "nqa_version": version()}


_WORDS = {"seed": "seed {}", "epochs": "{} epochs", "device": "device {}", "torch_version": "torch {}",
          "nqa_version": "nqa {}"}


def _same_run(folder: Path, saved: dict[str, str], here: dict[str, str]) -> None:
    """Refuse a checkpoint of another run, saying each thing that differs."""
    differ = []
    if saved.get("spec_sha256") != here["spec_sha256"]:
        change = _first_change(saved.get("spec", ""), here["spec"])
        differ.append(f"the spec differs from the one it was trained on{change}")
    elif saved.get("data_sha256") != here["data_sha256"] and saved.get("seed") == here["seed"]:
        # (another seed holds other rows out with `validate`: the seed is then what differs)
        differ.append("the data differs from the rows it was trained on")
    for key, words in _WORDS.items():
        if saved.get(key) != here[key]:
            differ.append(f"it was trained with {words.format(saved.get(key))}, this run has {words.format(here[key])}")
    if differ:
        raise usage_error(f"cannot resume from `{folder}`: " + "; ".join(differ),
                          "resume with the spec, data, --seed, --epochs and --device the run began with, "
                          "or start afresh without --resume", code=codes.CANNOT_RESUME)


def _first_change(before: str, after: str) -> str:
    for number, (old, new) in enumerate(zip(before.splitlines() + [""], after.splitlines() + [""],
                                            strict=False), start=1):
        if old != new:
            return f" (line {number}: `{old.strip()}` there, `{new.strip()}` here)"
    return ""


def keeper_of(options, program: Program, checked: CheckedSpec, seed: int) -> Keeper | None:
    """The keeper `options` ask for, with its folders checked (None when they ask for none)."""
    if options.checkpoint_every is None and options.resume is None:
        return None
    refuse_streamed(program, "checkpoints (--checkpoint-every, --resume)",
                    "train without checkpoints, or raise --memory-budget to read the file whole")
    resume = Path(options.resume) if options.resume is not None else None
    folder = check_folders(resume, options.checkpoint_dir, program, options.load)
    _make_folder(folder)
    if resume is None and checkpoint_files(folder):
        note(f"`{folder}` holds checkpoints of an earlier run: this run starts afresh and replaces them "
             f"with its own (to continue that run instead, use --resume {folder})")
    return Keeper(folder, options.checkpoint_every, identity_of(program, checked, seed), resume)


def check_folders(resume: Path | None, checkpoint_dir, program: Program, load) -> Path:
    """The folder checkpoints go into, once it and the --resume folder are known to be usable; nothing made
    (also called by `--nproc N`'s launcher, before any worker starts)."""
    if resume is not None and not resume.is_dir():
        raise usage_error(f"cannot resume from `{resume}`: " + ("it is not a folder" if resume.exists()
                                                                else "there is no such folder"),
                          "give the folder of checkpoints a run wrote with --checkpoint-every",
                          code=codes.CANNOT_RESUME)
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else resume
    assert folder is not None  # TrainOptions asks for one or the other
    if folder.exists() and not folder.is_dir():
        raise usage_error(f"cannot write checkpoints into `{folder}`: it is not a folder",
                          "give --checkpoint-dir a folder, or a name for a new one", code=codes.CHECKPOINT_FOLDER)
    if folder.is_dir():  # a folder yet to be made holds none of the run's inputs
        _no_input_among(folder, program, load)
    return folder


def _no_input_among(folder: Path, program: Program, load) -> None:
    """Refuse a folder whose checkpoint files (which a run replaces) include one of the run's inputs."""
    from spec_lang.files import same_file

    from .files import spec_inputs

    inputs = {**spec_inputs(program.filename, program), "the --load file": load}
    for _, path in checkpoint_files(folder):
        for what, source in inputs.items():
            if source and same_file(path, source):
                raise usage_error(f"`{path}` is {what} of this run, but it lies in the checkpoint folder "
                                  f"`{folder}`, whose checkpoints a run replaces",
                                  "give --checkpoint-dir another folder, or move the file out of it",
                                  code=codes.WOULD_OVERWRITE)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise usage_error(f"cannot make the checkpoint folder `{folder}`: {err.strerror or err}",
                          "give --checkpoint-dir a folder whose parent exists", code=codes.CHECKPOINT_FOLDER) from None
