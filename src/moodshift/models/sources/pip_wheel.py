"""Fetch one wheel from PyPI with pip, without installing it or its dependencies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError

PIP_TIMEOUT_S = 300


def download_wheel(package: str, workdir: Path, log: Callable[[str], None] = print,
                   timeout_s: int = PIP_TIMEOUT_S) -> Path:
    """``python -m pip download --no-deps <package> -d workdir``; returns the wheel's path."""
    log(f"  pip download --no-deps {package}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--only-binary", ":all:", package, "-d", str(workdir)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise UserError(f"pip download {package} took longer than {timeout_s} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserError(f"pip download {package} failed (exit {proc.returncode}): "
                        + " | ".join(tail))
    wheels = sorted(workdir.glob("*.whl"))
    if not wheels:
        raise UserError(f"pip download {package} produced no wheel")
    return wheels[0]
