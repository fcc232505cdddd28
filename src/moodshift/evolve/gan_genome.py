"""The ``gan-latent`` genome: latent vectors of moodshift's conditional GAN.

The generator is conditioned on an emotion. For a single-emotion or valence-arousal target it
is conditioned on that emotion (or the one nearest the target's coordinates); for the
``emotions`` target one extra gene in [-3, 3] (seven bins) picks the condition, so the search
can also find "a face generated as sad that the classifier reads as angry".
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError

LATENT_BOUND = 3.0


def load_gan(path: str | None) -> Any:
    """moodshift's conditional generator (moodshift.generate.gan.load_generator)."""
    try:
        from moodshift.generate.gan.generator import load_generator
    except ImportError:
        raise UserError("--genome gan-latent: no conditional GAN installed: run "
                        "`moodshift train gan ...` first (moodshift.generate is missing)") from None
    try:
        return load_generator(path)
    except UserError as exc:
        what = "no conditional GAN installed" if path is None else "cannot use --gan"
        raise UserError(f"--genome gan-latent: {what}: {exc}") from None


class GanLatentGenome:
    """Solutions are latent vectors z (plus the condition gene for the emotions target)."""

    name = "gan-latent"
    lower = -LATENT_BOUND
    upper = LATENT_BOUND

    def __init__(self, generator: Any, size: int, emotion: str | None) -> None:
        self.generator = generator
        self.size = size
        self.emotion = emotion
        self.latent_dim = int(generator.latent_dim)

    @property
    def solution_dim(self) -> int:
        return self.latent_dim + (1 if self.emotion is None else 0)

    def conditions(self, solutions: np.ndarray) -> list[str]:
        if self.emotion is not None:
            return [self.emotion] * len(solutions)
        # The gene's range [-3, 3] is cut into seven equal bins, one per emotion.
        unit = (solutions[:, -1] + LATENT_BOUND) / (2 * LATENT_BOUND)
        gene = np.clip(np.floor(unit * len(EMOTIONS)), 0, len(EMOTIONS) - 1)
        return [EMOTIONS[int(g)] for g in gene]

    def initial_solutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        z = np.asarray(self.generator.sample_latent(n, int(rng.integers(2**31))), np.float32)
        z = np.clip(z.reshape(n, self.latent_dim), self.lower, self.upper)
        if self.emotion is None:
            gene = rng.uniform(self.lower, self.upper, (n, 1)).astype(np.float32)
            z = np.concatenate([z, gene], axis=1)
        return z

    def render(self, solutions: np.ndarray) -> np.ndarray:
        sol = np.clip(np.asarray(solutions, dtype=np.float32), self.lower, self.upper)
        conds = self.conditions(sol)
        out = np.empty((len(sol), self.size, self.size, 3), np.uint8)
        for emotion in dict.fromkeys(conds):  # one generator call per condition present
            rows = [i for i, c in enumerate(conds) if c == emotion]
            imgs = np.asarray(self.generator.generate(
                np.ascontiguousarray(sol[rows, :self.latent_dim]), emotion), np.uint8)
            for i, img in zip(rows, imgs):
                out[i] = img if img.shape[0] == self.size else np.asarray(
                    Image.fromarray(img).resize((self.size, self.size), Image.BILINEAR))
        return out
