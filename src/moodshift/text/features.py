"""From raw text to what the classifiers see: cleaned sentence, tokens, cues, cue counts."""

from __future__ import annotations

from dataclasses import dataclass

from moodshift.emotions import EMOTIONS
from moodshift.text.clean import CueLexicon, content_tokens, normalize, tokenize
from moodshift.text.negation import Cue, find_cues, rewrite_negations


@dataclass(frozen=True)
class PreparedText:
    original: str
    model_text: str            # what the sentence model embeds (emoji as words, negation resolved)
    tokens: list[str]
    content: list[str]         # tokens without stopwords and punctuation
    cues: list[Cue]

    def cue_counts(self) -> list[float]:
        """How many cues support each emotion (EMOTIONS order), negation applied."""
        counts = [0.0] * len(EMOTIONS)
        for cue in self.cues:
            if cue.effective is not None:
                counts[EMOTIONS.index(cue.effective)] += 1.0
        return counts

    @property
    def has_emotion_words(self) -> bool:
        return any(c.effective is not None for c in self.cues)


def prepare(text: str, lexicon: CueLexicon) -> PreparedText:
    clean = normalize(text, lexicon.emoji)
    tokens = tokenize(clean)
    cues = find_cues(tokens, lexicon)
    negated = any(c.negated for c in cues)
    model_text = rewrite_negations(tokens, cues) if negated else clean
    return PreparedText(text, model_text, tokens, content_tokens(tokens), cues)
