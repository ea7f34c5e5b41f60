"""The explanation pages, run: every page's wrong spec gets exactly its code and the message the
page shows, and its fixed spec passes; `nqa explain` as a user sees it; docs/errors.md in sync.

In: spec_lang/explanations/CODE.md (the form is in spec_lang/explain.py) and the registry,
spec_lang/codes.py. Each example is written into a folder of its own (`wrong.nqa` or
`fixed.nqa` and its files) and its commands are run there through the command line's `main`.
`pytest tests/test_explain.py --update-goldens` rewrites each page's message block from what
the command prints now, and docs/errors.md from the pages: read the diff.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import check
from conftest import ROOT
from runtime.cli import main
from spec_lang import SpecError
from spec_lang.codes import CODES, UNREPRODUCIBLE
from spec_lang.explain import PAGES, Example, PageError, errors_markdown, page, page_codes, parse_page, terminal_text

ERRORS_DOC = ROOT / "docs/errors.md"
_HEADER = re.compile(r"^(?:nqa: )?(?:error|warning)\[([EW][0-9]{4})\]: ", re.M)  # `nqa: `: a refusal of the parser


def _written(example: Example, folder: Path, name: str) -> Path:
    folder.mkdir()
    (folder / name).write_text(example.spec, encoding="utf-8")
    for file, data in example.files:
        (folder / file).write_bytes(data)
    for file in example.read_only:
        (folder / file).chmod(0o444)
    return folder


def _run(command: str, capsys) -> tuple[int, str, str]:
    """`nqa ...` as typed at a prompt: its exit code, stdout and stderr. A command line the
    argument parser refuses leaves `main` as a `SystemExit`, whose code is the exit code."""
    words = shlex.split(command)
    assert words[0] == "nqa"
    try:
        code = main(words[1:])
    except SystemExit as refused:
        assert isinstance(refused.code, int), f"`{command}` exits with {refused.code!r}"
        code = refused.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _python(program: str, where: str) -> SpecError | None:
    """A page's ```python block, run as a script in the working folder: the `SpecError` it raises, or None."""
    try:
        exec(compile(program, where, "exec"), {"__name__": "__main__"})
    except SpecError as err:
        return err
    return None


def _codes(name: str) -> tuple[set[str], set[str]]:
    """The codes of the errors and of the warnings that checking `name` gives, as `nqa check` checks it."""
    try:
        program = check(Path(name), filename=name)
    except SpecError as err:
        return {d.code for d in err.diagnostics if d.severity == "error"}, set()
    return set(), {d.code for d in program.warnings}


def _with_message(text: str, message: str) -> str:
    """A page's text with its message block (the ```text block under `## Wrong`) replaced."""
    head, wrong = text.split("\n## Wrong\n", 1)
    before, after = wrong.split("```text\n", 1)
    return f"{head}\n## Wrong\n{before}```text\n{message}{after[after.index('```'):]}"


@pytest.mark.parametrize("code", page_codes())
def test_the_wrong_spec_gets_exactly_its_code_and_the_message_shown(code, tmp_path, monkeypatch, capsys, request):
    shown = page(code)
    assert shown is not None
    monkeypatch.chdir(_written(shown.wrong, tmp_path / "wrong", "wrong.nqa"))
    raised, done, last = None, None, "its ```python block"
    if shown.wrong.python is not None:
        raised = _python(shown.wrong.python, f"{code}.md")
        assert raised is not None, f"{code}.md: {last} raises no SpecError"
        err = f"{raised}\n"
    else:
        *before, last = shown.wrong.commands
        for command in before:
            done, _, err = _run(command, capsys)
            assert done == 0, f"{code}.md: `{command}` failed:\n{err}"
        done, _, err = _run(last, capsys)
    if request.config.getoption("--update-goldens") and err != shown.message:
        path = PAGES / f"{code}.md"
        path.write_text(_with_message(shown.text, err), encoding="utf-8")
        shown = page(code)
        assert shown is not None
    assert err == shown.message, f"{code}.md: `{last}` prints another message"
    if raised is not None:
        errors = {d.code for d in raised.diagnostics if d.severity == "error"}
        warnings = {d.code for d in raised.diagnostics if d.severity == "warning"}
    elif last == "nqa check wrong.nqa":
        errors, warnings = _codes("wrong.nqa")
    else:
        found = set(_HEADER.findall(err))
        errors, warnings = {c for c in found if c[0] == "E"}, {c for c in found if c[0] == "W"}
    if code.startswith("W"):
        assert done == 0
        assert errors == set()
        assert code in warnings
    else:
        # 2 a mistake, 3 a run that diverged; None: the Python raised the error
        assert done not in (0, 1), f"{code}.md: `{last}` exits {done}"
        assert errors == {code}


