"""`moodshift train style` (Johnson networks) and the `trained` stylize engine, on tiny images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import portrait_like

from moodshift.errors import UserError


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, content_dir: Path, style_file: Path,
            ) -> tuple[Path, dict]:
    """One short training run shared by the tests below (the slow part: ~5 s)."""
    from moodshift.style.training.train import StyleTrainConfig, train_style

    out = tmp_path_factory.mktemp("model") / "stripes.onnx"
    result = train_style(StyleTrainConfig(
        content=str(content_dir), out=str(out), style=str(style_file), steps=3,
        backbone="mobilenet", size=32, batch=1, width=4, sample_every=2, checkpoint_every=2,
        threads=1, progress=False), log=lambda _: None)
    return out, json.loads(json.dumps(result.to_json()))


def test_trained_engine_blend_and_size_cap(trained: tuple[Path, dict]) -> None:
    from moodshift.style.engines.trained import load_model, stylize_trained

    model, _ = trained
    image = portrait_like(64, 48, seed=5)
    opts = {"model": model}
    alone = stylize_trained(image, {"sad": 1.0}, {}, opts)
    blended = stylize_trained(image, {"sad": 0.5, "happy": 0.5}, {}, opts)
    assert alone.shape == image.shape and alone.dtype == np.uint8
    assert np.abs(alone.astype(int) - blended).max() <= 1       # same net twice, weights 1/2
    capped = stylize_trained(image, {"sad": 1.0}, {}, opts | {"size": 32})
    assert capped.shape == image.shape
    assert load_model(model).metadata["width"] == "4"


def test_no_model_for_emotion_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every emotion ships a network; one whose network is gone (and that the palette names
    none for) is refused with the way to train one."""
    from moodshift.style.engines import trained

    monkeypatch.delitem(trained.SHIPPED, "fear", raising=False)
    with pytest.raises(UserError, match="no trained style model for fear.*--model"):
        trained.stylize_trained(portrait_like(32, 32), {"fear": 1.0}, {}, {})


def test_style_image_with_trained_engine_is_refused() -> None:
    from moodshift.style import stylize_image

    photo = portrait_like(32, 32)
    with pytest.raises(UserError, match="--style-image does not apply to --engine trained"):
        stylize_image(photo, "sad", style_image=photo, engine="trained")


def test_bad_model_file(tmp_path: Path) -> None:
    from moodshift.style.engines.trained import load_model

    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"\x08\x01garbage")
    with pytest.raises(UserError, match="bogus.onnx: not a readable ONNX model"):
        load_model(bogus)
    with pytest.raises(UserError, match="no such style model file"):
        load_model(tmp_path / "absent.onnx")


def test_palette_model_key(trained: tuple[Path, dict], tmp_path: Path) -> None:
    from moodshift.style import load_palette, stylize_image

    model, _ = trained
    toml = tmp_path / "my.toml"
    toml.write_text(f'[fear]\nmodel = "{model.name}"\n')
    with pytest.raises(UserError, match=r"my.toml: \[fear\].model: no such model file"):
        load_palette(toml)
    (tmp_path / model.name).write_bytes(model.read_bytes())
    palette = load_palette(toml)
    assert palette["fear"].model == str((tmp_path / model.name).resolve())
    assert palette["sad"].model is None or Path(palette["sad"].model).is_file()
    out = stylize_image(portrait_like(48, 48), "fear", palette, engine="trained")
    assert out.shape == (48, 48, 3)


def test_interrupt_saves_checkpoint(content_dir: Path, style_file: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from moodshift.style.training import data as train_data
    from moodshift.style.training.train import StyleTrainConfig, train_style

    real = train_data.ContentImages.batch
    calls = {"n": 0}

    def batch(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(train_data.ContentImages, "batch", batch)
    out = tmp_path / "int.onnx"
    cfg = StyleTrainConfig(content=str(content_dir), out=str(out), style=str(style_file),
                           backbone="mobilenet", steps=50, size=32, batch=1, width=4,
                           threads=1, progress=False)
    result = train_style(cfg, log=lambda m: None)
    assert result.interrupted and result.steps_done == 1
    assert out.is_file() and (tmp_path / "int_training" / "checkpoint.pt").is_file()


def test_shipped_models_verify_and_run() -> None:
    """Seed 001's system: a network for every one of the seven emotions ships."""
    from moodshift.emotions import EMOTIONS
    from moodshift.style.engines import trained

    assert trained.shipped_emotions() == list(EMOTIONS)
    for emotion in trained.shipped_emotions():
        path = trained.shipped_model(emotion)
        assert path is not None and trained.load_model(path).metadata["emotion"] == emotion
        out = trained.stylize_trained(portrait_like(64, 64), {emotion: 1.0}, {}, {})
        assert out.shape == (64, 64, 3)


def test_efficientnet_loss_layers_are_the_mood_ports_activations() -> None:
    """The EfficientNet-Lite0 perceptual backbone reads the same network the mood model runs:
    each named layer equals that block's expansion activation taken by a hook."""
    import torch

    from moodshift.errors import ModelMissingError
    from moodshift.style.backbones import load_backbone

    try:
        backbone = load_backbone("efficientnet")
    except ModelMissingError:
        pytest.skip("efficientnet-lite0 is not pulled (run `moodshift models pull`)")
    net = backbone.net
    seen: dict[str, torch.Tensor] = {}
    hooks = [net._blocks[i]._bn0.register_forward_hook(
        lambda _m, _i, out, name=f"b{i}_expand": seen.__setitem__(name, out.clamp(0, 6)))
        for i in (1, 3, 5, 11)]
    x = torch.rand(1, 3, 70, 52)
    with torch.no_grad():
        net((x * 255.0 - 127.0) / 128.0)
        for h in hooks:
            h.remove()
        ours = backbone(x)
    assert set(ours) == set(backbone.content_layers + backbone.style_layers)
    assert ours["conv0"].shape == (1, 32, 35, 26) and ours["b11_expand"].shape[1] == 672
    for name, value in seen.items():
        torch.testing.assert_close(ours[name], value, atol=1e-5, rtol=1e-4)


def test_networked_engines_keep_their_texture_off_faces_unless_asked() -> None:
    """Painted textures break faces up, so by default the fast and trained engines keep theirs
    off the face (grade, look and expression edit still apply); optimize keeps the light touch;
    an explicit --face-strength wins."""
    from moodshift.stylize import StyleRequest

    assert StyleRequest(emotion="sad").region_strengths().face == 0.0
    assert StyleRequest(emotion="sad", engine="optimize").region_strengths().face == 0.3
    assert StyleRequest(emotion="sad", engine="trained").region_strengths().face == 0.0
    assert StyleRequest(emotion="sad", engine="trained",
                        face_strength=0.5).region_strengths().face == 0.5
