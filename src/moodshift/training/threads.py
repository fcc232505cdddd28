"""How many CPU threads a training step uses, chosen by measurement."""

from __future__ import annotations

import time

import numpy as np
import torch


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
