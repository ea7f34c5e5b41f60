"""`nqa lsp`: a Language Server Protocol server for .nqa files, on standard input and output.

In: nothing (the client talks on stdin and stdout). Out: `serve()`, which runs
the server until the client says `exit` or closes the stream, and returns the
exit code (0 after `shutdown`, 1 without it, as LSP asks). pygls is an extra:
without it, `serve()` raises a `SpecError` naming `pip install 'nqa[lsp]'`.
Never imports torch.
"""

from __future__ import annotations

import logging
import sys

from spec_lang import codes, usage_error


def serve() -> int:
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        raise usage_error("`nqa lsp` needs the language server package pygls, which is not installed",
                          "install it with `pip install 'nqa[lsp]'`", code=codes.MISSING_PACKAGE) from None
    from .server import build

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="nqa lsp: %(levelname)s: %(message)s")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed may land in the stream of messages
    server = build()
    server.serve_stdio(stdin, stdout)
    return 0 if server.protocol._shutdown else 1
