"""Append-only JSON-lines logs that let a long evaluation resume where it was interrupted.

Each finished unit of work is one line, appended and flushed, so an interrupted run loses at most
the unit in progress. A line the interruption cut short is skipped wherever it sits (a run
interrupted twice leaves one mid-file: the resumed run starts its records on a new line); any
other line that is not a JSON object means the file is not this command's log.
"""

from __future__ import annotations

import json
from pathlib import Path

from moodshift.errors import UserError


def append_record(path: Path, record: dict[str, object]) -> None:
    """Append one record as a JSON line (after a newline if the last line was cut short)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        cut = False
        if path.exists() and path.stat().st_size:
            with path.open("rb") as fh:
                fh.seek(-1, 2)
                cut = fh.read(1) != b"\n"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(("\n" if cut else "") + json.dumps(record) + "\n")
            fh.flush()
    except OSError as exc:
        raise UserError(f"{path}: cannot write the log ({exc.strerror or exc})") from None


def read_records(path: Path, what: str,
                 required: tuple[str, ...] = ()) -> list[tuple[int, dict[str, object]]]:
    """(line number, record) for every whole record in the log ([] when there is none yet).
    A line that is not a JSON object with the ``required`` keys is refused, ``what`` naming a
    record in the message ("a pair")."""
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the log ({exc})") from None
    out = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if line.startswith("{"):
                continue   # cut short by an interruption
            record = None
        if not isinstance(record, dict) or any(k not in record for k in required):
            raise UserError(f"{path}: line {number}: not {what} this command logged "
                            "(use another --log file)")
        out.append((number, record))
    return out
