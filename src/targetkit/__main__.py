"""Run the command line: ``python -m targetkit``."""

import sys

from targetkit.cli import main

sys.exit(main())
