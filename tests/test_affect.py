"""The affect generator: differentiable mood, a few real training steps against the frozen
models, saved models that load and generate, reports, resume, interruption and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import portrait_like
from PIL import Image

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.affect import generator as affect
from moodshift.generate.affect import report as affect_report
from moodshift.generate.affect import train as affect_train
from moodshift.generate.affect.losses import mood_vad
from moodshift.generate.affect.train import AffectTrainConfig, train_affect_generator
from moodshift.mood import measure_mood


def _tiny(kind: str, out: Path, **kw: object) -> AffectTrainConfig:
    base = dict(kind=kind, out=str(out), steps=40, batch=4, lr=3e-3, z_dim=8, width=8,
                image_size=16, eval_samples=4, log_every=5, checkpoint_every=20,
                progress=False, judges=[])
    base.update(kw)
    return AffectTrainConfig(**base)  # type: ignore[arg-type]


def _judge():
    """An expression model for the report: the shipped msnet (always in the package)."""
    from moodshift.expression.own import MoodshiftExpression

    return {"msnet": MoodshiftExpression.shipped(precision="fp32")}


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:40, 0:56]
    grad = np.stack([xx * 4, yy * 6, 255 - xx * 4], axis=-1).clip(0, 255).astype(np.uint8)
    return [portrait_like(96, 120), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), grad,
            np.full((24, 24, 3), 128, np.uint8), np.full((20, 20, 3), (30, 160, 60), np.uint8)]


def test_torch_mood_matches_measure_mood_and_has_finite_gradients() -> None:
    for image in _images():
        want = np.array(measure_mood(image).as_tuple())
        x = (torch.from_numpy(image).permute(2, 0, 1)[None].double() / 255).requires_grad_(True)
        got = mood_vad(x)
        got.sum().backward()
        assert np.abs(got.detach().numpy()[0] - want).max() < 0.01, image.shape
        assert torch.isfinite(x.grad).all()            # also on the grey image (a = b = 0)


def _first_last(history: list[dict], key: str, k: int = 2) -> tuple[float, float]:
    return (float(np.mean([h[key] for h in history[:k]])),
            float(np.mean([h[key] for h in history[-k:]])))


@pytest.mark.slow
def test_emotion_training_lowers_loss_and_saves_a_working_model(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = _tiny("emotion", tmp_path / "m", steps=80, lr=1e-2, diversity_weight=0.01,
                tv_weight=0.1)
    result = train_affect_generator(cfg, log=lambda m: None, judges=_judge())
    first, last = _first_last(result.history, "target_loss")
    assert last < first * 0.75, (first, last)
    a0, a1 = _first_last(result.history, "agreement")
    assert a1 > a0
    out = tmp_path / "m"
    for name in ("affect.safetensors", "affect.json", "checkpoint.pt", "history.json",
                 "curves.png", "samples.png", "report.json", "report.md", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0, name
    with Image.open(out / "samples.png") as grid:
        assert grid.height >= len(EMOTIONS) * 32     # one row per emotion, 2x scaled tiles
    report = json.loads((out / "report.json").read_text())
    assert [s["target"] for s in report["scores"]] == list(EMOTIONS)
    assert all(0 <= s["agreement"] <= 1 and s["diversity"] >= 0 for s in report["scores"])
    assert "sha256" in (out / "MODEL_CARD.md").read_text()

    gen = affect.load_affect_generator(out)
    assert (gen.kind, gen.image_size) == ("emotion", 16)
    imgs = gen.generate("joy", 3, seed=7)            # synonyms work
    assert imgs.shape == (3, 16, 16, 3) and imgs.dtype == np.uint8
    assert np.array_equal(imgs, gen.generate("happy", 3, seed=7))
    assert not np.array_equal(imgs, gen.generate("happy", 3, seed=8))
    again = affect.load_affect_generator(out / "checkpoint.pt")
    assert np.array_equal(again.generate("sad", 2, 1), gen.generate("sad", 2, 1))


@pytest.mark.slow
def test_vad_training_moves_mood_towards_targets(tmp_path: Path) -> None:
    torch.manual_seed(0)
    result = train_affect_generator(_tiny("vad", tmp_path / "v", steps=60, lr=5e-3),
                                    log=lambda m: None)
    first, last = _first_last(result.history, "target_loss")
    assert last < first * 0.75, (first, last)
    gen = affect.load_affect_generator(tmp_path / "v" / "affect.safetensors")
    assert gen.kind == "vad"
    assert gen.generate("0.5,-0.2,0.1", 2, 0).shape == (2, 16, 16, 3)
    report = json.loads((tmp_path / "v" / "report.json").read_text())
    assert all("not independent" in s["judge"] for s in report["scores"])
    assert all(s["mean_vad_error"] is not None for s in report["scores"])


@pytest.mark.slow
def test_resume_continues_and_interrupt_keeps_a_checkpoint(tmp_path: Path,
                                                           monkeypatch) -> None:
    out = tmp_path / "r"
    calls = {"n": 0}
    real = affect_train.mode_seeking_loss

    def interrupt_at_7(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(affect_train, "mode_seeking_loss", interrupt_at_7)
    res = train_affect_generator(_tiny("vad", out, steps=12), log=lambda m: None)
    assert res.interrupted and res.steps_done == 6
    assert not (out / "report.json").exists()           # no judged report for a partial run
    monkeypatch.setattr(affect_train, "mode_seeking_loss", real)
    res = train_affect_generator(_tiny("vad", out, steps=12, resume=str(out / "checkpoint.pt")),
                                 log=lambda m: None)
    assert not res.interrupted and res.steps_done == 12
    assert [h["step"] for h in res.history] == [5, 10, 12]
    with pytest.raises(UserError, match="--target vad"):
        train_affect_generator(_tiny("emotion", out, resume=str(out / "checkpoint.pt")),
                               log=lambda m: None)


def test_diversity_measure() -> None:
    same = np.repeat(portrait_like(32, 32)[None], 4, axis=0)
    assert affect_report.diversity(same) == 0.0
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    assert 0.1 < affect_report.diversity(noise) < 0.5


def test_loader_and_target_errors(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(UserError, match="no such affect generator"):
        affect.load_affect_generator(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="train affect-generator"):
        affect.load_affect_generator(tmp_path / "empty")
    bad = tmp_path / "bad" / "affect.safetensors"
    bad.parent.mkdir()
    bad.write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="not a readable safetensors"):
        affect.load_affect_generator(bad)
    with pytest.raises(UserError, match="unknown emotion"):
        affect.condition_for("emotion", "0.1,0.2,0.3")
    with pytest.raises(UserError, match="valence,arousal,dominance"):
        affect.condition_for("vad", "0.5,2")
    assert affect.condition_for("vad", "happy").tolist() == pytest.approx([0.81, 0.51, 0.46])
    # no shipped model of a kind -> a message saying how to train one
    monkeypatch.setattr(affect, "SHIPPED_SHA256", {})
    with pytest.raises(UserError, match="train affect-generator --target vad"):
        affect.load_affect_generator(None, kind="vad")


def test_shipped_model_is_checksum_verified(tmp_path: Path, monkeypatch) -> None:
    if not affect.SHIPPED_SHA256:
        pytest.skip("no shipped affect generator in this checkout")
    kind = next(iter(affect.SHIPPED_SHA256))
    gen = affect.load_affect_generator(None, kind=kind)
    assert gen.generate("happy", 2, 0).shape == (2, gen.image_size, gen.image_size, 3)
    copy = tmp_path / f"{kind}.safetensors"
    data = bytearray((affect.SHIPPED_DIR / copy.name).read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    (tmp_path / f"{kind}.json").write_text((affect.SHIPPED_DIR / f"{kind}.json").read_text())
    monkeypatch.setattr(affect, "SHIPPED_DIR", tmp_path)
    with pytest.raises(UserError, match="checksum mismatch"):
        affect.load_affect_generator(None, kind=kind)


def test_refuses_to_overwrite_a_model_and_unknown_judges(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "m"
    train_affect_generator(_tiny("vad", out, steps=2), log=lambda m: None)
    before = (out / "affect.safetensors").read_bytes()
    with pytest.raises(UserError, match="already holds an affect generator.*--resume"):
        train_affect_generator(_tiny("vad", out, steps=2), log=lambda m: None)
    assert (out / "affect.safetensors").read_bytes() == before
    fresh = tmp_path / "fresh"
    with pytest.raises(UserError, match="--judge ferr: unknown judge"):
        train_affect_generator(_tiny("emotion", fresh, judges=["ferr"]), log=lambda m: None)
    with pytest.raises(UserError, match="independent"):
        train_affect_generator(_tiny("emotion", fresh, judges=["moodshift"]), log=lambda m: None)
    assert not fresh.exists()

    def refuse(self: Path, *a: object, **kw: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(UserError, match="cannot create the output folder"):
        train_affect_generator(_tiny("vad", fresh, steps=2), log=lambda m: None)


@pytest.mark.slow
def test_resume_says_which_settings_come_from_the_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "m"
    train_affect_generator(_tiny("vad", out, steps=2), log=lambda m: None)
    logs: list[str] = []
    res = train_affect_generator(_tiny("vad", out, steps=3, width=4,
                                       resume=str(out / "checkpoint.pt")), log=logs.append)
    assert res.steps_done == 3
    assert any("checkpoint's --width 8 (not 4)" in m for m in logs)


def test_foreign_checkpoints_are_refused_in_one_line(tmp_path: Path) -> None:
    import pickle

    foreign = tmp_path / "checkpoint.pt"
    foreign.write_bytes(pickle.dumps({"generator": Path("x")}, protocol=2))  # a pickle, not tensors
    for call in (lambda: affect.load_affect_generator(foreign),
                 lambda: train_affect_generator(_tiny("vad", tmp_path / "o", resume=str(foreign)),
                                                log=lambda m: None)):
        with pytest.raises(UserError, match="not an affect-generator checkpoint") as info:
            call()
        assert "\n" not in str(info.value)
    assert not (tmp_path / "o").exists()
