"""Reading a `data "file.npz"` statement's arrays, without torch.

In: the `Data` settings, the file's resolved path, the limits and the ids the
network's first layer takes (None when it takes floats). Out: a `Table` whose
inputs and targets are the two arrays themselves, flattened row-major: an
array's first dimension counts the rows and the rest is one example's shape
(`shape=` may reshape the inputs to another shape of as many values). Or a
`DataProblem` that `check` places at the `data` statement, naming the array
and, for a bad value, its index as NumPy writes it (`x[3, 0, 2]`).

NumPy is imported here, when an .npz file is read, and never loads pickled
objects. The file's bytes are read bounded by --max-data-bytes, and so is the
size each array declares once uncompressed, before it is read.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from typing import Any

from spec_lang import codes

from .csv_layout import DataProblem
from .data_ids import Ids
from .data_table import Table
from .limits import Limits
from .messages import plural
from .settings import FLOAT32_HINT, Data

DEFAULT_INPUTS, DEFAULT_TARGET = "x", "y"
FLOAT32_MAX = 3.4028234663852886e38
_SAVE_HINT = 'save the arrays with NumPy: `np.savez("data.npz", x=inputs, y=targets)`'
_BAD = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)


def load_npz(data: Data, raw: bytes, limits: Limits, ids: Ids | None, need_targets: bool = True) -> Table:
    """The file's inputs and targets; without `need_targets`, a file with no target array has no targets."""
    written = data.path
    for option in ("header", "delimiter"):
        if option in data.model_fields_set:
            raise DataProblem(f"`{option}=` is for CSV files, not for `{written}`", f"leave out `{option}=`",
                              "not a CSV option", option, code=codes.OPTION_FOR_FORMAT)
    if not raw.startswith(b"PK"):
        raise DataProblem(f"`{written}` is not an .npz file (a zip archive of NumPy arrays)", _SAVE_HINT,
                          "not an .npz file", code=codes.DATA_UNREADABLE)
    import numpy as np

    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except _BAD as err:
        raise DataProblem(f"cannot read `{written}`: {_reason(err)}", _SAVE_HINT, "not an .npz file",
                          code=codes.DATA_UNREADABLE) from None
    with archive:
        x_name = _name(data, "inputs", DEFAULT_INPUTS, archive.files)
        if not need_targets and _target_name(data) not in archive.files:
            return _inputs_only(data, archive, x_name, limits, ids)
        y_name = _name(data, "target", DEFAULT_TARGET, archive.files)
        size = (_checked_size(archive, written, x_name, _field(data, "inputs"))
                + _checked_size(archive, written, y_name, _field(data, "target"), target=True))
        if size > limits.max_data_bytes:
            raise DataProblem(f"the arrays `{x_name}` and `{y_name}` of `{written}` hold {size:,} bytes once "
                              f"uncompressed, over the limit of {limits.max_data_bytes:,}",
                              "use a smaller file, or raise the limit with --max-data-bytes", "too large",
                              code=codes.FILE_TOO_LARGE)
        x = _array(archive, written, x_name, _field(data, "inputs"))
        y = _array(archive, written, y_name, _field(data, "target"))
    if len(x) != len(y):
        raise DataProblem(f"`{written}` has {plural(len(x), 'row')} in `{x_name}` but {len(y)} in `{y_name}`",
                          "give the inputs and the targets one row each per example", "rows differ",
                          code=codes.ROW_COUNT_MISMATCH)
    example = x.shape[1:]
    if data.shape is not None and math.prod(data.shape) != math.prod(example):
        raise DataProblem(f"`shape={'x'.join(map(str, data.shape))}` holds {plural(math.prod(data.shape), 'value')}, "
                          f"but a row of `{x_name}` in `{written}` holds {math.prod(example)} "
                          f"({list(example) or 'one value'})",
                          "give a shape of as many values as a row holds, or leave out `shape=`", "wrong count",
                          "shape", code=codes.DATA_SHAPE_MISMATCH)
    _check_values(written, x_name, x, ids)
    _check_values(written, y_name, y, None)
    shape = data.shape or (example or (1,))
    return Table(written, x.reshape(-1), y.reshape(-1), (x_name,), (y_name,), input_shape=tuple(shape),
                 target_shape=tuple(y.shape[1:]), shaped=data.shape is not None or len(example) > 1)


def _target_name(data: Data) -> str:
    return data.target[0] if data.target and len(data.target) == 1 else DEFAULT_TARGET


def _inputs_only(data: Data, archive: Any, x_name: str, limits: Limits, ids: Ids | None) -> Table:
    """The inputs of a file without targets (to predict from)."""
    written = data.path
    size = _checked_size(archive, written, x_name, _field(data, "inputs"))
    if size > limits.max_data_bytes:
        raise DataProblem(f"the array `{x_name}` of `{written}` holds {size:,} bytes once uncompressed, over the "
                          f"limit of {limits.max_data_bytes:,}", "use a smaller file, or raise the limit with "
                          "--max-data-bytes", "too large", code=codes.FILE_TOO_LARGE)
    x = _array(archive, written, x_name, _field(data, "inputs"))
    _check_values(written, x_name, x, ids)
    example = x.shape[1:]
    shape = data.shape if data.shape is not None and math.prod(data.shape) == math.prod(example) else (
        example or (1,))
    import numpy as np

    return Table(written, x.reshape(-1), np.zeros(0), (x_name,), (), input_shape=tuple(shape), target_shape=(0,),
                 shaped=data.shape is not None or len(example) > 1)


