"""``moodshift eval stylize``: the figures from known judge outputs, structure measures, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.evaluate.stylize import (
    PairResult,
    StylizeEvalConfig,
    append_log,
    format_table,
    read_log,
    structure,
    summarise,
    valence_order_rate,
)


def probs(top: str, p: float = 0.7) -> list[float]:
    rest = (1 - p) / (len(EMOTIONS) - 1)
    return [p if e == top else rest for e in EMOTIONS]


def pair(photo: str, target: str, before: str, after: str, found: bool = True,
         valence: float = 0.0) -> PairResult:
    return PairResult(photo, target, True, found, {"fer": probs(before)}, {"fer": probs(after)},
                      {"fer": probs(after) if found else None}, valence, 0.0, 0.9, 0.1)


def test_hit_rate_esr_and_emo_s_from_known_judgements() -> None:
    pairs = [pair("a", "happy", "neutral", "happy"),                  # hit, closer
             pair("b", "happy", "neutral", "happy", found=False),     # lost face: a miss
             pair("c", "happy", "happy", "sad")]                      # miss, further away
    s = summarise(pairs)
    fer = s["judges"]["fer"]
    assert fer["target_hit"] == pytest.approx(1 / 3, abs=1e-4)
    assert fer["target_hit_on_box"] == pytest.approx(2 / 3, abs=1e-4)
    assert fer["esr"] == pytest.approx(2 / 3, abs=1e-4)
    rest = 0.3 / 6
    assert fer["emo_s"] == pytest.approx((2 * (0.7 - rest) + (rest - 0.7)) / 3, abs=1e-4)
    assert s["face_found_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_a_resumed_run_counts_what_an_uninterrupted_one_counts(tmp_path: Path) -> None:
    """The log keeps the judges' rows unrounded: a move toward the target smaller than the
    report's 4 decimals still counts for ESR after resuming."""
    tiny = pair("a", "happy", "neutral", "neutral")
    tiny.after["fer"] = list(tiny.before["fer"])
    tiny.after["fer"][EMOTIONS.index("happy")] += 2e-6
    tiny.after["fer"][EMOTIONS.index("neutral")] -= 2e-6
    pairs = [tiny, pair("b", "sad", "sad", "happy")]
    # and the mood figures: two valences whose mean rounds the other way from rounded ones
    pairs[0].valence, pairs[1].valence = -0.05816, -0.05813
    log = tmp_path / "pairs.jsonl"
    for p in pairs:
        append_log(log, p)
    resumed = read_log(log)
    assert summarise(list(resumed.values())) == summarise(pairs)
    assert summarise(pairs)["judges"]["fer"]["esr"] == pytest.approx(0.5)


def test_a_log_from_something_else_is_refused_with_its_line(tmp_path: Path) -> None:
    log = tmp_path / "pairs.jsonl"
    append_log(log, pair("a", "happy", "neutral", "happy"))
    with log.open("a") as fh:
        fh.write('{"x": 1}\n[1, 2]\n')
    with pytest.raises(UserError, match=r"pairs\.jsonl: line 2: not a pair this command logged"):
        read_log(log)
    log.write_text('{"photo": "a", "target": "happy"}\n')
    with pytest.raises(UserError, match="line 1"):
        read_log(log)
    # a run interrupted twice: its cut record sits between whole ones, and is skipped
    log.unlink()
    append_log(log, pair("a", "happy", "neutral", "happy"))
    with log.open("a") as fh:
        fh.write('{"photo": "b", "tar')
    append_log(log, pair("b", "sad", "neutral", "sad"))
    assert set(read_log(log)) == {("a", "happy"), ("b", "sad")}
    log.write_text("photo,target\na.png,happy\n")    # a CSV, not a cut record
    with pytest.raises(UserError, match="line 1: not a pair"):
        read_log(log)


def test_valence_order_counts_photos_with_all_three_targets() -> None:
    pairs = [pair("a", "happy", "neutral", "happy", valence=0.5),
             pair("a", "neutral", "neutral", "neutral", valence=0.0),
             pair("a", "sad", "neutral", "sad", valence=-0.5),
             pair("b", "happy", "neutral", "happy", valence=0.0),
             pair("b", "neutral", "neutral", "neutral", valence=0.1),
             pair("b", "sad", "neutral", "sad", valence=-0.5),
             pair("c", "happy", "neutral", "happy", valence=0.9)]
    assert valence_order_rate(pairs) == 0.5


def test_valence_order_by_another_mood_model_reads_its_own_valences() -> None:
    pairs = [pair("a", "happy", "neutral", "happy", valence=0.5),
             pair("a", "neutral", "neutral", "neutral", valence=0.0),
             pair("a", "sad", "neutral", "sad", valence=-0.5)]
    for p, v in zip(pairs, (-0.2, 0.1, 0.3)):       # the other model reads them reversed
        p.extra["valence_by_mood_model"] = {"emotion6-only": v}
    assert valence_order_rate(pairs) == 1.0
    assert valence_order_rate(pairs, "emotion6-only") == 0.0
    assert valence_order_rate(pairs, "oasis-only") is None     # not measured in this run


