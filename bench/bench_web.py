"""The web server under load (127.0.0.1 only, bounded loops): `moodshift serve` in its own
process, a 1024 px photo.

- latency, one request at a time on the warm server: /api/analyze, /api/stylize (which analyzes,
  stylizes and measures), and the studio's flow (analyze, then stylize);
- load: 200 stylize requests at concurrency 16: status counts (5xx other than a deliberate 503
  with Retry-After is a failure), every 200 checked (a 1024x1024 PNG whose intent is the
  requested emotion), latency, the server's peak memory;
- the peer: the cold command line (`moodshift stylize`) on the same photo.

Run: PYTHONPATH=src python bench/bench_web.py  (about 5-10 minutes on 2 busy cores)
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Measurement, run_measured, write_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SEQUENTIAL = 15
LOAD_REQUESTS, LOAD_CONCURRENCY = 200, 16


def photo_1024(folder: Path) -> bytes:
    from PIL import Image

    with Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png") as img:
        big = img.convert("RGB").resize((1024, 1024), Image.LANCZOS)
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    (folder / "photo-1024.png").write_bytes(buf.getvalue())
    return buf.getvalue()


def start_server(args: list[str]) -> tuple[subprocess.Popen, str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "moodshift", "serve", "--host", "127.0.0.1",
                             "--port", "0", *args], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 300
    while time.time() < deadline:
        line = proc.stderr.readline()
        if "open http://" in line:
            url = line.split("open ", 1)[1].split(" ")[0]
            return proc, url, int(url.rsplit(":", 1)[1].strip("/"))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the server did not start")


def post(port: int, path: str, photo: bytes, fields: dict[str, str]) -> tuple[int, dict, bytes,
                                                                              float]:
    boundary = uuid.uuid4().hex
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
             .encode() for k, v in fields.items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
                 f"filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n".encode() + photo
                 + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", path, body=body,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        reply = conn.getresponse()
        data = reply.read()
        return reply.status, dict(reply.getheaders()), data, time.perf_counter() - started
    finally:
        conn.close()


def stylize_correct(data: bytes, emotion: str) -> bool:
    from PIL import Image

    report = json.loads(data)
    with Image.open(io.BytesIO(base64.b64decode(report["png_base64"]))) as img:
        intent = json.loads(img.info["moodshift"])
        size = img.size
    return (report["emotion"] == emotion and intent["emotion"] == emotion
            and size == (1024, 1024) and report["width"] == 1024)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
            "n": len(ordered)}


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), Linux."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> Path:
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    photo = photo_1024(folder)
    proc, url, port = start_server(["--threads", "2", "--queue", "32", "--timeout", "300"])
    rows: list[Measurement] = []
    extra: dict[str, object] = {}
    try:
        for path in ("/api/analyze", "/api/stylize"):  # warm-up (the server warmed its models)
            post(port, path, photo, {"emotion": "sad"})
        lat: dict[str, list[float]] = {"analyze": [], "stylize": [], "analyze+stylize": []}
        for i in range(SEQUENTIAL):
            status, _, _, s = post(port, "/api/analyze", photo, {})
            assert status == 200
            lat["analyze"].append(s)
            status, _, data, s = post(port, "/api/stylize", photo, {"emotion": EMOTIONS[i % 7]})
            assert status == 200 and stylize_correct(data, EMOTIONS[i % 7])
            lat["stylize"].append(s)
            flow = lat["analyze"][-1] + s  # the studio: analyze, then stylize
            lat["analyze+stylize"].append(flow)
        for name, values in lat.items():
            p = percentiles(values)
            rows.append(Measurement(f"warm {name}, 1024 px (p50)", p["p50"], peak_rss_mb(proc.pid),
                                    f"p95 {p['p95']} s, n={p['n']}, one at a time"))
            extra[f"latency {name}"] = p

        def one(i: int) -> tuple[int, bool, float, bool]:
            emotion = EMOTIONS[i % 7]
            status, headers, data, s = post(port, "/api/stylize", photo, {"emotion": emotion})
            ok = status == 200 and stylize_correct(data, emotion)
            deliberate = status == 503 and "Retry-After" in headers \
                and "error" in json.loads(data)
            return status, ok, s, deliberate

        started = time.perf_counter()
        with ThreadPoolExecutor(LOAD_CONCURRENCY) as pool:
            results = list(pool.map(one, range(LOAD_REQUESTS)))
        wall = time.perf_counter() - started
        codes: dict[int, int] = {}
        for status, _, _, _ in results:
            codes[status] = codes.get(status, 0) + 1
        bad_5xx = sum(1 for st, _, _, deliberate in results if st >= 500 and not deliberate)
        wrong = sum(1 for st, ok, _, _ in results if st == 200 and not ok)
        served = [s for st, ok, s, _ in results if st == 200]
        p = percentiles(served)
        peak = peak_rss_mb(proc.pid)
        rows.append(Measurement(f"{LOAD_REQUESTS} stylize at concurrency {LOAD_CONCURRENCY} "
                                "(p50 latency)", p["p50"], peak,
                                f"p95 {p['p95']} s; {wall:.0f} s in all "
                                f"({LOAD_REQUESTS / wall:.2f} req/s); statuses {codes}"))
        extra["load"] = {"requests": LOAD_REQUESTS, "concurrency": LOAD_CONCURRENCY,
                         "statuses": codes, "undeliberate_5xx": bad_5xx,
                         "wrong_responses": wrong, "latency": p, "wall_s": round(wall, 1),
                         "server_peak_rss_mb": round(peak)}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    out = folder / "cli-out.png"
    rows.append(run_measured("peer: cold CLI stylize, 1024 px",
                             [sys.executable, "-m", "moodshift", "stylize",
                              str(folder / "photo-1024.png"), "--emotion", "sad", "-o", str(out)],
                             repeats=2, note="new process each time (imports, model loads)"))
    warm = next(r for r in rows if r.name.startswith("warm stylize"))
    extra["warm server vs cold CLI"] = f"{rows[-1].seconds / warm.seconds:.1f}x faster"
    extra["goal: warm analyze+stylize p50 <= 0.5 s"] = \
        f"{'met' if extra['latency analyze+stylize']['p50'] <= 0.5 else 'not met'} " \
        f"({extra['latency analyze+stylize']['p50']} s)"
    extra["machine load (1-min load average, start / end)"] = \
        f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    return write_report("web", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
