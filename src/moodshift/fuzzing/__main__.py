"""`python -m moodshift.fuzzing`: build the corpus, run it, write the report (see run.py)."""

import sys

from moodshift.fuzzing.run import main

sys.exit(main())
