"""Text cleaning: emoji to words, one tokeniser for every step, stopwords, the cue lexicon.

The sentence model sees a lightly cleaned sentence (emoji replaced, negations rewritten); the
cue and lexicon steps see tokens with stopwords removed. Both come from the same tokens so they
always agree on what a word is.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "text"
DEFAULT_CUES = DATA_DIR / "cues.toml"

# Words and punctuation; contractions ("can't") and hyphenated words ("red-faced") stay whole.
TOKEN_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[.,;:!?()]")
PUNCTUATION = frozenset(".,;:!?()")

# Function words that carry no emotion. Negators ("not", "no", "never", ...) are deliberately
# absent: the negation step needs them.
STOPWORDS = frozenset("""
a an the this that these those is are was were be been being am do does did has have had having
i me my we our you your he him his she her hers it its they them their who whom whose which what
of in on at to from by with for about as into over under after before while during through
and or so than then there here very really quite just also too again once all any some such
can could would should will shall may might must of up down out off s t
""".split())


@dataclass(frozen=True)
class CueLexicon:
    """moodshift's own emotion cue words and phrases (data/text/cues.toml)."""

    words: dict[str, str]                                  # token -> emotion
    exact: frozenset[str]                                  # words not matched through stems
    phrases: dict[tuple[str, ...], str]                    # token sequence -> emotion
    emoji: dict[str, str]                                  # emoji character -> word
    source: str

    @property
    def longest_phrase(self) -> int:
        return max((len(p) for p in self.phrases), default=1)


def _check_emotion(name: str, path: Path) -> str:
    if name not in EMOTIONS:
        raise InputFileError(path, f"unknown emotion {name!r} (use {', '.join(EMOTIONS)})")
    return name


@lru_cache(maxsize=8)
def load_cues(path: str | Path | None = None) -> CueLexicon:
    """Read a cue lexicon TOML file ([words], [phrases], [emoji]); one-line error if unusable."""
    file = Path(path) if path is not None else DEFAULT_CUES
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(file, "cue lexicon file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(file, f"not a readable TOML cue lexicon ({exc})") from None
    words: dict[str, str] = {}
    exact: set[str] = set()
    phrases: dict[tuple[str, ...], str] = {}
    for section, target in (("words", words), ("phrases", phrases)):
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise InputFileError(file, f"[{section}] must be a table of emotion = [list]")
        for emotion, entries in table.items():
            _check_emotion(emotion, file)
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise InputFileError(file, f"[{section}] {emotion} must be a list of strings")
            for entry in entries:
                toks = tuple(tokenize(entry))
                if not toks:
                    raise InputFileError(file, f"[{section}] {emotion}: {entry!r} has no word")
                if section == "words":
                    word = entry.lower()
                    if word.startswith("="):
                        word = word[1:]
                        exact.add(word)
                    target[word] = emotion
                else:
                    target[toks] = emotion
    emoji_table = raw.get("emoji", {})
    if not isinstance(emoji_table, dict) or not all(isinstance(v, str)
                                                    for v in emoji_table.values()):
        raise InputFileError(file, "[emoji] must be a table of \"emoji\" = \"word\"")
    emoji = {str(k): v for k, v in emoji_table.items()}
    return CueLexicon(words=words, exact=frozenset(exact), phrases=phrases, emoji=emoji,
                      source=str(file))


def normalize(text: str, emoji: dict[str, str] | None = None) -> str:
    """Unicode-normalise, replace emoji with words, unify apostrophes, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\ufe0f", "").replace("\u200d", "")    # emoji variation selectors, ZWJ
    if emoji:
        text = "".join(f" {emoji[ch]} " if ch in emoji else ch for ch in text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens."""
    return TOKEN_RE.findall(text.lower())


def content_tokens(tokens: list[str]) -> list[str]:
    """Tokens without stopwords or punctuation (the "clean" view used by the lexicons)."""
    return [t for t in tokens if t not in STOPWORDS and t not in PUNCTUATION]


# Suffixes tried when a word is not in a list as written: smiles -> smile, sneers -> sneer,
# dreading -> dread, tearfully -> tearful, cried -> cry.
_SUFFIXES = (("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ied", "y"), ("ies", "y"),
             ("es", ""), ("s", ""), ("ly", ""), ("ily", "y"), ("ness", ""), ("ment", ""))


def word_variants(token: str) -> list[str]:
    """The token first, then simple stems of it (no dictionary; short stems are skipped)."""
    out = [token]
    for suffix, repl in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            out.append(token[: len(token) - len(suffix)] + repl)
    return out


def lookup(token: str, table: dict[str, str], exact: frozenset[str] = frozenset()) -> str | None:
    """table[token], or table[stem] for the first listed stem that is not exact-only."""
    if token in table:
        return table[token]
    for v in word_variants(token)[1:]:
        if v in table and v not in exact:
            return table[v]
    return None


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)
