"""Genomes: how a vector of numbers (a pyribs solution) becomes an image.

* ``pixels``: the image itself, values in [0, 1] (the seed's baseline; Gaussian mutation and
  Iso+LineDD crossover act on pixels directly).
* ``cppn``: a small compositional pattern-producing network (Stanley 2007): every pixel's colour
  is a fixed-topology network of (x, |x|, y, r, 1) whose weights are the genome. Images come out
  smooth and often symmetric, which makes them easier to read than pixel noise.
* ``gan-latent``: a latent vector of moodshift's conditional GAN (see gan_genome.py).
* ``stylegan``: a point in MobileStyleGAN's style space, photoreal faces (stylegan_genome.py).

Every genome renders a batch of solutions in one call to uint8 (n, size, size, 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from moodshift.errors import UserError

GENOMES = ("pixels", "cppn", "gan-latent", "stylegan")


class Genome(Protocol):
    name: str
    size: int
    solution_dim: int
    lower: float
    upper: float

    def initial_solutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n starting solutions (the archive is empty)."""
        ...

    def render(self, solutions: np.ndarray) -> np.ndarray:
        """uint8 (n, size, size, 3) images for (n, solution_dim) solutions."""
        ...


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(x, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


@dataclass
class PixelGenome:
    """The RGB image in [0, 1], flattened (size * size * 3 numbers)."""

    size: int
    name: str = "pixels"
    lower: float = 0.0
    upper: float = 1.0

    @property
    def solution_dim(self) -> int:
        return self.size * self.size * 3

    def initial_solutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        # Smooth random colour fields rather than white noise: the classifier's first guesses
        # are then about shapes and shading, and mutation adds the detail.
        coarse = rng.uniform(0.0, 1.0, (n, 4, 4, 3)).astype(np.float32)
        reps = -(-self.size // 4)
        up = np.repeat(np.repeat(coarse, reps, axis=1), reps, axis=2)[:, :self.size, :self.size]
        return up.reshape(n, -1)

    def render(self, solutions: np.ndarray) -> np.ndarray:
        return to_uint8(np.asarray(solutions).reshape(-1, self.size, self.size, 3))


# CPPN node functions, one per block of hidden units: periodic (repetition), Gaussian (symmetry,
# blobs), sigmoid-like (edges) and absolute value (folds), Picbreeder's usual set.
ACTIVATIONS = ("sin", "gauss", "tanh", "abs")
CPPN_INPUTS = 5  # x, |x|, y, r, bias


@dataclass
class CppnGenome:
    """Weights of a CPPN with ``layers`` hidden layers of ``width`` units and an RGB output."""

    size: int
    width: int = 12
    layers: int = 2
    name: str = "cppn"
    lower: float = -4.0
    upper: float = 4.0

    def __post_init__(self) -> None:
        shapes = []
        fan_in = CPPN_INPUTS
        for _ in range(self.layers):
            shapes.append((fan_in, self.width))
            fan_in = self.width
        shapes.append((fan_in, 3))
        self.shapes = shapes
        lin = np.linspace(-1.0, 1.0, self.size, dtype=np.float32)
        yy, xx = np.meshgrid(lin, lin, indexing="ij")
        r = np.sqrt(xx * xx + yy * yy)
        self.coords = np.stack([xx, np.abs(xx), yy, r, np.ones_like(xx)], axis=-1).reshape(-1, 5)

    @property
    def solution_dim(self) -> int:
        return sum(a * b for a, b in self.shapes)

    def initial_solutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, 1.0, (n, self.solution_dim)).astype(np.float32)

    def render(self, solutions: np.ndarray) -> np.ndarray:
        # torch's batched matrix products are ~10x numpy's for these shapes. Activations are
        # kept as (n, units, pixels) so that each block of units is one contiguous slice.
        import torch

        sol = torch.from_numpy(np.clip(np.asarray(solutions, dtype=np.float32), self.lower,
                                       self.upper))
        n = len(sol)
        h = torch.from_numpy(np.ascontiguousarray(self.coords.T)).expand(n, -1, -1)
        offset = 0
        with torch.no_grad():
            for layer, (fan_in, fan_out) in enumerate(self.shapes):
                w = sol[:, offset:offset + fan_in * fan_out].reshape(n, fan_in, fan_out)
                offset += fan_in * fan_out
                h = torch.bmm(w.transpose(1, 2), h)
                if layer < len(self.shapes) - 1:
                    h = _activate(h)
            rgb = (torch.sigmoid(h) * 255.0).round_().to(torch.uint8)
        return rgb.reshape(n, 3, self.size, self.size).permute(0, 2, 3, 1).contiguous().numpy()


def _activate(h):  # type: ignore[no-untyped-def]
    """Apply ACTIVATIONS to consecutive blocks of the units (dim 1) of h, in place."""
    units = h.shape[1]
    cuts = [units * k // len(ACTIVATIONS) for k in range(len(ACTIVATIONS) + 1)]
    sin, gauss, tanh, absolute = (h[:, cuts[k]:cuts[k + 1]] for k in range(4))
    sin.sin_()
    gauss.square_().neg_().exp_()
    tanh.tanh_()
    absolute.abs_()
    return h


def make_genome(name: str, size: int, target_emotion: str | None, gan_path: str | None = None,
                options: dict[str, object] | None = None) -> Genome:
    """The genome called ``name`` at ``size`` px; gan-latent loads the conditional GAN."""
    opts = dict(options or {})
    if name == "pixels":
        return PixelGenome(size)
    if name == "cppn":
        return CppnGenome(size, width=int(opts.get("width", 12)),  # type: ignore[arg-type]
                          layers=int(opts.get("layers", 2)))  # type: ignore[arg-type]
    if name == "gan-latent":
        from moodshift.evolve.gan_genome import GanLatentGenome, load_gan
        return GanLatentGenome(load_gan(gan_path), size, target_emotion)
    if name == "stylegan":
        from moodshift.evolve.stylegan_genome import make_style_genome
        return make_style_genome(size)
    raise UserError(f"--genome {name}: unknown genome; valid genomes: {', '.join(GENOMES)}")
