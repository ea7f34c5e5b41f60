"""`normalize` written wrong: `nqa check` refuses it with exit 2, no traceback, and the
message drawn at its place; and checking a spec with `normalize` never imports torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT
from runtime.cli import main

DATA = "a,b,y\n1,2,0\n3,4,1\n"

TWICE = """\
error[E0324]: inputs are normalised twice: by `normalize` and by `data`'s `normalize=`
 --> bad.nqa:3:1
  |
2 | data "d.csv" target=y normalize=minmax
  |                       ---------------- and here
3 | normalize
  | ^^^^^^^^^ asked here
  = hint: keep one of them: the statement, or the option on `data`
"""

NO_ROWS = """\
error[E0325]: `normalize` has no training rows to take its statistics from
 --> bad.nqa:2:1
  |
2 | normalize
  | ^^^^^^^^^ nothing to normalise by
  = hint: add a `data` file or `example` rows: each input's statistics come from the training rows
"""

IDS = """\
error[E0326]: `normalize` cannot scale token ids: the first layer, `embedding 10->2`, takes whole-number ids
 --> bad.nqa:4:1
  |
1 | embedding 10->2
  | --------------- takes ids 0 to 9
...
4 | normalize
  | ^^^^^^^^^ scales the inputs
  = hint: leave out `normalize`: an `embedding` learns the scale of each id itself
"""

# (the spec, the whole of what `nqa check` prints, or its first line and where it points)
CASES = [
    ('linear 2->2\ndata "d.csv" target=y normalize=minmax\nnormalize\nloss cross_entropy\n', TWICE),
    ("linear 2->1\nnormalize\n", NO_ROWS),
    ("embedding 10->2\nflatten\nlinear ->1\nnormalize\nexample [1, 2] -> [1]\n", IDS),
    ('linear 2->1\ndata "d.csv" target=y normalize=zscore\n',
     "error[E0109]: unknown normalisation `zscore`\n --> bad.nqa:2:23"),
    ("linear 2->1\nnormalize zscore\nexample [1, 2] -> [1]\n",
     "error[E0104]: unknown word `zscore` in `normalize`\n --> bad.nqa:2:11"),
    ("linear 2->1\nnormalize minmax standard\nexample [1, 2] -> [1]\n",
     "error[E0105]: `method` is set twice in `normalize`\n --> bad.nqa:2:18"),
    ("linear 2->1\nnormalize 3\nexample [1, 2] -> [1]\n",
     "error[E0104]: unexpected argument `3` to `normalize`\n --> bad.nqa:2:11"),
    ("linear 2->1\nstandardize\nexample [1, 2] -> [1]\n",
     "error[E0101]: unknown statement `standardize`\n --> bad.nqa:2:1"),
]


@pytest.mark.parametrize(("spec", "shown"), CASES, ids=lambda v: v.splitlines()[1][:30] if "\n" in v else v)
def test_normalize_written_wrong_is_refused_at_its_place(spec, shown, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(DATA)
    (tmp_path / "bad.nqa").write_text(spec)
    assert main(["check", "bad.nqa"]) == 2
    err = capsys.readouterr().err
    assert err == shown if "= hint" in shown else err.startswith(shown)
    assert "Traceback" not in err


def test_the_hints_say_what_to_write(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.nqa").write_text("linear 2->1\nnormalize zscore\nexample [1, 2] -> [1]\n")
    assert main(["check", "bad.nqa"]) == 2
    assert "= hint: `normalize` takes the words `standard`, `minmax`" in capsys.readouterr().err


def test_the_statement_and_the_option_check_alike_and_without_torch():
    code = ("import sys; from pathlib import Path; from compiler import check; "
            "a = check(Path('specs/examples/wine.nqa')).spec; "
            "b = check('linear 13->3\\ndata \"wine.csv\" target=cultivar normalize=standard\\nloss cross_entropy\\n',"
            " folder=Path('specs/examples')).spec; "
            "assert a.normalize == b.normalize == 'standard', (a.normalize, b.normalize); "
            "assert check('linear 1->1\\nexample [1] -> [1]\\n').spec.normalize is None; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
