"""Fetch an npm package's published tarball with ``npm pack`` (no install, no scripts run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError

NPM_TIMEOUT_S = 300


def npm_pack(package: str, workdir: Path, log: Callable[[str], None] = print,
             missing_hint: str = "") -> Path:
    """Run ``npm pack PACKAGE`` in workdir and return the one tarball it wrote."""
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(f"npm is missing (not on PATH), so {package} cannot be fetched"
                        + (f"; {missing_hint}" if missing_hint else ""))
    log(f"  npm pack {package}")
    try:
        proc = subprocess.run([npm, "pack", package, "--silent", "--ignore-scripts"],
                              cwd=workdir, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise UserError(f"npm pack {package} took longer than {NPM_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserError(f"npm pack {package} failed (exit {proc.returncode}): " + " | ".join(tail))
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise UserError(f"npm pack {package} produced {len(tarballs)} tarballs, expected 1")
    return tarballs[0]
