"""``moodshift train expression-offsets``: learn the per-emotion face-mesh offsets.

Light imports at the top only (the CLI builds every parser at start-up).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", required=True,
                   help="FER2013-style trees (one folder per emotion) and/or folders with a "
                        "labels.csv (image,emotion)")
    p.add_argument("--per-class", type=int, default=600,
                   help="faces per emotion and source (default 600)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, required=True, help="the .safetensors file")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from moodshift.errors import UserError
    from moodshift.style.editing.offsets import (
        collect_faces,
        labelled_faces,
        learn_offsets_and_shading,
        save_offsets,
    )

    if args.per_class < 1:
        raise UserError(f"--per-class {args.per_class}: must be at least 1")
    for root in args.data:
        if not root.is_dir():
            raise UserError(f"{root}: not a folder")
    faces = labelled_faces(args.data, args.per_class, args.seed)
    meshed = collect_faces(faces, lambda i, n: print(f"meshed {i}/{n}", file=sys.stderr,
                                                     flush=True))
    offsets = learn_offsets_and_shading(meshed)
    digest = save_offsets(offsets, args.output)
    summary = {"output": str(args.output), "sha256": digest, "faces": offsets.counts,
               "mean_offset": {e: round(float(abs(o).mean()), 5)
                               for e, o in offsets.offsets.items()},
               "mean_shading": {e: round(float(abs(r).mean()), 5)
                                for e, r in offsets.shading.items()}}
    print(json.dumps(summary) if args.json else
          f"{args.output}: sha256 {digest}; faces per emotion {offsets.counts}")
    return 0
