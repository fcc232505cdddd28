"""OUT/manifest.jsonl: one JSON line per item, appended and flushed line by line, so an
interrupted run leaves every finished item recorded and at most one torn last line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from moodshift.errors import UserError
from moodshift.imageio import atomic_write_text


def read_records(path: Path) -> list[dict]:
    """The manifest's records; a line that is not a whole JSON object (the torn end of an
    interrupted write) is dropped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "source" in record:
            records.append(record)
    return records


def latest(records: list[dict]) -> dict[str, dict]:
    """The last record of each item (a resumed run's line replaces the earlier one)."""
    return {r["source"]: r for r in records}


def done_keys(records: list[dict]) -> dict[str, str]:
    """source -> key of each item finished without error whose outputs are still there."""
    done = {}
    for source, r in latest(records).items():
        output = r.get("output")
        if r.get("status") == "ok" and (output is None or Path(output).is_file()):
            done[source] = r["key"]
    return done


def prepare(path: Path, resume: bool) -> dict[str, str]:
    """Start or continue a manifest; returns what is already done (empty unless resuming)."""
    if not resume:
        if path.exists() and path.stat().st_size > 0:
            raise UserError(f"{path}: a batch was already run here; add --resume to continue it "
                            "or choose another output folder")
        return {}
    records = read_records(path)
    # rewrite without the torn line, so appended lines start on a line of their own
    write_records(path, records)
    _remove_stale_parts(path.parent)
    return done_keys(records)


def write_records(path: Path, records: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def compact(path: Path) -> None:
    """One line per item (the latest), after a resumed run finished."""
    write_records(path, list(latest(read_records(path)).values()))


def _remove_stale_parts(out: Path) -> None:
    # temporary files of atomic writes whose process was killed before the rename
    for part in out.rglob(".*.part"):
        if part.is_file():
            part.unlink()


class ManifestWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()
