"""read-text: emotion, age group and gender from a short description of a person.

Public interface (used by `moodshift generate`):
    read_text(texts, backend="auto") -> list[TextReading]
    TextReading, AGE_GROUPS, age_group_of(years), REPRESENTATIVE_AGE
This module stays light (no torch/numpy at import); the work is in moodshift.text.reader.
"""

from __future__ import annotations

from moodshift.people import AGE_GROUPS, REPRESENTATIVE_AGE, age_group_of
from moodshift.text.reading import BACKENDS, TextReading


def read_text(texts: list[str], backend: str = "auto") -> list[TextReading]:
    """Read each text: emotion (7 probabilities), age group, gender. See moodshift.text.reader."""
    from moodshift.text.reader import read_texts

    return read_texts(texts, backend=backend)


__all__ = ["AGE_GROUPS", "BACKENDS", "REPRESENTATIVE_AGE", "TextReading", "age_group_of",
           "read_text"]
