"""Age group and gender from a description: numbers, decades and person words.

Evidence, strongest first: an explicit age ("aged 52", "a 52-year-old", "twenty-year-old",
"a woman, 52,", "a boy of seven", "six-month-old"), a decade ("in her forties", "in his late
20s", "thirty-something"), then words (kid, teenager, grandmother, "old man", "middle-aged").
Gender comes from the first gendered word (woman, gentleman, grandpa, she, his, ...). Anything
the text does not say stays None: nothing is guessed.

Groups (issue #5): child < 13, teen 13-19, young_adult 20-39, middle_aged 40-64, elderly 65+.
A decade gives its middle (forties -> 44.5, early -> +2, mid -> +5, late -> +8), so "in her
sixties" (64.5) is middle_aged and "in her late sixties" (68) elderly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moodshift.people import (  # noqa: F401  (REPRESENTATIVE_AGE: the package's public name)
    AGE_GROUPS,
    MAX_AGE,
    REPRESENTATIVE_AGE,
    age_group_of,
)


@dataclass(frozen=True)
class Demographics:
    age_group: str | None
    gender: str | None
    age: float | None                  # years, only when the text states a number or decade
    evidence: str | None = None        # the words the age came from

    def to_json(self) -> dict[str, object]:
        return {"age_group": self.age_group, "gender": self.gender, "age": self.age}


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_TENS_RE = re.compile(r"\b(" + "|".join(_TENS) + r")(?:[- ](" + "|".join(_UNITS[1:10]) +
                      r"))?\b(?!ies|ieth)")
_UNITS_RE = re.compile(r"\b(" + "|".join(_UNITS) + r")\b")
_HUNDRED_RE = re.compile(r"\b(?:a|one) hundred(?:[- ]and[- ]| and |[- ])?(\d+)?\b")

_YEARS = r"(?:years?|yrs?|yo|y/o)"
_QUAL = r"(?:about|around|roughly|nearly|almost|maybe|perhaps|approximately|over|under|just)\s+"
# A number followed by one of these is a height, weight, share or date, not an age:
# "a woman, 5'4\"", "a man, 6 ft", "1.85 m", "42 kg", "30 years ago".
_NOT_AN_AGE = (r"(?![.,]\d|\s*(?:['\"\u2032\u2033%]|cm\b|mm\b|m\b|kg\b|km\b|lbs?\b|pounds\b|"
               r"stone\b|ft\b|feet\b|foot\b|inch|miles?\b|years?\s+ago\b))")
AGE_PATTERNS = [
    re.compile(rf"\b(\d{{1,3}})[- ]?{_YEARS}[- ]old\b"),                   # 52-year-old
    re.compile(rf"\b(\d{{1,3}})\s*{_YEARS}\s+of\s+age\b"),                 # 52 years of age
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o)\b"),                          # 52yo
    re.compile(rf"\baged?\s*:?\s*(?:{_QUAL})?(\d{{1,3}})\b{_NOT_AN_AGE}"),  # aged 52
    re.compile(r"(?:\b(?:turned|turning|is|was)|(?<=[a-z])'s)\s+(\d{1,3})\b" + _NOT_AN_AGE +
               r"(?=\s*(?:$|[.,;!]|now|today|this|last|years?|and))"),  # she is 52. she's 70
]
_POSSESSIVE_BEFORE = re.compile(r"\b(?:his|her|their|my|your|our)\s+$")
_AFTER_PERSON = re.compile(rf"\b([a-z]+)(,\s*|\s+of\s+)(?:{_QUAL})?(\d{{1,3}})\b{_NOT_AN_AGE}"
                           r"(?!\s*(?:of\b|minutes|hours|days|weeks|months))")
PARENT_WORDS = frozenset({"mother", "father", "mom", "mum", "dad", "parent", "parents", "mommy",
                          "mummy", "daddy"})
_MONTHS = re.compile(r"\b(\d{1,2})[- ](month|week|day)s?[- ]old\b")
_DECADE_NAMES = {"teens": 10, "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50,
                 "sixties": 60, "seventies": 70, "eighties": 80, "nineties": 90}
_DECADE_WORD = r"(teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|" \
               r"[2-9]0'?s)"
_PART = r"(?:(early|mid|late)[- ]?)?"
DECADE_PATTERNS = [
    re.compile(rf"\bin\s+(?:his|her|their|my|your|its)\s+{_PART}{_DECADE_WORD}\b"),
    re.compile(rf"\b{_PART}([2-9]0)[- ]?something\b"),                     # 40-something
]

# Person words: (gender, age group implied by the word itself).
PERSON_WORDS: dict[str, tuple[str | None, str | None]] = {}


def _add(words: str, gender: str | None, group: str | None) -> None:
    for w in words.split():
        PERSON_WORDS[w] = (gender, group)


_add("woman women lady ladies mother mom mum mommy mummy daughter sister aunt auntie wife "
     "queen actress waitress niece nun businesswoman policewoman girlfriend madam female gal "
     "lass heroine stewardess bride housewife", "female", None)
_add("man men gentleman gentlemen father dad daddy son brother uncle husband king actor waiter "
     "nephew widower monk guy lad sir male businessman policeman boyfriend bloke chap fisherman "
     "postman fireman groom", "male", None)
_add("widow", "female", None)
_add("girl girls schoolgirl", "female", "child")
_add("boy boys schoolboy", "male", "child")
_add("grandmother grandma granny gran nan nana granddaughter", "female", None)
_add("grandfather grandpa grandad granddad gramps grandson", "male", None)
_add("baby babies infant infants toddler toddlers newborn kid kids child children youngster "
     "youngsters tot tots kindergartener preschooler schoolchild", None, "child")
_add("teenager teenagers teen teens adolescent adolescents", None, "teen")
_add("pensioner pensioners retiree retirees senior seniors octogenarian nonagenarian "
     "centenarian grandparent grandparents elder", None, "elderly")
_add("person people adult adults couple parent parents student someone individual", None, None)
# Grandparents are elderly; grandchildren are children.
for _w in ("grandmother", "grandma", "granny", "gran", "nan", "nana", "grandfather", "grandpa",
           "grandad", "granddad", "gramps"):
    PERSON_WORDS[_w] = (PERSON_WORDS[_w][0], "elderly")
for _w in ("granddaughter", "grandson"):
    PERSON_WORDS[_w] = (PERSON_WORDS[_w][0], "child")
PRONOUNS = {"she": "female", "her": "female", "hers": "female", "herself": "female",
            "he": "male", "him": "male", "his": "male", "himself": "male"}
# Age words in front of a person word ("old man", "little girl", "teenage boy").
AGE_MODIFIERS = {"old": "elderly", "older": "elderly", "elderly": "elderly", "aged": "elderly",
                 "aging": "elderly", "ageing": "elderly", "retired": "elderly",
                 "grey-haired": "elderly", "white-haired": "elderly", "young": "young_adult",
                 "younger": "young_adult", "middle-aged": "middle_aged",
                 "teenage": "teen", "teenaged": "teen", "adolescent": "teen", "little": "child",
                 "small": "child", "baby": "child"}
# "a young boy" is still a child; "a young teenager" still a teen.
_WORD_RE = re.compile(r"[a-z]+(?:-[a-z]+)*")


def _numbers_to_digits(text: str) -> str:
    """'seventy-five-year-old' -> '75-year-old', 'a hundred' -> '100'."""
    def tens(m: re.Match[str]) -> str:
        return str(_TENS[m.group(1)] + (_UNITS.index(m.group(2)) if m.group(2) else 0))

    text = _TENS_RE.sub(tens, text)
    text = _UNITS_RE.sub(lambda m: str(_UNITS.index(m.group(1))), text)
    return _HUNDRED_RE.sub(lambda m: str(100 + int(m.group(1) or 0)), text)


def _explicit_age(text: str) -> tuple[float, str] | None:
    """The first stated age in years (earliest in the text), with its words."""
    hits: list[tuple[int, float, str]] = []
    for m in _MONTHS.finditer(text):
        per_year = {"month": 12.0, "week": 52.0, "day": 365.0}[m.group(2)]
        hits.append((m.start(), int(m.group(1)) / per_year, m.group(0)))
    for pattern in AGE_PATTERNS:
        for m in pattern.finditer(text):
            if _POSSESSIVE_BEFORE.search(text, 0, m.start()):
                continue          # "a man with his 5-year-old son": the son's age
            hits.append((m.start(), float(m.group(1)), m.group(0)))
    # "a woman, 52," / "a boy of 7": a number right after a person word ("a mother of two" is
    # about her children, so parents are left out of the "of" form).
    for m in _AFTER_PERSON.finditer(text):
        word, joint = m.group(1), m.group(2)
        if word in PERSON_WORDS and not ("of" in joint and word in PARENT_WORDS):
            hits.append((m.start(3), float(m.group(3)), m.group(0)))
    plausible = [(pos, age, words) for pos, age, words in hits if 0 < age <= MAX_AGE]
    if not plausible:
        return None
    _, age, words = min(plausible)
    return age, words


def _decade_age(text: str) -> tuple[float, str] | None:
    for pattern in DECADE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        part, decade = m.group(1), m.group(2)
        base = _DECADE_NAMES.get(decade)
        if base is None:
            base = int(decade[:2])
        if base == 10:            # teens run 13-19
            offset = {"early": 1.0, "mid": 3.0, "late": 6.0}.get(part or "", 3.0)
            return 13.0 + offset, m.group(0)
        offset = {"early": 2.0, "mid": 5.0, "late": 8.0}.get(part or "", 4.5)
        return base + offset, m.group(0)
    return None


def _person_words(text: str) -> tuple[str | None, str | None, str | None]:
    """Gender and age group from person words: (gender, age group, evidence)."""
    words = _WORD_RE.findall(text)
    gender = None
    group = None
    evidence = None
    for i, w in enumerate(words):
        if gender is None and w in PRONOUNS:
            gender = PRONOUNS[w]
        if w in ("she", "he") and group is None:
            group = ""            # the subject is a pronoun: its age is whatever the text states
        if w not in PERSON_WORDS:
            # "the elderly", "a teenage ..." with no noun after them still say the age.
            if group is None and w in ("elderly", "teenage", "middle-aged"):
                group, evidence = AGE_MODIFIERS[w], w
            continue
        word_gender, word_group = PERSON_WORDS[w]
        if gender is None:
            gender = word_gender
        if group is None:
            modifier = next((words[j] for j in (i - 1, i - 2) if j >= 0
                             and words[j] in AGE_MODIFIERS), None)
            if word_group is not None:
                # A noun that names an age ("girl", "teenager") beats "young"/"old", except that
                # "old"/"elderly" before a grandparent adds nothing and "teenage girl" is a teen.
                group = "teen" if modifier in ("teenage", "teenaged") else word_group
                evidence = f"{modifier} {w}" if modifier else w
            elif modifier is not None:
                group, evidence = AGE_MODIFIERS[modifier], f"{modifier} {w}"
            else:
                # The first person word says nothing about age: later words describe someone
                # else ("a mother with her baby"), so the age stays unknown.
                group = ""
        if gender is not None and group is not None:
            break
    return gender, group or None, evidence


def extract_demographics(text: str) -> Demographics:
    """Age group, gender and (when stated) age in years, or None for what the text doesn't say."""
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    lowered = re.sub(r"\bmiddle[- ]aged\b", "middle-aged", lowered)
    digits = _numbers_to_digits(lowered)
    gender, word_group, evidence = _person_words(lowered)
    found = _explicit_age(digits) or _decade_age(digits)
    if found is not None:
        age, words = found
        return Demographics(age_group_of(age), gender, round(age, 2), words)
    return Demographics(word_group, gender, None, evidence)
