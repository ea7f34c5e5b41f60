"""Writes the data files of the image, sequence, token and wine examples, the same bytes on every run.

In: nothing (`python specs/examples/make_data.py [digits|sine|tokens|wine ...]`; all four when none
is named). Out, next to this script:

- `digits.csv`: the 1,797 handwritten digits of scikit-learn's `load_digits`, one 8x8 image a
  row. Columns `p0`..`p63` are the pixels row by row (top-left first), each an integer 0..16
  (the count of set pixels in a 4x4 block of the 32x32 original); `digit` is the class, 0..9.
  Source: the "Optical Recognition of Handwritten Digits" data set of the UCI Machine Learning
  Repository (E. Alpaydin and C. Kaynak, 1998; https://doi.org/10.24432/C50P49), licensed
  CC BY 4.0; scikit-learn ships its test part (BSD-3-Clause) as `sklearn/datasets/data/digits.csv.gz`.
  Only this part needs scikit-learn, which the project does not depend on: install it apart,
  e.g. `python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn numpy`, then run
  `/tmp/skl/bin/python specs/examples/make_data.py`.
- `sine.npz`: 1,500 windows of a noisy sine wave, made up here. Key `x` (float32, [1500, 20, 1])
  holds 20 steps of `sin(2 pi t / period + phase) + noise`, with a period of 6 to 30 steps, a
  phase in [0, 2 pi) and an amplitude of 0.5 to 1 drawn for each row, and noise of standard
  deviation 0.02 on every step; key `y` (float32, [1500, 1]) is the noiseless next step (t = 20).
  The noise is small next to the spread of the targets: predicting the clean value from the
  20 noisy steps is learnable to a mean squared error well under 0.01.
- `tokens.csv`: 2,000 rows of 10 token ids in 0..49 (`t0`..`t9`) and a `label`: 1 when token 7
  occurs in the row, else 0. Half the rows (chosen at random) have the label 1 and hold
  token 7 one to three times at random places; the other tokens are drawn uniformly from
  the 49 others. Made up here.
- `wine.csv`: the 178 wines of the UCI "Wine" data set (S. Aeberhard and M. Forina; from PARVUS, Genoa; UCI
  Machine Learning Repository, 1991, https://doi.org/10.24432/C5PC7J, licensed CC BY 4.0), as
  scikit-learn ships it (`sklearn/datasets/data/wine_data.csv`, read here as a file: scikit-learn
  itself is not imported, only found). 13 chemical measurements of wines grown in one region of
  Italy, each cell copied as written there, and the `cultivar` the wine came from, written as its
  name: the UCI classes 1, 2 and 3 (59, 71 and 48 wines) are Barolo, Grignolino and Barbera.
  Rows stay in the source's order (by cultivar). Needs scikit-learn installed apart, as the digits do.

The sine and token rows come from NumPy generators seeded with fixed numbers, and the `.npz`
archive is written with fixed member dates, so running this twice gives identical files.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

SINE_ROWS, SINE_STEPS, SINE_NOISE = 1500, 20, 0.02
TOKEN_ROWS, TOKEN_WIDTH, VOCABULARY, MARKER = 2000, 10, 50, 7


def write_digits(path: Path) -> None:
    from sklearn.datasets import load_digits  # only here: the other files need no scikit-learn

    digits = load_digits()
    pixels = digits.data.astype(np.int64)
    assert pixels.shape == (1797, 64) and pixels.min() == 0 and pixels.max() == 16
    assert (pixels == digits.data).all()  # whole numbers in the source too
    lines = [",".join([*(f"p{i}" for i in range(64)), "digit"])]
    lines += [",".join(str(int(v)) for v in (*row, label)) for row, label in zip(pixels, digits.target, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii", newline="\n")


def sine_windows(rows: int = SINE_ROWS, steps: int = SINE_STEPS, seed: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    period = rng.uniform(6.0, 30.0, size=(rows, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(rows, 1))
    amplitude = rng.uniform(0.5, 1.0, size=(rows, 1))
    t = np.arange(steps + 1, dtype=np.float64)[None, :]
    clean = amplitude * np.sin(2 * np.pi * t / period + phase)
    noisy = clean[:, :steps] + rng.normal(0.0, SINE_NOISE, size=(rows, steps))
    x = noisy.astype(np.float32)[:, :, None]
    y = clean[:, steps:].astype(np.float32)
    return x, y


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """`np.savez_compressed`, but with a fixed date on each member, so the bytes repeat."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, buffer.getvalue(), compresslevel=9)


def token_rows(rows: int = TOKEN_ROWS, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.zeros(rows, dtype=np.int64)
    labels[rng.permutation(rows)[: rows // 2]] = 1
    others = np.array([v for v in range(VOCABULARY) if v != MARKER])
    tokens = others[rng.integers(0, len(others), size=(rows, TOKEN_WIDTH))]
    for row in np.flatnonzero(labels):
        places = rng.choice(TOKEN_WIDTH, size=rng.integers(1, 4), replace=False)
        tokens[row, places] = MARKER
    assert ((tokens == MARKER).any(axis=1) == labels.astype(bool)).all()
    return tokens, labels


def write_tokens(path: Path) -> None:
    tokens, labels = token_rows()
    lines = [",".join([*(f"t{i}" for i in range(TOKEN_WIDTH)), "label"])]
    lines += [",".join(str(int(v)) for v in (*row, label)) for row, label in zip(tokens, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii", newline="\n")


WINE_COLUMNS = ("alcohol", "malic_acid", "ash", "ash_alcalinity", "magnesium", "total_phenols", "flavanoids",
                "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315", "proline")
CULTIVARS = ("barolo", "grignolino", "barbera")  # UCI classes 1, 2, 3; scikit-learn's 0, 1, 2


def wine_source() -> Path:
    """scikit-learn's copy of the UCI wine data: found where scikit-learn is installed, without importing it."""
    import importlib.util

    found = importlib.util.find_spec("sklearn")
    if found is None or not found.submodule_search_locations:
        sys.exit("make_data: the wine data is read from scikit-learn's copy: install scikit-learn apart")
    return Path(next(iter(found.submodule_search_locations))) / "datasets" / "data" / "wine_data.csv"


def write_wine(path: Path) -> None:
    rows = wine_source().read_text(encoding="ascii").split()
    count, width, *classes = rows[0].split(",")
    assert (int(count), int(width), classes) == (178, 13, ["class_0", "class_1", "class_2"]), rows[0]
    lines = [",".join([*WINE_COLUMNS, "cultivar"])]
    for row in rows[1:]:
        *cells, label = row.split(",")
        assert len(cells) == len(WINE_COLUMNS) and all(float(cell) >= 0 for cell in cells), row
        lines.append(",".join([*cells, CULTIVARS[int(label)]]))
    assert len(lines) == 179
    path.write_text("\n".join(lines) + "\n", encoding="ascii", newline="\n")


def main(names: list[str]) -> None:
    makers = {"digits": lambda: write_digits(HERE / "digits.csv"),
              "sine": lambda: write_npz(HERE / "sine.npz", **dict(zip("xy", sine_windows(), strict=True))),
              "tokens": lambda: write_tokens(HERE / "tokens.csv"),
              "wine": lambda: write_wine(HERE / "wine.csv")}
    unknown = [name for name in names if name not in makers]
    if unknown:
        sys.exit(f"make_data: unknown data set {', '.join(unknown)}; choose from {', '.join(makers)}")
    for name in names or list(makers):
        makers[name]()
        print(f"wrote {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
