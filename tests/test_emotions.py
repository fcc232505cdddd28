"""The emotion vocabulary: EmotionMix parses a request once; people.py's age groups and genders."""

from __future__ import annotations

import numpy as np
import pytest

from moodshift.emotions import EMOTION_VAD, EmotionMix, nearest_emotion
from moodshift.errors import UserError
from moodshift.people import age_group_of, parse_age_group, parse_gender
from moodshift.stylize import StyleRequest


def test_mix_parses_auto_one_emotion_and_blends() -> None:
    assert EmotionMix.parse("auto").is_auto and EmotionMix.parse(" AUTO ").label == "auto"
    assert EmotionMix.parse("joy").label == "happy"          # synonyms become the canonical name
    blend = EmotionMix.parse("happy:0.7,sad:0.3")
    assert blend.as_dict() == pytest.approx({"happy": 0.7, "sad": 0.3})
    assert blend.label == "happy:0.70,sad:0.30" and blend.heaviest == "happy"
    assert EmotionMix.parse("sad:1,joy:3").label == "happy:0.75,sad:0.25"  # normalised, sorted
    assert EmotionMix.parse("happy:1").label == "happy"


def test_mix_coordinates_are_the_weighted_mean() -> None:
    vad = EmotionMix.parse("happy:0.5,sad:0.5").vad
    want = (np.array(EMOTION_VAD["happy"].as_tuple()) + EMOTION_VAD["sad"].as_tuple()) / 2
    assert vad.as_tuple() == pytest.approx(tuple(want))
    assert EmotionMix.parse("auto").resolve("fear").vad == EMOTION_VAD["fear"]


@pytest.mark.parametrize("text, message", [("smug", "unknown emotion 'smug'"),
                                           ("happy:lots", "is not a number"),
                                           ("happy:0,sad:0", "at least one positive weight"),
                                           ("happy:-1", "non-negative")])
def test_bad_requests_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        EmotionMix.parse(text)


def test_lenient_parsing_skips_what_it_cannot_read() -> None:
    assert EmotionMix.parse("happy:x,sad:0.3", lenient=True).heaviest == "sad"
    assert EmotionMix.parse("smug", lenient=True).heaviest is None


def test_nearest_emotion_over_the_dimensions_given() -> None:
    assert nearest_emotion(EMOTION_VAD["sad"]) == "sad"
    assert nearest_emotion((0.81, 0.51)) == "happy"


def test_people_vocabulary() -> None:
    assert [age_group_of(a) for a in (5, 13, 19.9, 20, 64, 65)] == [
        "child", "teen", "teen", "young_adult", "middle_aged", "elderly"]
    assert parse_age_group("senior") == "elderly" and parse_age_group("any") is None
    assert parse_gender("woman") == "female" and parse_gender(None) is None
    with pytest.raises(UserError, match="choose one of child"):
        parse_age_group("ancient")


def test_style_request_parses_its_emotion_and_checks_its_engine_options() -> None:
    assert StyleRequest(emotion="joy").mix.label == "happy"
    with pytest.raises(UserError, match="--steps: not an option of --engine fast"):
        StyleRequest(emotion="sad", engine_options={"steps": 3}).check()
    with pytest.raises(UserError, match="at least 64 px"):
        StyleRequest(emotion="sad", engine="optimize", style_name="tiny.png",
                     style_image=np.zeros((20, 20, 3), np.uint8)).check()
    with pytest.raises(UserError, match="--strength 2"):
        StyleRequest(emotion="sad", strength=2.0).check()
