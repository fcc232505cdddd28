"""Small pieces every moodshift trainer shares (expression, style, GAN, affect generator)."""

from __future__ import annotations

import os
from pathlib import Path

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
