"""Lexicon fallback when the sentence model is not installed: NRC word list + moodshift's cues.

Uses the NRC Emotion Lexicon as shipped by the `nrclex` package (its ``nrc_en.json`` token list,
read directly: NRCLex.load_raw_text needs NLTK corpora that are not available offline). The NRC
lexicon is licensed for research purposes only (Mohammad & Turney 2013, Computational
Intelligence 29(3):436-465); see docs/read-text.md.

Scoring: each cue from moodshift's own list counts 2 for its (negation-resolved) emotion; each
other content word found in NRC spreads 1 over its NRC emotions (anger, disgust, fear, joy,
sadness, surprise; trust/anticipation/positive/negative are ignored), negation applied the same
way. Neutral has a small constant score so that weak evidence does not look certain.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.text.clean import word_variants
from moodshift.text.features import PreparedText
from moodshift.text.negation import NEGATED_EMOTION, negator_before

NRC_TO_EMOTION = {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy",
                  "sadness": "sad", "surprise": "surprise"}
OWN_CUE_WEIGHT = 2.0
NEUTRAL_BASE = 0.5
SMOOTHING = 0.1


@lru_cache(maxsize=1)
def nrc_words() -> dict[str, tuple[str, ...]]:
    """word -> moodshift emotions, from nrclex's bundled nrc_en.json."""
    try:
        from importlib import resources

        raw = json.loads(resources.files("nrclex.data").joinpath("nrc_en.json")
                         .read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise UserError(f"the NRC lexicon (package nrclex) is not available: {exc}") from None
    table: dict[str, tuple[str, ...]] = {}
    for word, affects in raw.items():
        mapped = tuple(NRC_TO_EMOTION[a] for a in affects if a in NRC_TO_EMOTION)
        if mapped:
            table[word.lower()] = mapped
    return table


def lexicon_scores(prepared: PreparedText) -> np.ndarray:
    """Raw evidence per emotion (EMOTIONS order)."""
    scores = np.zeros(len(EMOTIONS), np.float64)
    for emotion_count, emotion in zip(prepared.cue_counts(), EMOTIONS):
        scores[EMOTIONS.index(emotion)] += OWN_CUE_WEIGHT * emotion_count
    covered = {i for c in prepared.cues for i in range(c.start, c.end)}
    table = nrc_words()
    for i, tok in enumerate(prepared.tokens):
        if i in covered:
            continue
        emotions = next((table[v] for v in word_variants(tok) if v in table), None)
        if not emotions:
            continue
        negated = negator_before(prepared.tokens, i, covered) is not None
        for emotion in emotions:
            target = NEGATED_EMOTION[emotion] if negated else emotion
            if target is not None:
                scores[EMOTIONS.index(target)] += 1.0 / len(emotions)
    return scores


def lexicon_probabilities(prepared: PreparedText) -> tuple[np.ndarray, bool]:
    """Probabilities (7, sum 1) and whether any emotion word was found at all."""
    scores = lexicon_scores(prepared)
    found = bool(scores.sum() > 0)
    scores[EMOTIONS.index("neutral")] += NEUTRAL_BASE
    scores += SMOOTHING
    return scores / scores.sum(), found
