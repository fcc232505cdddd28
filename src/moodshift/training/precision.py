"""Training precision: bf16 autocast where the CPU has bf16 units (no torch import here, so the
command line can offer the choices cheaply)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PRECISIONS = ("auto", "bf16", "fp32")


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
