"""The ``stylegan`` genome: points in MobileStyleGAN's style space (photoreal faces).

A solution x (512 numbers) is a style in whitened principal coordinates of the mapped styles
(as GANSpace, Haerkoenen et al. 2020, does for StyleGAN): ``w = mean + V diag(s) x``, with V and
s the principal axes and spreads of STYLE_SAMPLES mapped styles of a fixed seed. Typical faces
have x ~ N(0, I), so the bounds and CMA-ME's step size mean the same on every axis. The image
the fitness sees is the face region (the central FACE_FRACTION of the FFHQ frame) at --size.
Rendering is 1024 px synthesis: about 1.5 s per image on 2 idle cores, so keep --batch small.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from moodshift.errors import ModelMissingError, UserError

BOUND = 3.0
STYLE_SAMPLES = 2048
FACE_FRACTION = 0.7
RENDER_SIZE = 512        # synthesis output downscaled to this before the face crop


def load_stylegan() -> Any:
    from moodshift.generate.stylegan.generator import load_style_generator

    try:
        return load_style_generator()
    except ModelMissingError as exc:
        raise UserError(f"--genome stylegan: {exc}") from None


class StyleGenome:
    name = "stylegan"
    lower = -BOUND
    upper = BOUND
    solution_dim = 512

    def __init__(self, generator: Any, size: int, psi: float = 0.7) -> None:
        from moodshift.generate.stylegan.generator import MEAN_SEED, STYLE_DIM

        self.generator = generator
        self.size = size
        self.psi = psi
        z = np.random.default_rng(MEAN_SEED + 1).standard_normal((STYLE_SAMPLES, STYLE_DIM))
        styles = generator.map(z).astype(np.float64)
        self.mean = styles.mean(0)
        _, s, vt = np.linalg.svd(styles - self.mean, full_matrices=False)
        self.axes = vt                                            # (512, 512) rows = axes
        self.spread = np.maximum(s / np.sqrt(len(styles) - 1), 1e-6)

    def to_styles(self, solutions: np.ndarray) -> np.ndarray:
        x = np.clip(np.asarray(solutions, np.float64), self.lower, self.upper)
        return (self.mean + (x * self.spread) @ self.axes).astype(np.float32)

    def to_solutions(self, styles: np.ndarray) -> np.ndarray:
        return (((np.asarray(styles, np.float64) - self.mean) @ self.axes.T) / self.spread
                ).astype(np.float32)

    def initial_solutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        styles = self.generator.sample_styles(n, int(rng.integers(2**31)), self.psi)
        return np.clip(self.to_solutions(styles), self.lower, self.upper)

    def render(self, solutions: np.ndarray) -> np.ndarray:
        from PIL import Image

        faces = self.generator.render(self.to_styles(solutions), RENDER_SIZE)
        m = int(round(RENDER_SIZE * (1 - FACE_FRACTION) / 2))
        out = np.empty((len(faces), self.size, self.size, 3), np.uint8)
        for i, face in enumerate(faces):
            crop = Image.fromarray(face[m:RENDER_SIZE - m, m:RENDER_SIZE - m])
            out[i] = np.asarray(crop.resize((self.size, self.size), Image.Resampling.LANCZOS))
        return out


def make_style_genome(size: int) -> StyleGenome:
    if size > RENDER_SIZE:
        raise UserError(f"--size {size}: the stylegan genome renders faces of at most "
                        f"{RENDER_SIZE} px")
    return StyleGenome(load_stylegan(), size)
