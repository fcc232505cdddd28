"""`python -m moodshift` runs the same command line as the `moodshift` script."""

from moodshift.console import run

run()
