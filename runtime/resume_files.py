"""Checkpoint files: one safetensors file per checkpoint, in a folder of them.

In: a folder, a `State` (`resume_state`) and the run's identity (spec
fingerprint, seed, epochs, versions: strings). Out: `write_checkpoint`, which
writes `checkpoint-<epoch, 8 digits>.safetensors` atomically (a temporary file
renamed into place: a write that fails or is killed leaves the earlier files
as they were) and then deletes all but it and the run's one before it; and
`read_checkpoints`, which yields the folder's checkpoints newest first, each
read bounded, parsed without unpickling (safetensors holds only tensors; the
rest is JSON in its metadata) and checked against the sha256 of its tensors
and its metadata stored beside them, and its epoch against its name — or the
reason it is damaged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from spec_lang.files import read_bounded

from .files import write_atomic_with
from .resume_state import State
from .safetensors_file import save_sorted

FORMAT = "2"  # 2: the sha256 covers the metadata too
_NAME = re.compile(r"checkpoint-(\d{8})\.safetensors")


def checkpoint_name(epoch: int) -> str:
    return f"checkpoint-{epoch:08d}.safetensors"


def is_checkpoint_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def checkpoint_files(folder: Path) -> list[tuple[int, Path]]:
    """(epoch, path) of the folder's checkpoint files, newest first (temporary files left out)."""
    found = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if match:
            found.append((int(match[1]), path))
    return sorted(found, reverse=True)


def write_checkpoint(folder: Path, state: State, identity: dict[str, str], keep: int) -> Path:
    """The state as a checkpoint file (raises `OutputError` if it cannot be written); then every
    other checkpoint file in the folder is deleted but that of epoch `keep` (this run's last one)."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in state.all_tensors().items()}
    metadata = {**identity, "nqa_checkpoint": FORMAT, "epoch": str(state.epoch), "values": json.dumps(state.values)}
    metadata["sha256"] = checkpoint_digest(tensors, metadata)
    path = folder / checkpoint_name(state.epoch)
    write_atomic_with(path, lambda temp: save_sorted(tensors, temp, metadata))
    for epoch, old in checkpoint_files(folder):  # an earlier run's, or later ones a resumed run left behind
        if epoch not in (state.epoch, keep):
            old.unlink(missing_ok=True)
    return path


def checkpoint_digest(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> str:
    """sha256 over the metadata (but its own entry) and the tensors."""
    listed = json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True)
    return hashlib.sha256((listed + tensors_digest(tensors)).encode()).hexdigest()


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, type, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass
class Loaded:
    path: Path
    state: State
    metadata: dict[str, str]


class Damaged(Exception):
    """A checkpoint file that cannot be used; the message says why."""


def read_checkpoint(path: Path, limit: int) -> Loaded:
    """One checkpoint file, checked whole; `Damaged` if any part is missing or altered."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    from spec_lang.files import ReadProblem

    try:
        data = read_bounded(path, limit, "checkpoint file")
    except ReadProblem as problem:
        raise Damaged(problem.message) from None
    try:
        size = int.from_bytes(data[:8], "little")
        if len(data) < 8 or size > len(data) - 8:
            raise ValueError("it is cut short")
        metadata = json.loads(data[8:8 + size]).get("__metadata__") or {}
        tensors = load(data)
        if metadata.get("nqa_checkpoint") != FORMAT:
            raise ValueError("it is not a checkpoint nqa wrote")
        if checkpoint_digest(tensors, metadata) != metadata.get("sha256"):
            raise ValueError("its contents do not match their sha256: it was altered")
        if checkpoint_name(int(metadata["epoch"])) != path.name:
            raise ValueError(f"it holds epoch {metadata['epoch']}, not the one its name gives")
        state = State(int(metadata["epoch"]), tensors, json.loads(metadata["values"]))
    except (SafetensorError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise Damaged(str(err) or type(err).__name__) from None
    return Loaded(path, state, metadata)


def read_checkpoints(folder: Path, limit: int) -> Iterator[tuple[Path, Loaded | str]]:
    """Each checkpoint of the folder, newest first: its contents, or why it cannot be used."""
    for _, path in checkpoint_files(folder):
        try:
            yield path, read_checkpoint(path, limit)
        except Damaged as why:
            yield path, str(why)