@pytest.mark.parametrize("code", page_codes())
def test_the_fixed_spec_passes_without_the_code(code, tmp_path, monkeypatch, capsys):
    shown = page(code)
    assert shown is not None
    monkeypatch.chdir(_written(shown.fixed, tmp_path / "fixed", "fixed.nqa"))
    if shown.fixed.python is not None:
        raised = _python(shown.fixed.python, f"{code}.md")
        assert raised is None, f"{code}.md: its ```python block raises:\n{raised}"
        assert f"[{code}]" not in capsys.readouterr().err
    for command in shown.fixed.commands:
        done, _, err = _run(command, capsys)
        assert done == 0, f"{code}.md: `{command}` failed:\n{err}"
        assert f"[{code}]" not in err
    if shown.fixed.commands == ("nqa check fixed.nqa",):
        errors, warnings = _codes("fixed.nqa")
        assert errors == set()
        assert code not in warnings


# --- the pages and the registry ----------------------------------------------------------

def test_every_code_in_the_registry_has_a_page():
    assert sorted(set(CODES) - set(page_codes()) - set(UNREPRODUCIBLE)) == []


def test_a_code_no_example_can_show_is_explained_by_its_title_and_why(capsys):
    assert main(["explain", "E0915"]) == 0
    assert capsys.readouterr().out == (
        "E0915: a spec that changed while it was trained\n\n"
        "No example of it can be run: the spec file must change while a sweep trains, between its check and its end.\n")


def test_every_page_is_of_a_code_in_the_registry_with_its_title():
    assert sorted(set(page_codes()) - set(CODES)) == []
    for code in page_codes():
        shown = page(code)
        assert shown is not None
        assert shown.title == CODES[code].title, f"{code}.md: the title differs from the registry's"


def test_only_pages_sit_among_the_pages():
    assert sorted(p.name for p in PAGES.iterdir()) == [f"{code}.md" for code in page_codes()]


@pytest.mark.parametrize("text, says", [
    ("# E0201 title\n", "the first line must be `# E0201: <title>`"),
    ("# E0201: t\n## Wrong\n```nqa\nlinear 2->1\n```\n```text\nerror\n```\n", "needs a `## Wrong` and a `## Fixed`"),
    ("# E0201: t\n## Wrong\n```nqa\nlinear 2->1\n", "E0201.md:3: this block is not closed"),
    ("# E0201: t\n```nqa\nx\n```\n", "E0201.md:2: a block opens with"),
    ("# E0201: t\n## Wrong\n```ruby\nx\n```\n", "E0201.md:3: a block opens with"),
    ("# E0201: t\n## Wrong\n```text read-only\nx\n```\n", "E0201.md:3: a block opens with"),
    ("# E0201: t\n## Wrong\n```nqa readonly\nx\n```\n", "E0201.md:3: a block opens with"),
    ("# E0201: t\n## Fixed\n```nqa\nx\n```\n", "E0201.md:2: expected `## Wrong`, then `## Fixed`"),
    ("# E0201: t\n## Wrong\n## Fixed\n## Wrong\n", "E0201.md:4: expected `## Wrong`, then `## Fixed`"),
    ("# E0201: t\n## Wrong\n```nqa\nx\n```\n## Fixed\n```nqa\ny\n```\n", "a ```text block, the message"),
    (("# E0201: t\n## Wrong\n```nqa\nx\n```\n```console\n$ nqa run wrong.nqa\n```\n```text\ne\n```\n"
     "## Fixed\n```nqa\ny\n```\n"), "give a ```console block in both sections, or in neither"),
    (("# E0201: t\n## Wrong\n```nqa\nx\n```\n```text\ne\n```\n"
     "## Fixed\n```nqa\ny\n```\n```python\nimport runtime\n```\n"), "give a ```python block in both sections"),
    (("# E0201: t\n## Wrong\n```nqa\nx\n```\n```python\nx\n```\n```console\n$ nqa run wrong.nqa\n```\n"
     "```text\ne\n```\n## Fixed\n```nqa\ny\n```\n"), "at most one ```text and one ```console or ```python"),
])
def test_a_page_out_of_form_is_refused_saying_where(text, says):
    with pytest.raises(PageError, match=re.escape(says)):
        parse_page(text, "E0201")


