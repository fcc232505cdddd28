"""Small pieces every moodshift trainer shares (expression, style, GAN, affect generator)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch


def atomic_torch_save(obj: object, path: Path) -> None:
    """torch.save to a hidden temporary file beside path, then rename: a checkpoint is either the
    old one or the new one, never half-written (Ctrl-C or a full disk mid-save)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ThreadChooser:
    """Picks 1 or 2 intra-op threads by measured step time, re-checked every ``period`` steps.

    On a shared 2-core machine two OpenMP threads collapse (10x slower) as soon as another
    process takes a core; one thread then runs far faster. ``threads > 0`` fixes the count."""

    def __init__(self, threads: int = 0, period: int = 60, probe: int = 4,
                 choices: tuple[int, ...] = (1, 2)) -> None:
        self.fixed = threads
        self.period, self.probe, self.choices = period, probe, choices
        self.step = 0
        self.times: dict[int, list[float]] = {}
        self.best = max(choices)
        self._t = 0.0
        torch.set_num_threads(threads if threads > 0 else self.best)

    def _current(self) -> int:
        if self.fixed > 0:
            return self.fixed
        phase = self.step % self.period
        k = phase // self.probe
        if k < len(self.choices):
            return self.choices[k]
        if phase == self.probe * len(self.choices):
            # median of the probe steps, skipping the first (thread-count switch) step
            med = {n: float(np.median(t[1:] if len(t) > 1 else t)) for n, t in self.times.items()}
            self.best = min(med, key=med.__getitem__)
            self.times = {}
        return self.best

    def before_step(self) -> None:
        n = self._current()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        self._t = time.perf_counter()

    def after_step(self) -> None:
        if self.fixed <= 0 and self.step % self.period < self.probe * len(self.choices):
            self.times.setdefault(torch.get_num_threads(), []).append(
                time.perf_counter() - self._t)
        self.step += 1


def first_problem(exc: BaseException) -> str:
    """One line from a (multi-line) load_state_dict error: the first size mismatch or key."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = [ln for ln in lines if not ln.startswith("Error(s) in loading")]
    first = (detail or lines or [type(exc).__name__])[0]
    more = len(detail) - 1
    return first + (f" and {more} more" if more > 0 else "")


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str,
                 what: str) -> None:
    """Load state into model, or a one-line UserError naming the file and the first problem
    (missing or unexpected tensors, a tensor of another shape)."""
    from moodshift.errors import UserError

    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"{source}: weights do not fit {what} ({first_problem(exc)})") from None
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise UserError(f"{source}: weights do not fit {what} (missing {missing[:3]}, "
                        f"unexpected {unexpected[:3]})")
