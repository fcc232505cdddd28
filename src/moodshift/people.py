"""Who a portrait shows: the age groups and genders moodshift reads, generates and reports."""

from __future__ import annotations

from moodshift.errors import UserError

AGE_GROUPS: tuple[str, ...] = ("child", "teen", "young_adult", "middle_aged", "elderly")
# Lower bound (years) of each group.
GROUP_START = {"child": 0.0, "teen": 13.0, "young_adult": 20.0, "middle_aged": 40.0,
               "elderly": 65.0}
# A typical age inside each group, for code that needs one number (e.g. the portrait generator).
REPRESENTATIVE_AGE = {"child": 8.0, "teen": 16.0, "young_adult": 28.0, "middle_aged": 52.0,
                      "elderly": 74.0}
MAX_AGE = 120.0
# The order of the conditional GAN's gender condition (face-api's age/gender net has its own).
GENDERS: tuple[str, ...] = ("female", "male")

AGE_SYNONYMS = {"kid": "child", "young": "young_adult", "adult": "young_adult",
                "young-adult": "young_adult", "young adult": "young_adult",
                "middle-aged": "middle_aged", "middle aged": "middle_aged", "middle": "middle_aged",
                "old": "elderly", "senior": "elderly", "teenager": "teen"}
GENDER_SYNONYMS = {"woman": "female", "f": "female", "girl": "female",
                   "man": "male", "m": "male", "boy": "male"}


def age_group_of(years: float) -> str:
    """The age group for an age in years (child < 13, teen < 20, young adult < 40, middle aged
    < 65, elderly 65+)."""
    if years < 0 or years != years:
        raise ValueError(f"age {years!r} is not a valid number of years")
    group = AGE_GROUPS[0]
    for name in AGE_GROUPS:
        if years >= GROUP_START[name]:
            group = name
    return group


def parse_age_group(value: str | None) -> str | None:
    """Canonical age group (or None for unspecified); a UserError lists the valid ones."""
    if value is None:
        return None
    key = value.strip().lower()
    key = AGE_SYNONYMS.get(key, key)
    if key in ("any", "auto", ""):
        return None
    if key not in AGE_GROUPS:
        raise UserError(f"unknown age group {value!r}: choose one of {', '.join(AGE_GROUPS)}")
    return key


def parse_gender(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    key = GENDER_SYNONYMS.get(key, key)
    if key in ("any", "auto", ""):
        return None
    if key not in GENDERS:
        raise UserError(f"unknown gender {value!r}: choose one of {', '.join(GENDERS)}")
    return key