def test_read_only_files_are_named_and_a_fixed_file_in_their_place_is_writable():
    wrong = ("# E0917: t\n## Wrong\n```nqa read-only\nx\n```\n```csv file=a.csv read-only\n1\n```\n"
             "```csv file=b.csv read-only\n2\n```\n```text\ne\n```\n## Fixed\n```nqa\ny\n```\n")
    shown = parse_page(wrong + "```csv file=b.csv\n3\n```\n", "E0917")
    assert shown.wrong.read_only == ("a.csv", "b.csv", "wrong.nqa")
    assert shown.fixed.read_only == ("a.csv",)
    assert dict(shown.fixed.files) == {"a.csv": b"1\n", "b.csv": b"3\n"}


# --- `nqa explain` as a user sees it --------------------------------------------------------

def test_explain_prints_the_page_as_plain_text(capsys):
    assert main(["explain", "e0201"]) == 0
    out = capsys.readouterr().out
    shown = page("E0201")
    assert shown is not None
    lines = out.splitlines()
    assert lines[0] == f"E0201: {CODES['E0201'].title}"
    assert lines[1] == "=" * len(lines[0])
    assert "Wrong\n-----\n" in out and "Fixed\n-----\n" in out
    assert "```" not in out
    assert "".join(f"    {line}\n" for line in shown.wrong.spec.splitlines()) in out
    assert "".join(f"    {line}".rstrip() + "\n" for line in shown.message.splitlines()) in out
    assert out == terminal_text(shown)


def test_explain_without_a_code_lists_every_code_with_its_title(capsys):
    assert main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split("  ", 1) for line in lines[:len(CODES)]]
    assert [code for code, _ in listed] == sorted(CODES)
    assert [title.strip() for _, title in listed] == [CODES[code].title for code in sorted(CODES)]
    assert lines[len(CODES):] == ["", "`nqa explain CODE` explains one, e.g. `nqa explain E0201`."]


def test_an_unknown_code_is_a_usage_error_with_the_closest_code(capsys):
    assert main(["explain", "e201"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error[E0901]: there is no error code `e201`\n  = hint: did you mean `E0201`?\n"
    assert main(["explain", "nonsense"]) == 2
    assert capsys.readouterr().err == ("error[E0901]: there is no error code `nonsense`\n"
                                       "  = hint: `nqa explain` lists every code\n")


def test_a_code_pasted_with_blanks_around_it_is_explained_and_a_long_wrong_one_is_not_echoed_whole(capsys):
    assert main(["explain", " e0201\n"]) == 0
    assert capsys.readouterr().out.startswith("E0201: a layer expects another width")
    assert main(["explain", "E" * 10_000]) == 2
    assert capsys.readouterr().err == ("error[E0901]: there is no error code `" + "E" * 27 + "..." + "E" * 10
                                       + "`\n  = hint: `nqa explain` lists every code\n")


def test_explain_never_imports_torch():
    program = ("import sys; from runtime.cli import main; "
               "rc = main(['explain', 'E0201']) + main(['explain']) + main(['explain', 'E9']); "
               "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("E0201: ")
    assert done.stderr.startswith("error[E0901]: there is no error code `E9`")


# --- docs/errors.md -------------------------------------------------------------------------

def test_the_errors_doc_is_made_from_the_pages(request):
    made = errors_markdown({code: info.title for code, info in sorted(CODES.items())})
    if request.config.getoption("--update-goldens"):
        ERRORS_DOC.write_text(made, encoding="utf-8")
    assert ERRORS_DOC.read_text(encoding="utf-8") == made, "docs/errors.md is out of date: pytest --update-goldens"
    for code in page_codes():
        assert f'<a id="{code.lower()}"></a>\n\n## {code}: ' in made


def test_explain_spells_out_the_characters_a_terminal_would_act_on(capsys):
    """W0001's wrong spec holds a right-to-left override: the page shows it as its messages do."""
    shown = page("W0001")
    assert shown is not None and "\u202e" in shown.wrong.spec
    assert main(["explain", "W0001"]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out
    assert "    linear 2->1  # \\u202e hidden\n" in out
