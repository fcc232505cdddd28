"""`moodshift batch` as a user drives it: Ctrl-C, --resume, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import portrait_like
from PIL import Image

from moodshift.cli import main

ROOT = Path(__file__).resolve().parents[2]


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    src.mkdir()
    for i in range(3):
        Image.fromarray(portrait_like(64, 80, seed=i)).save(src / f"p{i}.png")
    return src


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path) -> None:
    """A real SIGINT to the command: one line, exit 130, a valid manifest; --resume completes."""
    src = tmp_path / "many"
    src.mkdir()
    n = 40  # enough that the run is still going when the signal lands
    for i in range(n):
        Image.fromarray(portrait_like(64, 80, seed=i)).save(src / f"p{i:02d}.png")
    out = tmp_path / "out"
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "moodshift", "batch", "analyze", str(src), str(out),
            "--workers", "1", "--batch-size", "1"]
    # a shell running the tests in the background starts them with SIGINT ignored: restore it
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 300
    while not (manifest.exists() and manifest.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "moodshift: interrupted"
    assert "Traceback" not in stderr
    first = records(out)
    assert 1 <= len(first) < n and all(r["status"] == "ok" for r in first)
    resumed = subprocess.run(argv + ["--resume", "--json"], env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == len(first) and summary["done"] == n - len(first)
    assert sorted(r["source"] for r in records(out)) == [f"p{i:02d}.png" for i in range(n)]


def test_a_finished_run_ends_its_workers_without_leaks(tmp_path) -> None:
    """Workers that finished everything exit on their own (terminated, the cGAN's workers left
    a semaphore that the resource tracker reported on stderr at shutdown)."""
    descriptions = tmp_path / "descriptions.txt"
    descriptions.write_text("a happy woman\na sad old man\n")
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "moodshift", "batch", "generate",
                           str(descriptions), str(tmp_path / "out"), "--generator", "cgan",
                           "--workers", "1"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resource_tracker" not in proc.stderr and "leaked" not in proc.stderr, proc.stderr
    assert len(records(tmp_path / "out")) == 2


def test_without_ray_installed_says_how_to_get_it(photos, tmp_path, monkeypatch,
                                                  capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    code = main(["batch", "analyze", str(photos), str(tmp_path / "out"), "--ray", "local"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'moodshift[ray]'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["stylize", "{src}", "{out}", "--emotion", "sad", "--strength", "2"],
     "--strength 2.0: must be between 0 and 1"),
    (["stylize", "{src}", "{out}", "--emotion", "sad", "--steps", "9"],
     "--steps: not an option of --engine fast"),
    (["analyze", "{src}", "{src}"], "must not be the source folder"),
    (["analyze", "{out}/missing", "{out}"], "no such file or folder"),
])
def test_bad_settings_one_line_exit_2(photos, tmp_path, capsys, argv, message) -> None:
    words = [w.format(src=photos, out=tmp_path / "out") for w in argv]
    code = main(["batch", *words])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_an_earlier_run_needs_resume(photos, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_text('{"source": "p0.png", "status": "ok"}\n')
    code = main(["batch", "analyze", str(photos), str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "add --resume" in err and len(err.splitlines()) == 1


def test_progress_goes_to_a_log_only_when_asked(photos, tmp_path, capsys) -> None:
    """stderr here is not a terminal (a log file, a pipe): no bar by default, one with
    --progress."""
    assert main(["batch", "analyze", str(photos), str(tmp_path / "quiet"), "--workers", "1"]) == 0
    assert "batch analyze" not in capsys.readouterr().err
    assert main(["batch", "analyze", str(photos), str(tmp_path / "shown"), "--workers", "1",
                 "--progress"]) == 0
    assert "batch analyze: 100%" in capsys.readouterr().err
