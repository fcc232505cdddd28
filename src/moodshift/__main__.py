"""`python -m moodshift` runs the same command line as the `moodshift` script."""

import sys

from moodshift.cli import main

sys.exit(main())
