"""`nqa explain [CODE]`: the page of an error code, or the list of every code.

In: the parsed arguments (`code`: `E0201`, any case; or None). Out: on stdout, the
code's page as plain text (`spec_lang.explain.terminal_text`), or every code of the
registry with its title; a code that is not one is a usage error (exit 2) with the
closest code. Never imports torch.
"""

from __future__ import annotations

import argparse

from compiler.messages import shorten
from compiler.suggest import closest
from spec_lang import SpecError, codes, usage_error
from spec_lang.codes import CODES, UNREPRODUCIBLE
from spec_lang.explain import page, terminal_text


def explain_command(args: argparse.Namespace) -> int:
    if args.code is None:
        width = max(len(code) for code in CODES)
        print("\n".join(f"{code.ljust(width)}  {info.title}" for code, info in sorted(CODES.items())))
        print("\n`nqa explain CODE` explains one, e.g. `nqa explain E0201`.")
        return 0
    code = args.code.strip().upper()  # ` e0201 ` as pasted from a message
    if code not in CODES:
        best = closest(code.lower(), [known.lower() for known in CODES])
        hint = f"did you mean `{best.upper()}`?" if best else "`nqa explain` lists every code"
        raise _refused(f"there is no error code `{shorten(args.code)}`", hint)
    found = page(code)
    if found is None and code in UNREPRODUCIBLE:  # a title, and why no example shows it
        print(f"{code}: {CODES[code].title}\n\nNo example of it can be run: {UNREPRODUCIBLE[code]}.")
        return 0
    if found is None:
        raise _refused(f"`{code}` ({CODES[code].title}) is not explained yet", "`nqa explain` lists every code")
    print(terminal_text(found), end="")
    return 0


def _refused(message: str, hint: str) -> SpecError:
    """A mistake in the code asked for."""
    return usage_error(message, hint, code=codes.BAD_OPTION_VALUE)
