"""Small pieces every moodshift trainer shares (expression, style, GAN, affect generator)."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from moodshift.imageio import atomic_write


def atomic_torch_save(obj: object, path: Path) -> None:
    """torch.save to a hidden temporary file beside path, then rename: a checkpoint is either the
    old one or the new one, never half-written (Ctrl-C or a full disk mid-save)."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """True when the CPU has native bf16 matrix units (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def use_bf16(precision: str) -> bool:
    """What a ``--precision auto|bf16|fp32`` setting means on this machine: auto is bf16 only
    where the CPU has bf16 units."""
    return precision == "bf16" or (precision == "auto" and bf16_supported())


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


def first_line(exc: BaseException) -> str:
    """An exception's message cut to one line (UserErrors are one line)."""
    text = str(exc).strip()
    if text.startswith("Weights only load failed"):  # torch's long advice does not apply here
        return "it holds objects other than tensors and plain data"
    if isinstance(exc, KeyError):
        return f"no {text} entry" if isinstance(exc.args[0], str) else "not a torch checkpoint"
    return text.splitlines()[0][:160] if text else type(exc).__name__


def load_checkpoint(path: Path, what: str, keys: Sequence[str] = ()) -> dict:
    """A checkpoint written by one of moodshift's trainers, read with ``weights_only`` (tensors
    and plain data: a file's pickle code never runs), holding ``keys``; otherwise a one-line
    UserError naming the file: "<path>: not <what> (<why>)"."""
    from moodshift.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's
        raise UserError(f"{path}: not {what} ({first_line(exc)})") from None
    missing = [k for k in keys if not isinstance(state, dict) or k not in state]
    if missing:
        raise UserError(f"{path}: not {what} (no {', '.join(missing)})")
    return state
