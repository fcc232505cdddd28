"""The --candidates and --more-candidates options that `generate` and `eval gan` share (stylegan
only)."""

from __future__ import annotations

import argparse


def add_candidates(p: argparse.ArgumentParser) -> None:
    from moodshift.generate.stylegan.choose import (
        DEFAULT_CANDIDATES,
        DEFAULT_MORE_CANDIDATES,
        MAX_CANDIDATES,
        MAX_MORE_CANDIDATES,
    )

    p.add_argument("--candidates", type=int, default=None, metavar="K",
                   help=f"stylegan: draw each identity K times and keep the one a face "
                        f"detector finds and the labelling models read best as asked "
                        f"(1..{MAX_CANDIDATES}, default {DEFAULT_CANDIDATES}; 1: the seed's "
                        f"first draw)")
    p.add_argument("--more-candidates", type=int, default=None, metavar="M",
                   help=f"stylegan: where none of the K is read as asked (emotion, age group, "
                        f"gender), draw up to M more (disgust: 3M), one at a time, until "
                        f"one is; one emotion per identity only (0..{MAX_MORE_CANDIDATES}, "
                        f"default {DEFAULT_MORE_CANDIDATES})")


def candidate_fields(args: argparse.Namespace) -> dict[str, int]:
    """The candidate counts given on the command line, as request fields (unset: defaults)."""
    return {name: getattr(args, name) for name in ("candidates", "more_candidates")
            if getattr(args, name) is not None}