def test_structure_is_perfect_for_the_same_image_and_drops_for_noise(portrait) -> None:
    ssim, edges = structure(portrait, portrait)
    assert ssim == pytest.approx(1.0) and edges == 0.0
    noisy = np.random.default_rng(0).integers(0, 256, portrait.shape, dtype=np.uint8)
    ssim2, edges2 = structure(portrait, noisy)
    assert ssim2 < 0.2 and edges2 > 0.05


def test_table_lists_every_emotion_and_the_anchors() -> None:
    from moodshift.evaluate.stylize import ANCHORS, mood_model_name
    pairs = [pair("a", e, "neutral", e) for e in ("happy", "sad", "neutral")]
    summary = {"per_emotion": {e: summarise([p for p in pairs if p.target == e])
                               for e in ("happy", "sad", "neutral")},
               "overall": summarise(pairs), "valence_order_rate": 0.0,
               "mood_model": mood_model_name(), "anchors": list(ANCHORS)}
    table = format_table(summary)
    assert all(e in table for e in ("happy", "sad", "neutral", "overall", "EmoEditor"))


def test_bad_config_is_a_user_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(UserError, match="not a folder"):
        StylizeEvalConfig(data=tmp_path / "missing")
    with pytest.raises(UserError, match="--emotions: unknown emotion 'joyish'"):
        StylizeEvalConfig(data=tmp_path, emotions=("joyish",))
    with pytest.raises(UserError, match="--background-photos -1"):
        StylizeEvalConfig(data=tmp_path, background_photos=-1)
    from moodshift.cli import main
    sheet = tmp_path / "sheet.png"
    Image.new("RGB", (32, 32)).save(tmp_path / "photo.png")
    assert main(["eval", "stylize", "--data", str(tmp_path), "--sheet", str(sheet),
                 "--sheet-photos", "0"]) == 2      # a sheet of no rows: said, not skipped
    assert "--sheet-photos 0" in capsys.readouterr().err and not sheet.exists()
    broken = tmp_path / "palette.toml"
    broken.write_text("[sad\nstrength = ")
    with pytest.raises(UserError, match="palette.toml"):
        StylizeEvalConfig(data=tmp_path, palette=broken)   # refused before the long run
    with pytest.raises(UserError, match="--mood-models: unknown mood model 'vibes'"):
        StylizeEvalConfig(data=tmp_path, mood_models=("emotion6-only", "vibes"))


@pytest.mark.slow
@pytest.mark.models
def test_cli_runs_end_to_end_on_the_bundled_portrait(tmp_path: Path, capsys) -> None:
    import json
    import shutil

    from moodshift.cli import main
    from moodshift.models.registry import status

    ready = {s.info.name for s in status() if s.status == "ok"}
    if not {"fer-xception", "faceapi-expression", "faceapi-ssd"} <= ready:
        pytest.skip("judges not pulled (run `moodshift models pull`)")
    data = tmp_path / "photos"
    data.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "examples" / "astronaut.png", data)
    sheet = tmp_path / "sheet.png"
    code = main(["eval", "stylize", "--data", str(data), "--emotions", "happy,sad", "--json",
                 "--sheet", str(sheet), "--mood-models", "emotion6-only"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and sheet.exists()
    # identity: FaceRes descriptor distance (unit vectors: 0..2), when FaceRes is pulled
    from moodshift.faces.faceres import load_if_pulled
    if load_if_pulled() is not None:
        assert 0 < out["overall"]["identity_distance"] <= 2
    other = out["other_mood_models"]["emotion6-only"]
    assert set(other["valence"]) == {"happy", "sad"} and -1 <= other["valence"]["sad"] <= 1
    assert other["valence_order_rate"] is None      # neutral was not asked
    assert out["photos"] == 1 and out["emotions"] == ["happy", "sad"]
    assert set(out["per_emotion"]) == {"happy", "sad"}
    assert out["overall"]["pairs"] == 2 and set(out["overall"]["judges"]) >= {"fer", "faceapi"}
    assert out["overall"]["judges"]["fer"]["counted"] is True
    # a log makes the run resumable: pairs already in it are read back, not redone
    log = tmp_path / "pairs.jsonl"
    assert main(["eval", "stylize", "--data", str(data), "--emotions", "happy", "--json",
                 "--log", str(log)]) == 0
    capsys.readouterr()
    log.write_text(log.read_text() + '{"half-written')
    assert main(["eval", "stylize", "--data", str(data), "--emotions", "happy,sad", "--json",
                 "--log", str(log)]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["overall"]["pairs"] == 2
    assert len([ln for ln in log.read_text().splitlines() if ln.startswith('{"photo"')]) == 2
