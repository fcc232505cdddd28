"""Batch analyze, stylize and generate over whole folders, on local processes or a Ray cluster.

    from moodshift.batch import BatchConfig, run_batch
    summary = run_batch(BatchConfig("stylize", "photos/", "out/", emotion="sad", ray="auto"))

Each item's result goes to OUT/manifest.jsonl (the single-image command's JSON plus status,
error, seconds, worker, source and key); see docs/batch.md.
"""

from moodshift.batch.config import BatchConfig
from moodshift.batch.run import BatchSummary, run_batch

__all__ = ["BatchConfig", "BatchSummary", "run_batch"]
