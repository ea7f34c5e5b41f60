"""Small specs for tests: rows of examples, a spec with its rows moved into a data
file (shaped inputs come only from data files), and a spec around each registered layer.

In: sizes and spec text. Out: spec text, or the path of a spec written with its `d.csv`.
"""

from __future__ import annotations


def rows(values: int, count: int, classes: int = 0, ids: int = 0) -> str:
    """`count` example rows of `values` inputs each (whole ids below `ids` when given), targets in [0, 1)
    or class indices below `classes`."""
    def value(i: int, j: int) -> str:
        return str((i * 7 + j * 3) % ids) if ids else f"{((i * 37 + j * 11) % 23) / 11.5 - 1:.3f}"

    return "".join(f"example [{', '.join(value(i, j) for j in range(values))}] -> "
                   f"[{i % classes if classes else (i % 4) / 4}]\n" for i in range(count))


def with_data(folder, text: str, name: str = "spec.nqa"):
    """The spec written to `folder` with its example rows moved to `d.csv`, read in the shape of its `input`
    (shaped inputs come only from data files); the spec's path."""
    lines = text.splitlines()
    shape = next(line.split()[1] for line in lines if line.startswith("input "))
    rows = [line.removeprefix("example ").replace(" -> ", ",") for line in lines if line.startswith("example ")]
    (folder / "d.csv").write_text("".join(row.replace("[", "").replace("]", "").replace(" ", "") + "\n"
                                          for row in rows))
    spec = folder / name
    spec.write_text("".join(line + "\n" for line in lines if not line.startswith("example "))
                    + f'data "d.csv" shape={shape}\n')
    return spec


# a spec around each registered layer: (layers, input values a row); a layer that needs more than a vector
# of floats names its own
AROUND_LAYER = {
    "linear": ("input 4\nlinear ->2\n{layer}\nlinear ->1\n", 4),  # its example reads 2
    "conv2d": ("input 1x6x6\n{layer}\nflatten\nlinear ->1\n", 36),
    "max_pool2d": ("input 1x6x6\n{layer}\nflatten\nlinear ->1\n", 36),
    "avg_pool2d": ("input 1x6x6\n{layer}\nflatten\nlinear ->1\n", 36),
    "conv1d": ("input 1x8\n{layer}\nflatten\nlinear ->1\n", 8),
    "max_pool1d": ("input 1x8\n{layer}\nflatten\nlinear ->1\n", 8),
    "avg_pool1d": ("input 1x8\n{layer}\nflatten\nlinear ->1\n", 8),
    "global_avg_pool": ("input 2x3x3\n{layer}\nlinear ->1\n", 18),
    "flatten": ("input 2x3\n{layer}\nlinear ->1\n", 6),
    "lstm": ("input 3x8\n{layer}\nlinear ->1\n", 24),  # its example reads 8 features
    "gru": ("input 3x8\n{layer}\nlinear ->1\n", 24),
    "embedding": ("input 5\n{layer}\nflatten\nlinear ->1\n", 5),  # ids: whole numbers below 50
}
REFUSED = {"dropout"}  # a random layer: its masks cannot follow each single run's


def layer_spec(cls) -> str:
    statement = getattr(cls, "example", "") or cls.keyword
    template, values = AROUND_LAYER.get(cls.keyword, ("input 4\nlinear ->4\n{layer}\nlinear ->1\n", 4))
    examples = rows(values, 4, ids=50 if cls.takes_ids else 0)
    return template.format(layer=statement) + "batch 2\nepochs 3\n" + examples
