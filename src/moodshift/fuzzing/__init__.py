"""Hostile inputs for every front end, and a harness that runs them with limits.

``corpus.build_corpus(folder, n)`` writes a reproducible set of malformed, extreme and odd
image files (byte flips, truncations, corrupted headers, wrong suffixes, declared and real
decompression bombs, tiny and extreme shapes, unusual modes, animations, EXIF orientations,
huge text chunks, directories, symlink loops, FIFOs, devices, odd names) and returns a list of
``Case``s. The CLI harness (``moodshift.fuzzing.run``, `make fuzz`) feeds them to load, analyze
and stylize in a worker process under a per-file time limit and peak-memory tracking; the web
studio's upload path and the batch runner can take the same corpus.
"""

from moodshift.fuzzing.corpus import Case, build_corpus

__all__ = ["Case", "build_corpus"]