def _field(data: Data, option: str) -> str:
    """The option to underline for an array: `inputs=`/`target=` when written, else the file name."""
    return option if option in data.model_fields_set else "path"


def _reason(err: BaseException) -> str:
    return "it is not a valid .npz file" if isinstance(err, (zipfile.BadZipFile, zlib.error, EOFError)) else (
        f"it is not a valid .npz file ({str(err)[:80]})")


def _name(data: Data, field: str, default: str, names: list[str]) -> str:
    """The array an option names (one), or the default name; a located problem when the file has no such array."""
    given: tuple[str, ...] | None = getattr(data, field)
    if given is not None and len(given) != 1:
        raise DataProblem(f"`{field}=` names {len(given)} arrays, but an .npz file's {field} are one array",
                          f"name one array, e.g. `{field}={given[0]}`", "one array", field,
                          code=codes.OPTION_FOR_FORMAT)
    name = given[0] if given else default
    if name in names:
        return name
    held = ", ".join(f"`{n}`" for n in names[:10]) + (", ..." if len(names) > 10 else "") if names else "none"
    how = "name it" if given else f"name the arrays with `inputs=` and `target=` (by default `{default}`)"
    raise DataProblem(f"`{data.path}` has no array `{name}`", f"its arrays are {held}: {how}",
                      f"no array `{name}`", field if given else "path", code=codes.UNKNOWN_COLUMN)


def _checked_size(archive: Any, written: str, name: str, field: str, target: bool = False) -> int:
    """The bytes the array `name` holds uncompressed, once its header shows a numeric dtype and rows."""
    from numpy.lib import format as npy

    try:
        with archive.zip.open(_member(archive, name)) as stream:
            version = npy.read_magic(stream)
            reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = reader(stream)
    except _BAD as err:
        raise DataProblem(f"cannot read array `{name}` of `{written}`: {_reason(err)}", _SAVE_HINT,
                          f"array `{name}`", field, code=codes.DATA_UNREADABLE) from None
    where = f"array `{name}` of `{written}`"
    if dtype.kind not in "biuf":
        what = "Python objects, which are never loaded (that would run pickle)" if dtype.hasobject else (
            f"values of type {dtype.name}, not numbers")
        hint = "store class indices as integers from 0" if dtype.kind in "USO" and target else _SAVE_HINT
        raise DataProblem(f"{where} holds {what}", hint, f"array `{name}`", field, code=codes.BAD_DATA_VALUE)
    if not shape:
        raise DataProblem(f"{where} is a single value, not rows", "the first dimension of an array counts the rows",
                          f"array `{name}`", field, code=codes.DATA_EMPTY)
    if shape[0] == 0:
        raise DataProblem(f"{where} has no rows", "give it at least one row", f"array `{name}`", field,
                          code=codes.DATA_EMPTY)
    return math.prod(shape) * dtype.itemsize


def _member(archive: Any, name: str) -> str:
    return name + ".npy" if name + ".npy" in archive.zip.namelist() else name


def _array(archive: Any, written: str, name: str, field: str) -> Any:
    """The array `name`, contiguous and in this machine's byte order (its header was checked first)."""
    import numpy as np

    try:
        array = archive[name]
    except _BAD as err:
        raise DataProblem(f"cannot read array `{name}` of `{written}`: {_reason(err)}", _SAVE_HINT,
                          f"array `{name}`", field, code=codes.DATA_UNREADABLE) from None
    if not array.dtype.isnative:  # saved on a machine of the other byte order: torch takes native ones only
        array = array.astype(array.dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


def _check_values(written: str, name: str, array: Any, ids: Ids | None) -> None:
    """Every value finite and within float32; or, for ids, a whole number in range."""
    import numpy as np

    if ids is not None:
        bad = _first(_not_ids(array, ids))
        if bad is not None:
            value = array[bad].item()
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            raise DataProblem(f"`{written}`, {_index(name, bad)}: {ids.problem(value, shown)}", ids.hint,
                              f"array `{name}`", code=codes.BAD_TOKEN_ID)
        return
    if array.dtype.kind != "f":
        return  # integers fit float32's range
    bad = _first(~np.isfinite(array))
    if bad is not None:
        raise DataProblem(f"`{written}`, {_index(name, bad)}: {array[bad].item()} is not a finite number",
                          "every value must be a finite number", f"array `{name}`", code=codes.BAD_DATA_VALUE)
    with np.errstate(over="ignore"):  # float16's own overflow while comparing: not the user's business
        bad = _first(np.abs(array) > FLOAT32_MAX)
    if bad is not None:
        raise DataProblem(f"`{written}`, {_index(name, bad)}: {array[bad].item():g} is too large for float32",
                          FLOAT32_HINT, f"array `{name}`", code=codes.DATA_VALUE_TOO_LARGE)


def _not_ids(array: Any, ids: Ids) -> Any:
    import numpy as np

    wrong = array < 0
    if ids.count is not None:
        wrong |= array >= ids.count
    if array.dtype.kind == "f":
        wrong |= ~np.isfinite(array) | (np.floor(array) != array)
    return wrong


def _first(mask: Any) -> tuple[int, ...] | None:
    import numpy as np

    if not mask.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _index(name: str, at: tuple[int, ...]) -> str:
    return f"`{name}[{', '.join(map(str, at))}]`"
