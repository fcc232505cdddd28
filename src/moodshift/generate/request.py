"""What every portrait generator shares: the bound on faces per request, a portrait with the
intent it was made to express, and reading a description plus explicit choices
(moodshift.generate.portraits and moodshift.generate.stylegan.portraits both use them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodshift.errors import UserError

# Refuse larger requests: every face is upscaled and styled (~0.2-0.5 s each on 2 cores).
MAX_N = 100


@dataclass(frozen=True)
class Portrait:
    image: np.ndarray
    intent: dict[str, object]


def read_request(text: str | None, emotion: str | None = None, age: str | None = None,
                 gender: str | None = None) -> tuple[str | None, str | None, str | None,
                                                     dict[str, object] | None]:
    """(emotion, age group, gender, the text's reading) from a description and explicit
    choices; explicit choices win over what the text says."""
    from moodshift.emotions import parse_emotion
    from moodshift.people import parse_age_group, parse_gender

    wanted = parse_emotion(emotion) if emotion else None
    age_group, sex = parse_age_group(age), parse_gender(gender)
    reading = None
    if text is not None:
        if not text.strip():
            raise UserError("the description is empty: give a text or use --emotion")
        from moodshift.text import read_text
        from moodshift.text.reader import text_problem

        problem = text_problem(text)
        if problem is not None:      # said of the description, not as read-text's "text 1"
            raise UserError(f"the description{problem}")

        r = read_text([text])[0]
        reading = r.to_json()
        wanted = wanted or r.emotion
        age_group = age_group if age is not None else r.age_group
        sex = sex if gender is not None else r.gender
    return wanted, age_group, sex, reading
