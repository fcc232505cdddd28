"""`moodshift read-text`: emotion, age group and gender from descriptions.

Only light imports here: the sentence model (torch, tokenizers) loads inside run_*.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.errors import InputFileError, UserError
from moodshift.text import BACKENDS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("texts", nargs="*", metavar="TEXT", help="descriptions, e.g. "
                   "\"an old man beaming at his grandchildren\"")
    p.add_argument("--file", "-f", action="append", default=[], metavar="F",
                   help="read one text per line from F (- for standard input); repeatable")
    p.add_argument("--json", action="store_true", help="one JSON object per text (JSON lines)")
    p.add_argument("--backend", default="auto", metavar="|".join(BACKENDS),
                   help="embedding: sentence model + trained head; lexicon: NRC word list "
                        "(no model); auto: embedding when installed")
    p.add_argument("--head", type=Path, metavar="PATH",
                   help="a classifier head from `moodshift train text` (default: the shipped one)")
    p.add_argument("--cues", type=Path, metavar="TOML", help="emotion cue list overriding "
                   "the shipped data/text/cues.toml")


def _read_lines(name: str) -> list[tuple[str, str]]:
    """(where, text) for each non-blank line: where is "FILE:LINE" for error messages."""
    if name == "-":
        return [(f"<stdin>:{n}", line) for n, line in enumerate(sys.stdin.read().splitlines(), 1)
                if line.strip()]
    path = Path(name)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, expected a text file") from None
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror})") from None
    lines = [(f"{path}:{n}", line) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    if not lines:
        raise InputFileError(path, "contains no text (one description per line)")
    return lines


def run(args: argparse.Namespace) -> int:
    from moodshift.text.reader import check_head, read_texts, text_problem

    check_head(args.backend, args.head)   # before reading any file

    sourced = [(f"text {i}", t) for i, t in enumerate(args.texts, 1)]
    for name in args.file:
        sourced += _read_lines(name)
    if not sourced:
        raise UserError("read-text: give TEXT arguments or --file F")
    # Check each text where it came from, so a bad line names its file and line number.
    for where, text in sourced:
        problem = text_problem(text)
        if problem is not None:
            raise UserError(f"{where}{problem}")
    texts = [t for _, t in sourced]
    readings = read_texts(texts, backend=args.backend, head=args.head, cues=args.cues)
    for r in readings:
        if args.json:
            print(json.dumps(r.to_json(), ensure_ascii=False), flush=True)
            continue
        who = ", ".join(x for x in (r.age_group, r.gender) if x) or "age/gender not stated"
        age = f" (age {r.age:g})" if r.age is not None else ""
        note = f"  [{r.note}]" if r.note else ""
        print(f"{r.text}: {r.emotion} {r.confidence:.0%}; {who}{age}{note}")
    return 0
