"""The fuzz harness's worker process: runs one library call per request, in-process.

Requests arrive as JSON lines on stdin ({"path", "target", "out", "max_pixels"}); each answer is
one JSON line on stdout: outcome ("ok", "user_error" or "exception"), the message (the user
error's text, or the exception's type, text and traceback), seconds, and the peak RSS of the
process during the call (Linux: VmHWM after resetting it through /proc/self/clear_refs).
Models load once, on first use, so thousands of files cost one start-up.
"""

from __future__ import annotations

import json
import sys
import time
import traceback


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _peak_bytes(reset_ok: bool) -> int:
    hwm = _status_kib("VmHWM") if reset_ok else None
    if hwm is not None:
        return hwm * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # process-wide peak


class Targets:
    """load, analyze and stylize as the CLI runs them, models loaded once."""

    def __init__(self) -> None:
        self._models = None

    @property
    def models(self):  # noqa: ANN201 - pipeline.Models, imported lazily
        if self._models is None:
            from moodshift.analyze import Models
            self._models = Models(with_age_gender=True)
        return self._models

    def run(self, target: str, path: str, out: str | None,
            max_pixels: int | str | None) -> str:
        from moodshift.imageio import load_image, save_image

        image = load_image(path)
        if target == "load":
            return f"{image.shape[1]}x{image.shape[0]}"
        if target == "analyze":
            from moodshift.analyze import analyze
            result = analyze(image, path, self.models)
            json.dumps(result.to_json())
            return f"{len(result.faces)} face(s), {result.dominant_emotion}"
        if target == "stylize":
            from moodshift.stylize import StyleRequest, stylize
            request = (StyleRequest(emotion="auto") if max_pixels == "default"
                       else StyleRequest(emotion="auto", max_pixels=max_pixels))
            styled, report = stylize(image, path, request, self.models)
            if out is None:
                raise ValueError("stylize needs an output path")
            save_image(styled, out, metadata=report.intent())
            return f"{report.emotion}, {styled.shape[1]}x{styled.shape[0]}"
        raise ValueError(f"unknown target {target!r}")


def serve(stdin=sys.stdin, stdout=sys.stdout) -> None:
    from moodshift.errors import UserError

    targets = Targets()
    for line in stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        reset_ok = _reset_peak()
        started = time.perf_counter()
        try:
            message = targets.run(req["target"], req["path"], req.get("out"),
                                  req.get("max_pixels"))
            outcome = "ok"
        except UserError as exc:
            outcome, message = "user_error", str(exc)
        except Exception as exc:  # noqa: BLE001 - a fuzz finding: report it, keep serving
            outcome = "exception"
            message = f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=12)
        answer = {"outcome": outcome, "message": message,
                  "seconds": round(time.perf_counter() - started, 4),
                  "peak_bytes": _peak_bytes(reset_ok)}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


def main() -> None:
    import os

    # Answers go to the original stdout; anything the library prints goes to stderr instead.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main()
