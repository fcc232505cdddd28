"""read-text: labels on fixed sentences (negation included), both backends, age/gender edge cases,
bad input, the CLI, the shipped head's checksum and `train text` on a tiny set.

The sentence model takes ~10 s to load, so it is loaded once (module fixture) and every
embedding test shares one batched call.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from probes import modules_loaded_by
from text_data import FIXED, NO_EMOTION, needs_model

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.text import AGE_GROUPS, REPRESENTATIVE_AGE, TextReading, age_group_of, read_text
from moodshift.text.clean import load_cues
from moodshift.text.demographics import extract_demographics
from moodshift.text.features import prepare
from moodshift.text.reader import NOTE_NO_EMOTION, resolve_backend


@needs_model
@pytest.mark.parametrize("text,expected", FIXED)
def test_embedding_labels(embedded: dict[str, TextReading], text: str, expected: str) -> None:
    r = embedded[text]
    assert r.backend == "embedding"
    assert r.emotion == expected, (text, r.probabilities)
    assert list(r.probabilities) == list(EMOTIONS)
    assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert r.confidence == pytest.approx(max(r.probabilities.values()))


@needs_model
def test_no_emotion_words_is_neutral_with_low_confidence(embedded) -> None:
    r = embedded[NO_EMOTION]
    assert r.emotion == "neutral"
    assert r.note == NOTE_NO_EMOTION
    assert r.confidence < 0.5
    assert r.gender == "male" and r.age_group is None


@needs_model
def test_json_keys(embedded) -> None:
    data = embedded["an old man beaming at his grandchildren"].to_json()
    assert {"text", "emotion", "probabilities", "age_group", "gender", "confidence", "backend",
            "note"} <= set(data)
    assert data["age_group"] == "elderly" and data["gender"] == "male"
    assert data["vad"]["valence"] > 0.5          # happy pulls valence up
    json.dumps(data)


# First 8 dimensions of sentence-transformers' own embeddings (SentenceTransformer on the same
# package folder, normalize_embeddings=True): moodshift's encoder must reproduce them.
ST_REFERENCE = {
    "she is not happy at all": [0.076103, 0.04456, -0.0173679, -0.0267439, -0.0322743,
                                -0.0354171, 0.0288204, -0.0073463],
    "an old man beaming at his grandchildren \U0001F600": [
        -0.0234404, 0.0760913, 0.0130052, -0.0247894, 0.0287085, -0.0178049, 0.090209,
        -0.0233857],
}


@needs_model
def test_encoder_matches_sentence_transformers(embedded) -> None:
    from moodshift.text.embedding import embed

    vectors = embed(list(ST_REFERENCE))
    for row, reference in zip(vectors, ST_REFERENCE.values()):
        assert row[:8] == pytest.approx(reference, abs=2e-6)
        assert float((row ** 2).sum()) == pytest.approx(1.0, abs=1e-5)


LEXICON_FIXED = [
    ("a furious old man", "angry"),
    ("she is not happy at all", "sad"),
    ("a terrified little girl", "fear"),
    ("a woman laughing with joy", "happy"),
    ("a disgusted chef holding his nose", "disgust"),
    ("a man who is not afraid, just calm", "neutral"),
    ("an astonished boy", "surprise"),
]


def test_lexicon_backend_labels() -> None:
    readings = read_text([t for t, _ in LEXICON_FIXED], backend="lexicon")
    for r, (_, expected) in zip(readings, LEXICON_FIXED):
        assert r.backend == "lexicon"
        assert r.emotion == expected, (r.text, r.probabilities)
        assert sum(r.probabilities.values()) == pytest.approx(1.0)
    r = read_text(["a person next to a table"], backend="lexicon")[0]
    assert r.emotion == "neutral" and r.note == NOTE_NO_EMOTION and r.confidence < 0.5


def test_auto_falls_back_to_lexicon(monkeypatch) -> None:
    import moodshift.text.embedding as emb

    monkeypatch.setattr(emb, "embedding_available", lambda: False)
    assert resolve_backend("auto") == "lexicon"
    assert read_text(["a furious old man"])[0].backend == "lexicon"
    with pytest.raises(UserError, match=r"moodshift\[text\]"):
        emb.load_model.__wrapped__()


def test_negation_rewrites_and_cues() -> None:
    cues = load_cues()

    def effective(text: str) -> list[str | None]:
        return [c.effective for c in prepare(text, cues).cues]

    assert effective("not happy at all") == ["sad"]
    assert effective("she isn't scared") == ["neutral"]
    assert effective("can't stop smiling") == ["happy"]
    assert effective("could not be more pleased") == ["happy"]
    assert effective("nothing but joy") == ["happy"]
    assert effective("no longer sad, she laughs") == ["neutral", "happy"]
    assert prepare("not happy at all", cues).model_text == "unhappy at all"
    assert prepare("a man crossing the road", cues).cues == []     # "=cross": exact only


@pytest.mark.parametrize("text,group,gender,age", [
    ("a woman aged 52", "middle_aged", "female", 52.0),
    ("a twenty-year-old man", "young_adult", "male", 20.0),
    ("a seventy-five-year-old grandmother", "elderly", "female", 75.0),
    ("a man in his forties", "middle_aged", "male", 44.5),
    ("a woman in her late sixties", "elderly", "female", 68.0),
    ("a girl in her twenties", "young_adult", "female", 24.5),
    ("a 12-year-old girl", "child", "female", 12.0),
    ("a 13-year-old", "teen", None, 13.0),
    ("she is 19.", "teen", "female", 19.0),
    ("a 64-year-old", "middle_aged", None, 64.0),
    ("a 65 year old gentleman", "elderly", "male", 65.0),
    ("a woman, 38, smiling", "young_adult", "female", 38.0),
    ("a boy of seven", "child", "male", 7.0),
    ("a six-month-old baby", "child", None, 0.5),
    ("a forty-something dad", "middle_aged", "male", 44.5),
    ("a kid on a swing", "child", None, None),
    ("a sulking teenager", "teen", None, None),
    ("a teenage girl", "teen", "female", None),
    ("a young boy", "child", "male", None),
    ("an old gentleman", "elderly", "male", None),
    ("a young woman, heartbroken", "young_adult", "female", None),
    ("a grandmother knitting", "elderly", "female", None),
    ("a middle aged man", "middle_aged", "male", None),
    ("a mother with her baby", None, "female", None),          # the baby is not the subject
    ("a man with his 5-year-old son", None, "male", None),     # the son's age, not his
    ("a mother of two", None, "female", None),                 # children, not an age
    ("she is hugging her grandmother", None, "female", None),
    ("a grandmother aged 250", "elderly", "female", None),     # impossible age ignored
    ("a portrait from the 1970s", None, None, None),
    ("a happy face", None, None, None),
    # heights, weights and dates are not ages (these used to read as children of 5 or 6)
    ("a woman, 5'4\", furious", None, "female", None),
    ("a man, 6 ft tall", None, "male", None),
    ("a man, 1.85 m tall", None, "male", None),
    ("a man, 5'11", None, "male", None),
    ("she was 30 years ago", None, "female", None),
    ("he is 5.5 feet tall", None, "male", None),
    ("she's 70", "elderly", "female", 70.0),
    ("the man's 2 dogs", None, "male", None),
])
def test_demographics(text: str, group: str | None, gender: str | None,
                      age: float | None) -> None:
    d = extract_demographics(text)
    assert (d.age_group, d.gender, d.age) == (group, gender, age)


def test_age_groups() -> None:
    assert AGE_GROUPS == ("child", "teen", "young_adult", "middle_aged", "elderly")
    cases = {0: "child", 12.9: "child", 13: "teen", 19.9: "teen", 20: "young_adult",
             39: "young_adult", 40: "middle_aged", 64: "middle_aged", 65: "elderly",
             100: "elderly"}
    for years, group in cases.items():
        assert age_group_of(years) == group
    for group, years in REPRESENTATIVE_AGE.items():
        assert age_group_of(years) == group
    with pytest.raises(ValueError):
        age_group_of(-1)


@pytest.mark.parametrize("texts,message", [
    (["fine", "   "], "text 2 is empty"),
    ([], "no text given"),
    (["!!! ???"], "has no words"),
    (["x" * 3000], "characters long"),
])
def test_bad_input(texts: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        read_text(texts, backend="lexicon")


def test_unknown_backend() -> None:
    with pytest.raises(UserError, match="unknown backend 'bert'"):
        read_text(["a happy man"], backend="bert")


def test_command_module_is_light() -> None:
    assert modules_loaded_by("moodshift.cli.read_text, moodshift.text",
                             ("torch", "numpy", "sentence_transformers")) == []


def test_corrupt_head_is_refused(tmp_path: Path) -> None:
    from moodshift.text.classifier import SHIPPED_HEAD, head_config_path, load_head

    copy = tmp_path / "head.safetensors"
    shutil.copy(SHIPPED_HEAD, copy)
    shutil.copy(head_config_path(SHIPPED_HEAD), head_config_path(copy))
    assert load_head(str(copy)).weight.shape[0] == 7          # intact copy loads
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    load_head.cache_clear()
    with pytest.raises(UserError, match="checksum mismatch"):
        load_head(str(copy))


def test_unusable_head_config_or_shape_is_one_line_error(tmp_path: Path) -> None:
    import numpy as np

    from moodshift.text.classifier import SHIPPED_HEAD, head_config_path, load_head, save_head

    config = json.loads(head_config_path(SHIPPED_HEAD).read_text())
    weights = tmp_path / "head.safetensors"
    shutil.copy(SHIPPED_HEAD, weights)
    for bad, message in (([1], "must be a JSON object"),
                         ({k: v for k, v in config.items() if k != "cue_scale"},
                          "needs a numeric cue_scale")):
        head_config_path(weights).write_text(json.dumps(bad))
        load_head.cache_clear()
        with pytest.raises(UserError, match=message):
            load_head(str(weights))
    # a head for another embedding size would fail inside numpy at read time: refuse it on load
    narrow = tmp_path / "narrow.safetensors"
    save_head(narrow, np.zeros((7, 10), np.float32), np.zeros(7, np.float32),
              {"cue_scale": 1.0})
    load_head.cache_clear()
    with pytest.raises(UserError, match="expected 7 classes x 391 features"):
        load_head(str(narrow))


def test_bad_training_file(tmp_path: Path) -> None:
    from moodshift.text.train import load_sentences

    bad = tmp_path / "bad.tsv"
    bad.write_text("emotion\ttext\nhappy\ta smile\ngleeful\ta grin\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.tsv:3: unknown emotion 'gleeful'"):
        load_sentences(bad)

