"""`python -m runtime SPEC [options]`: the same as `nqa run SPEC [options]`."""

import sys

from .cli import main_run

sys.exit(main_run(sys.argv[1:]))
