"""``moodshift eval expression``: accuracy of an expression classifier on labelled faces."""

from __future__ import annotations

import argparse
import json
import sys

from moodshift.expression.evaluate import FACE_CROP_MAX, SPLITS
from moodshift.faces.detect import DETECTORS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="labelled faces (any training layout)")
    parser.add_argument("--model", default="moodshift",
                        help="moodshift (default), faceapi, fer, or a trained model's path")
    parser.add_argument("--split", default="auto", choices=SPLITS,
                        help="part to evaluate (auto: val if the data has a split, else all)")
    parser.add_argument("--detector", default="auto", metavar="|".join(DETECTORS),
                        help=f"face detector for photos larger than {FACE_CROP_MAX} px")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.expression.evaluate import evaluate_named

    report = evaluate_named(args.data, args.model, args.split, args.detector,
                            progress=not args.json and sys.stderr.isatty())
    print(json.dumps(report.to_json(), indent=1) if args.json else report.to_text())
    return 0
