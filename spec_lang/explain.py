"""The explanation of each error code: one Markdown page per code, shipped in `spec_lang/explanations/`.

In: a code (`E0201`; any case). Out: `page(code)`, the parsed `Page` (None when none is
written), `terminal_text(page)` as `nqa explain` prints it, and `errors_markdown()`,
every page in one document (docs/errors.md). Torch-free; reads only the package's files.

A page has one fixed form, which tests/test_explain.py runs for every page:

    # E0201: <the title the registry gives the code>

    What the code means and why (any Markdown; no fenced block).

    ## Wrong

    ```nqa                    the spec, written as `wrong.nqa`
    ```csv file=rows.csv      a file beside it (any number of them, any language word; with
                              the word `base64`, the file's bytes in base64: a weights file)
    ```console                optional: `$ nqa ...` lines, run in that folder in order, every
                              one but the last succeeding (without it: `$ nqa check wrong.nqa`)
    ```python                 optional, instead of ```console: Python run as a script in that
                              folder, which raises the `SpecError` (a mistake in calling the library)
    ```text                   what the last command prints on stderr, exactly; after ```python,
                              `str()` of the `SpecError` raised, and a line end

    ## Fixed

    ```nqa                    the fixed spec, written as `fixed.nqa` beside the same files
    ```csv file=rows.csv      a file replacing (or added to) the wrong example's
    ```console                its commands, all succeeding: required when the wrong example has some
    ```python                 its Python, raising nothing: required when the wrong example has some

The spec's block and a file block may end with the word `read-only` (```nqa read-only,
```csv file=rows.csv read-only): that file is written without write permission (mode 0444),
which holds for root too where nqa reads the mode bits (`nqa fmt`); a file block replacing
it in `## Fixed` is written as its own fence says. `nqa explain` shows no fences, so the
prose says which file is read-only, and what a ```python block is run with.

Prose may stand between the blocks; it is shown as written.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import visible

PAGES = Path(__file__).with_name("explanations")
_TITLE = re.compile(r"# ([EW][0-9]{4}): (\S.*)")
_FENCE = re.compile(r"```([a-z0-9]+)(?: file=([A-Za-z0-9_.-]+))?( read-only)?")
_RUNS = ("console", "python")  # the blocks that say how an example is run
_CODE = re.compile(r"[EW][0-9]{4}")


@dataclass(frozen=True, slots=True)
class Example:
    """A spec, the files beside it, and the commands (or the Python) that are run on them."""

    spec: str
    files: tuple[tuple[str, bytes], ...]  # (file name, its bytes)
    commands: tuple[str, ...]  # each as typed after `$ `, starting `nqa `; none with `python`
    python: str | None = None  # a script run instead of commands
    read_only: tuple[str, ...] = ()  # the files (the spec among them) written without write permission


@dataclass(frozen=True, slots=True)
class Page:
    """One code's page: its Markdown `text`, and the parts the test runs."""

    code: str
    title: str
    text: str
    wrong: Example
    message: str  # what the wrong example's last command prints on stderr (its Python: `str(error)`)
    fixed: Example


class PageError(ValueError):
    """A page that does not follow the form above (a fault of the package, not of a user)."""


def page_codes() -> list[str]:
    """The codes that have a page, sorted."""
    return sorted(p.stem for p in PAGES.glob("*.md") if _CODE.fullmatch(p.stem))


def page(code: str) -> Page | None:
    """The page of `code` (`e0201` is `E0201`), or None when it has none."""
    wanted = code.upper()
    if not _CODE.fullmatch(wanted):
        return None
    path = PAGES / f"{wanted}.md"
    return parse_page(path.read_text(encoding="utf-8"), wanted) if path.is_file() else None


def parse_page(text: str, code: str) -> Page:
    """A page's parts, or `PageError` saying which line breaks the form."""
    lines = text.split("\n")
    title = _TITLE.fullmatch(lines[0])
    if not title or title[1] != code:
        raise PageError(f"{code}.md:1: the first line must be `# {code}: <title>`")
    sections: dict[str, list[tuple[str, str | None, str, bool]]] = {}
    section, number = "", 1
    while number < len(lines):
        line = lines[number]
        number += 1
        if line.startswith("#"):
            section = line.removeprefix("## ")
            expected = ("Wrong", "Fixed")[len(sections)] if len(sections) < 2 else None
            if section != expected:
                raise PageError(f"{code}.md:{number}: expected `## Wrong`, then `## Fixed`, each once")
            sections[section] = []
        elif line.startswith("```"):
            fence = _FENCE.fullmatch(line)
            if not fence or not section or (fence[2] is None and fence[1] not in ("nqa", "text", *_RUNS)) or (
                    fence[3] and fence[2] is None and fence[1] != "nqa"):
                raise PageError(f"{code}.md:{number}: a block opens with ```nqa, ```text, ```console, ```python "
                                "or ```WORD file=NAME (a spec or a file: then maybe ` read-only`), "
                                "under `## Wrong` or `## Fixed`")
            end = lines.index("```", number) if "```" in lines[number:] else -1
            if end < 0:
                raise PageError(f"{code}.md:{number}: this block is not closed")
            sections[section].append((fence[1], fence[2], "".join(f"{x}\n" for x in lines[number:end]),
                                      bool(fence[3])))
            number = end + 1
    if list(sections) != ["Wrong", "Fixed"]:
        raise PageError(f"{code}.md: needs a `## Wrong` and a `## Fixed` section, in that order")
    wrong, message, asked = _example(code, "Wrong", sections["Wrong"], "wrong.nqa", None)
    fixed, stray, fixed_asked = _example(code, "Fixed", sections["Fixed"], "fixed.nqa", wrong)
    if message is None or stray is not None:
        raise PageError(f"{code}.md: a ```text block, the message, belongs in `## Wrong`, once")
    if asked != fixed_asked:
        raise PageError(f"{code}.md: give a ```{asked or fixed_asked} block in both sections, or in neither")
    return Page(code, title[2], text, wrong, message, fixed)


