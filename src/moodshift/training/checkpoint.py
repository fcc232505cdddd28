"""Checkpoints and weights: written atomically, read back weights-only, with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from moodshift.imageio import atomic_write


def atomic_torch_save(obj: object, path: Path) -> None:
    """torch.save to a hidden temporary file beside path, then rename: a checkpoint is either the
    old one or the new one, never half-written (Ctrl-C or a full disk mid-save)."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


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
