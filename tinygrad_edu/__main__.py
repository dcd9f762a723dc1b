"""``python -m tinygrad_edu``: the command line (see :mod:`tinygrad_edu.cli`)."""

import sys

from tinygrad_edu.cli import main

if __name__ == "__main__":
    sys.exit(main())