def _example(code: str, section: str, blocks: list[tuple[str, str | None, str, bool]], name: str,
             beside: Example | None) -> tuple[Example, str | None, str | None]:
    """A section's example, its ```text block (None without one), and the block that says how it is
    run (`console`, `python`; None: `nqa check`)."""
    specs = [body for word, file, body, _ in blocks if word == "nqa" and file is None]
    texts = [body for word, file, body, _ in blocks if word == "text" and file is None]
    runs = [(word, body) for word, file, body, _ in blocks if word in _RUNS and file is None]
    own = {file: _bytes(code, word, body) for word, file, body, _ in blocks if file is not None}
    files = dict(beside.files if beside else ()) | own
    if len(specs) != 1 or len(texts) > 1 or len(runs) > 1:
        raise PageError(f"{code}.md: `## {section}` needs one ```nqa block, and at most one ```text "
                        "and one ```console or ```python block")
    if name in files:
        raise PageError(f"{code}.md: a file block may not be called {name}")
    kept = [file for file in (beside.read_only if beside else ()) if file in files and file not in own]
    read_only = kept + [file or name for _, file, _, locked in blocks if locked]
    run, body = runs[0] if runs else (None, "")
    if run == "python":
        example = Example(specs[0], tuple(sorted(files.items())), (), body, tuple(sorted(read_only)))
        return example, texts[0] if texts else None, run
    commands = [line.removeprefix("$ ") for line in body.splitlines()]
    if run and (not commands or any(not c.startswith("nqa ") for c in commands)):
        raise PageError(f"{code}.md: every line of a ```console block is a command, `$ nqa ...`")
    example = Example(specs[0], tuple(sorted(files.items())), tuple(commands) or (f"nqa check {name}",),
                      None, tuple(sorted(read_only)))
    return example, texts[0] if texts else None, run


def _bytes(code: str, word: str, body: str) -> bytes:
    """A file block's bytes: its text in UTF-8, or, for a `base64` block, what its text decodes to."""
    if word != "base64":
        return body.encode("utf-8")
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except binascii.Error as err:
        raise PageError(f"{code}.md: a ```base64 block that is not base64: {err}") from None


def terminal_text(shown: Page) -> str:
    """A page as plain text for a terminal: headings without their `#`, blocks indented, fences gone,
    and every character a terminal would act on spelt out (`\\u202e`), as in messages."""
    out: list[str] = []
    inside = False
    for line in shown.text.rstrip("\n").split("\n"):
        if line.startswith("```"):
            inside = not inside
            continue
        if inside:
            out.append(f"    {line}".rstrip())
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
            out += [heading, "-" * len(heading)] if line.startswith("## ") else [heading, "=" * len(heading)]
        else:
            out.append(line)
    return "\n".join(visible(line, tab="\t") for line in out) + "\n"


def _no_page(code: str) -> str:
    from .codes import UNREPRODUCIBLE

    reason = UNREPRODUCIBLE.get(code)
    return f"no example can be run: {reason}" if reason else "not explained yet"


def errors_markdown(titles: dict[str, str]) -> str:
    """docs/errors.md: an index of `titles` (code -> title, every code), then every page, a level down."""
    index = [f"- [{code}](#{code.lower()}): {title}" if page(code) else f"- {code}: {title} ({_no_page(code)})"
             for code, title in titles.items()]
    parts = ["# Error codes\n",
             ("Every error and warning `nqa` gives carries a code: `error[E0201]: ...`, and `code` in "
             "`nqa check --format json`. `nqa explain CODE` prints the page of a code, and `nqa explain` "
             "lists them all. This file is made from the pages in `spec_lang/explanations/` "
             "(`pytest tests/test_explain.py --update-goldens` rewrites it): change those, not this.\n"),
             "\n".join(index) + "\n"]
    for code in titles:
        found = page(code)
        if found:
            parts.append(_demoted(found.text, code))
    return "\n".join(parts)


def _demoted(text: str, code: str) -> str:
    """A page's Markdown with every heading outside its blocks one level down, after an anchor `#e0201`."""
    out = [f'<a id="{code.lower()}"></a>', ""]
    inside = False
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("```"):
            inside = not inside
        out.append(f"#{line}" if not inside and line.startswith("#") else line)
    return "\n".join(out) + "\n"
