"""Emotion cues and explicit negation: "not happy at all" is a sad cue, "not angry" a calm one.

Sentence embeddings place "not happy" next to "happy", so negation is resolved here, before the
classifier: every cue word or phrase is found, a negator ("not", "never", "no longer", "anything
but", "-n't", ...) flips the cues in its scope (up to four tokens, ending at punctuation or a
contrast word), and the sentence handed to the embedding model has the negated stretch replaced
by a plain word ("unhappy" or "calm").

What a negated emotion becomes (moodshift's labelling policy, also used in the training data):
happy -> sad; angry, disgust, fear, sad, surprise -> neutral ("not angry, just quiet"); a negated
neutral word ("not calm") is dropped.
One negator over cues of different emotions ("not happy or sad", "neither ... nor ...") gives
neutral.
Not negations: comparatives ("couldn't be happier", "never been happier", "could not be more
pleased"), a negated "stop"/"help" ("can't stop smiling"), and "nothing but"/"no end of".
"""

from __future__ import annotations

from dataclasses import dataclass

from moodshift.text.clean import PUNCTUATION, CueLexicon, lookup

NEGATORS = frozenset({"not", "no", "never", "without", "hardly", "barely", "scarcely", "nothing",
                      "nobody", "none", "neither", "nor", "cannot", "lacks", "lacking"})
# Two-word negators: the first word starts the negation, the second is skipped.
NEGATOR_PAIRS = frozenset({("no", "longer"), ("far", "from"), ("anything", "but"),
                           ("not", "remotely"), ("not", "even")})
SCOPE = 4
# Words that end a negation's scope ("not angry, just quiet"; "not sad but tired").
SCOPE_END = frozenset({"but", "just", "simply", "merely", "only", "though", "yet", "instead",
                       "rather", "although", "because"}) | PUNCTUATION
# A negated one of these negates the action, not the feeling: "can't stop smiling".
DOUBLE_NEGATIVE = frozenset({"stop", "stopped", "stops", "help", "more", "wait", "end"})
COMPARATIVES = frozenset({"happier", "better", "prouder", "gladder", "more"})
NEGATED_EMOTION = {"happy": "sad", "sad": "neutral", "angry": "neutral", "disgust": "neutral",
                   "fear": "neutral", "surprise": "neutral", "neutral": None}
REWRITE_WORD = {"sad": "unhappy", "neutral": "calm"}


@dataclass(frozen=True)
class Cue:
    """One emotion word or phrase found in a text."""

    start: int             # token span [start, end)
    end: int
    emotion: str           # what the words say on their own
    negated: bool
    negator_start: int     # first token of the negator (== start when not negated)
    negator: str = ""

    @property
    def effective(self) -> str | None:
        """The emotion the cue supports once negation is applied (None: no emotion)."""
        if not self.negated:
            return self.emotion
        if self.negator in ("neither", "nor") and self.emotion != "neutral":
            return "neutral"          # "neither happy nor sad"
        return NEGATED_EMOTION[self.emotion]


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def _match_cues(tokens: list[str], lexicon: CueLexicon) -> list[tuple[int, int, str]]:
    """Phrases first (longest wins), then single words outside any phrase."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(tokens)
    for length in range(lexicon.longest_phrase, 1, -1):
        for i in range(len(tokens) - length + 1):
            key = tuple(tokens[i:i + length])
            if key in lexicon.phrases and not any(taken[i:i + length]):
                found.append((i, i + length, lexicon.phrases[key]))
                for j in range(i, i + length):
                    taken[j] = True
    for i, tok in enumerate(tokens):
        emotion = None if taken[i] else lookup(tok, lexicon.words, lexicon.exact)
        if emotion is not None:
            found.append((i, i + 1, emotion))
    return sorted(found)


def negator_before(tokens: list[str], start: int, phrase_tokens: set[int]) -> int | None:
    """Index of the negator whose scope covers token `start`, or None."""
    for back in range(1, SCOPE + 1):
        i = start - back
        if i < 0:
            return None
        tok = tokens[i]
        if tok in SCOPE_END and not (i > 0 and (tokens[i - 1], tok) in NEGATOR_PAIRS):
            return None
        if i in phrase_tokens:        # negators inside a cue phrase belong to the phrase
            continue
        if i > 0 and (tokens[i - 1], tok) in NEGATOR_PAIRS:
            i -= 1
            tok = tokens[i]
        elif not is_negator(tok):
            continue
        between = tokens[i + 1:start]
        if between[:1] == ["but"] and tok in {"nothing", "none", "no"}:
            return None               # "nothing but joy"
        if any(w in DOUBLE_NEGATIVE for w in between):
            return None               # "can't stop smiling", "could not be more pleased"
        return i
    return None


def find_cues(tokens: list[str], lexicon: CueLexicon) -> list[Cue]:
    """Every cue in the text with its negation resolved."""
    spans = _match_cues(tokens, lexicon)
    in_phrase = {j for s, e, _ in spans if e - s > 1 for j in range(s, e)}
    cues = []
    for start, end, emotion in spans:
        neg = None
        if not (end - start == 1 and tokens[start] in COMPARATIVES):
            neg = negator_before(tokens, start, in_phrase)
        cues.append(Cue(start, end, emotion, neg is not None, start if neg is None else neg,
                        "" if neg is None else tokens[neg]))
    # One negator over cues of different emotions ("not happy or sad") means neither of them.
    by_negator: dict[int, set[str]] = {}
    for c in cues:
        if c.negated:
            by_negator.setdefault(c.negator_start, set()).add(c.emotion)
    mixed = {i for i, emotions in by_negator.items() if len(emotions) > 1}
    return [Cue(c.start, c.end, c.emotion, True, c.negator_start, "neither")
            if c.negated and c.negator_start in mixed else c for c in cues]


def rewrite_negations(tokens: list[str], cues: list[Cue]) -> str:
    """The sentence with each negated stretch ("not happy", "neither sad nor angry") replaced by
    one plain word, so the sentence model sees the meaning rather than the negated word."""
    replace: dict[int, tuple[int, str]] = {}       # negator index -> (end, word)
    for cue in cues:
        if not cue.negated:
            continue
        word = REWRITE_WORD.get(cue.effective or "neutral", "calm")
        end, old = replace.get(cue.negator_start, (cue.end, word))
        # One negator covering several cues ("not afraid or angry"): keep the widest span, and
        # "unhappy" wins over "calm" because it carries the stronger meaning.
        replace[cue.negator_start] = (max(end, cue.end), "unhappy" if "unhappy" in (word, old)
                                      else word)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i in replace:
            end, word = replace[i]
            out.append(word)
            i = end
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)
