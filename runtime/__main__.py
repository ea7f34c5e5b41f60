"""`python -m runtime SPEC [options]`: the same as `nqa run SPEC [options]`;
`python -m runtime lsp`: the same as `nqa lsp` (the language server)."""

import sys

from .orphan import die_with_launcher

die_with_launcher()  # a worker of `--nproc N`: first, before torch loads, tied to its launcher's life
from .cli import main, main_run  # noqa: E402

if sys.argv[1:] == ["lsp"]:
    sys.exit(main(["lsp"]))
sys.exit(main_run(sys.argv[1:]))
