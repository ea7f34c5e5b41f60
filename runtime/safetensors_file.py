"""Writing a safetensors file whose bytes depend on its contents alone.

In: the tensors, the metadata and the path of the file to write (a temporary
file, renamed into place by `files.write_atomic_with`). Out: the file, as
`safetensors.torch.save_file` writes it, with its JSON header's keys sorted:
safetensors keeps them in a hash map, so the same weights and metadata came
out in another order each run, and a checksum of the same run's weights
differed. The header is rewritten in place, at the same length (the same
keys and values, written as compactly), so the tensors' bytes are not moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def save_sorted(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    save_file(tensors, path, metadata=metadata)
    with open(path, "r+b") as file:
        size = int.from_bytes(file.read(8), "little")
        written = file.read(size)
        header = json.loads(written)
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        text += b" " * (size - len(text))  # safetensors pads its header with blanks to a multiple of 8
        if len(text) == size:  # else: left as safetensors wrote it (valid, in its own order)
            file.seek(8)
            file.write(text)
