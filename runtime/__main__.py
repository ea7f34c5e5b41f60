"""`python -m runtime SPEC [options]`: the same as `nqa run SPEC [options]`;
`python -m runtime lsp`: the same as `nqa lsp` (the language server)."""

import sys

from .cli import main, main_run

if sys.argv[1:] == ["lsp"]:
    sys.exit(main(["lsp"]))
sys.exit(main_run(sys.argv[1:]))
