"""Long stylize runs (the optimize engine) as background jobs with progress and cancel.

A job's state lives in files under one folder shared by every worker process, so whichever
worker answers a poll or a cancel sees the same job: state.json (rewritten atomically),
result.png and report.json when done, and a `cancel` marker the running job checks after each
optimisation step. Jobs are removed an hour after they finish, and the folder when the server
stops: results are kept only until the user has had a chance to download them.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.imageio import atomic_write_bytes, atomic_write_text
from moodshift.web.errors import ApiError, busy

JOB_ID = re.compile(r"[0-9a-f]{32}")
KEEP_FINISHED_S = 3600.0
FINISHED = ("done", "failed", "cancelled")
log = logging.getLogger("moodshift.web")


class JobCancelled(Exception):
    """Raised inside a job's progress callback when the user pressed cancel."""


# work(progress) -> (png bytes, report dict); progress(fraction) raises JobCancelled on cancel
JobWork = Callable[[Callable[[float], None]], tuple[bytes, dict]]


class JobStore:
    def __init__(self, root: Path, max_jobs: int) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_jobs = max_jobs
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="moodshift-job")
        self._lock = threading.Lock()
        self._active = 0  # this worker's jobs queued or running

    def _dir(self, job_id: str) -> Path:
        if not JOB_ID.fullmatch(job_id):
            raise ApiError(404, "job: no such job")
        folder = self.root / job_id
        if not folder.is_dir():
            raise ApiError(404, "job: no such job (finished jobs are kept for an hour)")
        return folder

    def _write_state(self, folder: Path, **state: object) -> None:
        state = {"id": folder.name, "updated": round(time.time(), 3), **state}
        atomic_write_text(folder / "state.json", json.dumps(state))

    def submit(self, work: JobWork, label: str) -> dict:
        self.sweep()
        with self._lock:
            if self._active >= self.max_jobs:
                raise busy(30, "the optimize queue")
            self._active += 1
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        folder.mkdir()
        self._write_state(folder, state="queued", progress=0.0, message="waiting to start",
                          label=label)
        self._executor.submit(self._run, folder, work, label)
        return self.state(job_id)

    def _run(self, folder: Path, work: JobWork, label: str) -> None:
        started = time.perf_counter()
        last = [0.0]

        def progress(fraction: float) -> None:
            if (folder / "cancel").exists():
                raise JobCancelled
            now = time.perf_counter()
            if now - last[0] >= 0.25 or fraction >= 1.0:  # a few writes a second at most
                last[0] = now
                self._write_state(folder, state="running", progress=round(min(fraction, 1), 4),
                                  message=f"optimising ({time.perf_counter() - started:.0f} s)",
                                  label=label)

        try:
            if (folder / "cancel").exists():
                raise JobCancelled
            self._write_state(folder, state="running", progress=0.0, message="starting",
                              label=label)
            png, report = work(progress)
            atomic_write_bytes(folder / "result.png", png)
            atomic_write_text(folder / "report.json", json.dumps(report))
            self._write_state(folder, state="done", progress=1.0, label=label,
                              message=f"done in {time.perf_counter() - started:.1f} s")
        except JobCancelled:
            self._write_state(folder, state="cancelled", progress=0.0, label=label,
                              message="cancelled")
        except UserError as exc:
            self._write_state(folder, state="failed", progress=0.0, label=label,
                              message=" ".join(str(exc).split()))
        except ApiError as exc:
            self._write_state(folder, state="failed", progress=0.0, label=label,
                              message=exc.message)
        except Exception:  # noqa: BLE001 (a job must end in a state the page can show)
            log.exception("optimize job failed")
            self._write_state(folder, state="failed", progress=0.0, label=label,
                              message="internal error (see the server log)")
        finally:
            with self._lock:
                self._active -= 1

    def state(self, job_id: str) -> dict:
        folder = self._dir(job_id)
        try:
            return json.loads((folder / "state.json").read_text())
        except (OSError, ValueError):
            raise ApiError(404, "job: no such job") from None

    def cancel(self, job_id: str) -> dict:
        folder = self._dir(job_id)
        state = self.state(job_id)
        if state["state"] not in FINISHED:
            (folder / "cancel").touch()
        return self.state(job_id)

    def result(self, job_id: str) -> tuple[bytes, dict]:
        state = self.state(job_id)
        if state["state"] != "done":
            raise ApiError(409, f"job: {state['state']}, no result yet" if state["state"] not in
                           FINISHED else f"job: {state['state']}; it has no result")
        folder = self._dir(job_id)
        return (folder / "result.png").read_bytes(), json.loads((folder / "report.json")
                                                                .read_text())

    def sweep(self) -> None:
        """Remove jobs that finished over an hour ago."""
        now = time.time()
        for folder in self.root.iterdir():
            try:
                state = json.loads((folder / "state.json").read_text())
            except (OSError, ValueError):
                continue
            if state.get("state") in FINISHED and now - state.get("updated", now) \
                    > KEEP_FINISHED_S:
                shutil.rmtree(folder, ignore_errors=True)

    def shutdown(self, remove: bool) -> None:
        for folder in self.root.iterdir():  # running jobs stop at their next step
            if folder.is_dir():
                (folder / "cancel").touch()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
