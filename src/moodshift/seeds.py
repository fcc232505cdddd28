"""The one range of random seeds every command accepts (numpy and torch both take it whole)."""

from __future__ import annotations

from moodshift.errors import UserError

SEED_MIN, SEED_MAX = 0, 2**32 - 1
SEED_HELP = f"random seed, {SEED_MIN}..{SEED_MAX} (same seed, same result)"


def check_seed(seed: object, name: str = "seed") -> int:
    """The seed as an int, or a UserError saying the allowed range."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UserError(f"{name} {seed!r}: must be a whole number from {SEED_MIN} to {SEED_MAX}")
    if not SEED_MIN <= seed <= SEED_MAX:
        raise UserError(f"{name} {seed}: must be a whole number from {SEED_MIN} to {SEED_MAX}")
    return seed
