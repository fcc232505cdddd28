"""The command lines a model card records: every command of a resumed run, in order."""

from __future__ import annotations

from typing import Mapping, Sequence


def earlier_commands(saved: Mapping[str, object]) -> list[str]:
    """The commands recorded in a checkpoint's config: its earlier ones, then its own."""
    earlier = saved.get("commands") or []
    return [str(c) for c in earlier] + [str(saved.get("command", ""))]  # type: ignore[union-attr]


def card_commands(commands: Sequence[str], command: str,
                  missing: str = "(command not recorded)") -> list[str]:
    """The lines of a card's command block: earlier non-empty commands, then this run's."""
    return [c for c in commands if c] + [command or missing]
