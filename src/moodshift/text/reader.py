"""read_text: clean -> cues and negation -> sentence embedding + head (or lexicon) -> result.

Backends: "embedding" (all-MiniLM-L6-v2 + moodshift's trained head), "lexicon" (NRC words +
moodshift's cues, no model), "auto" (embedding when installed, else lexicon).
A text without any emotion word reads as neutral with low confidence, and says so in `note`,
unless the sentence model is confident on its own (idioms the cue list lacks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.text.clean import has_letters, load_cues, normalize
from moodshift.text.demographics import extract_demographics
from moodshift.text.features import PreparedText, prepare
from moodshift.text.reading import BACKENDS, TextReading

# Without emotion words the sentence model is trusted only above this probability.
CONFIDENT_WITHOUT_CUES = 0.6
# Probabilities for "no emotion words": neutral on top, but clearly unsure (neutral = 0.4).
NO_EMOTION_NEUTRAL = 0.3
NOTE_NO_EMOTION = "no emotion words: neutral with low confidence"
NOTE_IMPLICIT = "no emotion words; emotion inferred from the whole sentence"
MAX_CHARS = 2000


def check_texts(texts: list[str]) -> None:
    """Refuse bad input before any work: one line naming the text and the problem."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise UserError("read_text expects a list of strings")
    if not texts:
        raise UserError("no text given: pass TEXT arguments or --file F")
    for i, text in enumerate(texts, 1):
        problem = text_problem(text)
        if problem is not None:
            raise UserError(f"text {i}{problem}")


def text_problem(text: object) -> str | None:
    """What is wrong with one text, worded to follow its name ("text 2 is empty"), or None."""
    if not isinstance(text, str):
        return f": expected a string, got {type(text).__name__}"
    shown = text.strip()[:40]
    if not text.strip():
        return " is empty"
    if len(text) > MAX_CHARS:
        return (f" ({shown!r}...) is {len(text)} characters long; descriptions are read up "
                f"to {MAX_CHARS}")
    if not has_letters(normalize(text, load_cues().emoji)):
        return f" ({shown!r}) has no words to read"
    return None


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    from moodshift.text.embedding import embedding_available

    return "embedding" if embedding_available() else "lexicon"


def _no_emotion_probabilities() -> np.ndarray:
    p = np.full(len(EMOTIONS), (1.0 - NO_EMOTION_NEUTRAL) / len(EMOTIONS))
    p[EMOTIONS.index("neutral")] += NO_EMOTION_NEUTRAL
    return p


def finalize(p: np.ndarray, has_emotion_words: bool, backend: str,
             threshold: float = CONFIDENT_WITHOUT_CUES) -> tuple[np.ndarray, str | None]:
    """Apply the no-emotion-words rule to one probability vector; returns (p, note)."""
    if has_emotion_words:
        return p, None
    top = int(np.argmax(p))
    if backend == "embedding" and p[top] >= threshold and EMOTIONS[top] != "neutral":
        return p, NOTE_IMPLICIT
    return _no_emotion_probabilities(), NOTE_NO_EMOTION


def _embedding_probabilities(prepared: list[PreparedText],
                             head_path: str | None) -> tuple[np.ndarray, float]:
    """Head probabilities per text, and the head's no-cue threshold."""
    from moodshift.text.classifier import load_head
    from moodshift.text.embedding import embed

    head = load_head(head_path)
    vectors = embed([p.model_text for p in prepared])
    counts = np.array([p.cue_counts() for p in prepared], np.float32)
    return head.probabilities(head.features(vectors, counts)), head.no_cue_threshold


def _describe_cues(p: PreparedText) -> list[str]:
    out = []
    for c in p.cues:
        words = " ".join(p.tokens[c.negator_start:c.end])
        out.append(f"{words}->{c.effective or 'none'}")
    return out


def check_head(backend: str, head: str | Path | None) -> None:
    """A classifier head belongs to the embedding backend; the lexicon has none."""
    if head is not None and backend == "lexicon":
        raise UserError("--head is a classifier head for --backend embedding; the lexicon "
                        "backend has none (drop --head or use --backend embedding)")


def read_texts(texts: list[str], backend: str = "auto", head: str | Path | None = None,
               cues: str | Path | None = None) -> list[TextReading]:
    """Read several texts at once (one batched embedding call)."""
    check_head(backend, head)
    check_texts(texts)
    chosen = resolve_backend(backend)
    lexicon = load_cues(str(cues) if cues is not None else None)
    prepared = [prepare(t, lexicon) for t in texts]
    threshold = CONFIDENT_WITHOUT_CUES
    if chosen == "embedding":
        probs, threshold = _embedding_probabilities(prepared,
                                                    str(head) if head is not None else None)
        found = [p.has_emotion_words for p in prepared]
    else:
        from moodshift.text.lexicon import lexicon_probabilities

        pairs = [lexicon_probabilities(p) for p in prepared]
        probs = np.stack([p for p, _ in pairs])
        found = [f for _, f in pairs]
    readings = []
    for text, prep, p, has_words in zip(texts, prepared, probs, found):
        p, note = finalize(p, has_words, chosen, threshold)
        p = np.asarray(p, np.float64)
        p = p / p.sum()
        top = int(np.argmax(p))
        demo = extract_demographics(text)
        readings.append(TextReading(
            text=text, emotion=EMOTIONS[top],
            probabilities={e: float(v) for e, v in zip(EMOTIONS, p)},
            age_group=demo.age_group, gender=demo.gender, age=demo.age,
            confidence=float(p[top]), backend=chosen, note=note, cues=_describe_cues(prep)))
    return readings
