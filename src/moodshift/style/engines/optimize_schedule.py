"""The optimize engine's schedule: the size it works at, its coarse-to-fine levels and their
steps, and the learning rate within a level."""

from __future__ import annotations

import math
from typing import Sequence

from moodshift.style.engines.optimize_settings import OptimizeSettings

MIN_WORK_SIDE = 256


def work_size(shape: tuple[int, int], size: int) -> tuple[int, int]:
    """(h, w) to optimise at: longer side `size`, not above the photo's unless it is tiny."""
    h, w = shape
    longer = min(size, max(max(h, w), MIN_WORK_SIDE))
    scale = longer / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def pyramid(full: tuple[int, int], settings: OptimizeSettings) -> list[tuple[int, int]]:
    """Level sizes, coarsest first: halvings of `full` while the longer side stays >= coarsest."""
    levels = [full]
    if settings.multiscale:
        while (max(levels[0]) // 2 >= settings.coarsest
               and len(levels) < len(settings.level_shares)):
            h, w = levels[0]
            levels.insert(0, (max(1, round(h / 2)), max(1, round(w / 2))))
    return levels


def level_steps(total: int, n_levels: int, shares: Sequence[float]) -> list[int]:
    """Split `total` steps over levels by the last n_levels shares (each level gets >= 1)."""
    use = list(shares[-n_levels:]) if n_levels > 1 else [1.0]
    norm = sum(use)
    steps = [max(1, int(round(total * s / norm))) for s in use]
    steps[-1] = max(1, total - sum(steps[:-1])) if total > n_levels else steps[-1]
    return steps


WARMUP_STEPS = 10


def cosine_lr(step: int, n_steps: int, lr: float, final_fraction: float,
              progress: float | None = None) -> float:
    """Learning rate at `step` of a level of n_steps: a linear warm-up over the first
    min(WARMUP_STEPS, n_steps / 5) steps, times a cosine from lr down to lr x final_fraction
    at the level's end. `progress` (0..1) is how far the level is; by default step / (n - 1),
    under a time budget the larger of that and the share of the level's time used, so a level
    cut short by its deadline still ends at its low rate.

    The warm-up matters because Adam's first steps move every pixel by about lr regardless of
    its gradient (a sign step), which at lr 0.05 quadruples the loss of a good starting image.
    """
    if n_steps <= 1:
        return lr * final_fraction
    warm = min(1.0, (step + 1) / max(1, min(WARMUP_STEPS, n_steps // 5)))
    if progress is None:
        progress = step / (n_steps - 1)
    progress = min(1.0, max(0.0, progress))
    return warm * lr * (final_fraction
                        + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))
