"""How big an evolve run may be: refuse a batch or iteration count whose memory or time would be
absurd, with the estimate, before anything is loaded.

The estimates are deliberately rough and optimistic (a run is refused only when even the
optimistic figure is out of reach). Measured for the CPPN genome at 64 px on 2 shared cores:
about 600 MB to start, plus ~110 bytes per pixel of every image in a batch (renders,
activations, the classifier's crops), and >= 30 ms per image; the pixels genome also keeps each
solution (3 values per pixel) in float64 several times over in pyribs.
"""

from __future__ import annotations

import os

from moodshift.errors import UserError

BASE_BYTES = 600 * 2**20
BYTES_PER_PIXEL = 110          # per image of a batch
PIXEL_GENOME_BYTES = 3 * 8 * 4  # pixels genome: float64 RGB solution, ~4 copies in pyribs
# Optimistic speed: ~20x faster than measured, so only truly absurd runs are refused.
SECONDS_PER_PIXEL = 1e-8
SECONDS_PER_IMAGE = 1e-4
# A stylegan image is a 1024 px MobileStyleGAN face: its synthesis alone takes about 0.2 s on 2
# cores (docs/stylegan.md), so half of that is still optimistic.
SECONDS_PER_IMAGE_BY_GENOME = {"stylegan": 0.1}
MAX_SECONDS = 30 * 86400       # a month of computing
MAX_ITERATIONS = 10_000_000    # the per-iteration history alone would pass ~1 GB beyond this
MAX_BATCH = 100_000
BOUNDS_HELP = (f"a run is refused if its estimated memory exceeds this machine's RAM, if it "
               f"would take over {MAX_SECONDS // 86400} days even at an optimistic speed, or "
               f"beyond {MAX_ITERATIONS:,} iterations / a batch of {MAX_BATCH:,}")


def physical_memory() -> int:
    """Bytes of RAM on this machine (a large default where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 64 * 2**30


def estimated_bytes(batch: int, size: int, genome: str) -> int:
    per_pixel = BYTES_PER_PIXEL + (PIXEL_GENOME_BYTES if genome == "pixels" else 0)
    return BASE_BYTES + batch * size * size * per_pixel


def estimated_seconds(batch: int, iterations: int, size: int, genome: str = "") -> float:
    per_image = SECONDS_PER_IMAGE_BY_GENOME.get(genome, SECONDS_PER_IMAGE)
    return batch * iterations * (per_image + size * size * SECONDS_PER_PIXEL)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**40 else f"{n / 2**40:,.3g} TiB"


def _duration(seconds: float) -> str:
    days = seconds / 86400
    if seconds < 90:
        return f"{seconds:,.0f} seconds"
    if seconds < 5400:
        return f"{seconds / 60:,.0f} minutes"
    if days < 1.5:
        return f"{seconds / 3600:,.0f} hours"
    return f"{days:,.0f} days" if days < 3650 else f"{days / 365:,.3g} years"


def check_batch(batch: int, size: int, genome: str) -> None:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
        raise UserError(f"--batch {batch}: must be a positive whole number")
    if batch > MAX_BATCH:
        raise UserError(f"--batch {batch}: at most {MAX_BATCH:,} images per iteration (would "
                        f"need about {_gib(estimated_bytes(batch, size, genome))} of memory)")
    need, have = estimated_bytes(batch, size, genome), physical_memory()
    if need > have:
        raise UserError(f"--batch {batch} at --size {size}: would need about {_gib(need)} of "
                        f"memory, this machine has {_gib(have)}")


def check_iterations(iterations: int, batch: int, size: int, genome: str = "") -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations <= 0:
        raise UserError(f"--iterations {iterations}: must be a positive whole number")
    if iterations > MAX_ITERATIONS:
        raise UserError(f"--iterations {iterations}: at most {MAX_ITERATIONS:,} (would take "
                        f"at least {_duration(estimated_seconds(batch, iterations, size, genome))})")
    seconds = estimated_seconds(batch, iterations, size, genome)
    if seconds > MAX_SECONDS:
        raise UserError(f"--iterations {iterations} x --batch {batch}: would take at least "
                        f"{_duration(seconds)} (the limit is {MAX_SECONDS // 86400} days)")
