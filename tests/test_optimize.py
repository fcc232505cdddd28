"""The optimize style engine: backbones (VGG checkpoint reading, dequantised MobileNet), Gatys
losses, the optimisation loop and its error messages. Tiny generated inputs only."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch

from moodshift.errors import UserError
from moodshift.style import backbones
from moodshift.style.backbones import load_backbone, mobilenet, vgg
from moodshift.style.engines import optimize, optimize_schedule
from moodshift.style.engines.optimize import Objective, optimize_image, stylize_optimize, to_tensor
from moodshift.style.engines.optimize_settings import parse_options
from moodshift.style.losses import content_loss, gram, style_loss, tv_loss


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    hub = tmp_path_factory.mktemp("torchhub")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODSHIFT_CACHE", str(folder))
        mp.setenv("TORCH_HOME", str(hub))  # no real VGG weights: the test sees an empty hub
        mp.setattr(torch.hub, "_hub_dir", None)
        yield folder


@pytest.fixture(autouse=True)
def few_threads() -> None:
    torch.set_num_threads(1)


def stripes(size: int = 96) -> np.ndarray:
    """A 'painting': diagonal blue/orange strokes."""
    yy, xx = np.mgrid[0:size, 0:size]
    wave = (np.sin((xx + yy) / 3.0) > 0)[..., None]
    return np.where(wave, [30, 60, 200], [240, 150, 40]).astype(np.uint8)


def portrait(h: int = 72, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 120, np.uint8)
    img[((xx - w / 2) / (w * 0.3)) ** 2 + ((yy - h / 2) / (h * 0.35)) ** 2 <= 1] = (205, 160, 130)
    return img


def vgg16_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """A random checkpoint with torchvision's key names (features + a classifier to ignore)."""
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(shape, generator=gen) * 0.05
             for k, shape in vgg.expected_shapes("vgg16").items()}
    state["classifier.6.bias"] = torch.zeros(10)
    torch.save(state, path)
    return state


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- losses ---------------------------------------------------------------------------------

def test_gram_is_normalised_by_positions() -> None:
    f = torch.ones(1, 2, 4, 8)
    assert torch.allclose(gram(f), torch.ones(1, 2, 2))  # F Fᵀ / (H W)
    small, large = torch.rand(1, 3, 8, 8), None
    large = small.repeat(1, 1, 2, 2)  # same statistics, 4x the positions
    assert torch.allclose(gram(small), gram(large), atol=1e-6)


def test_losses_are_zero_at_the_target_and_tv_sums() -> None:
    feats = {"a": torch.rand(1, 4, 5, 5)}
    assert float(content_loss(feats, feats, ["a"])) == 0.0
    assert float(style_loss(feats, {"a": gram(feats["a"])[0]}, ["a"])) == pytest.approx(0, abs=1e-9)
    x = torch.zeros(1, 3, 4, 4)
    x[:, :, :, 2:] = 1.0  # one vertical edge, 4 rows x 3 channels
    assert float(tv_loss(x)) == pytest.approx(12.0)


# ---- VGG ------------------------------------------------------------------------------------

def test_vgg_loader_reads_a_torchvision_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "vgg16-mine.pth"
    state = vgg16_checkpoint(path)
    net = vgg.load_vgg("vgg16", path, expected_sha256=sha256(path))
    assert not any(p.requires_grad for p in net.parameters()) and not net.training
    x = torch.rand(1, 3, 64, 48)
    feats = net(x)
    assert set(feats) == set(vgg.CONTENT_LAYERS + vgg.STYLE_LAYERS)
    assert feats["conv1_1"].shape == (1, 64, 64, 48) and feats["conv5_1"].shape == (1, 512, 4, 3)
    normalised = (x - torch.tensor(vgg.MEAN).view(1, 3, 1, 1)) / torch.tensor(vgg.STD).view(1, 3, 1, 1)
    expected = torch.relu(torch.nn.functional.conv2d(
        normalised, state["features.0.weight"], state["features.0.bias"], padding=1))
    assert torch.allclose(feats["conv1_1"], expected, atol=1e-5)


def test_vgg_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vgg16-397923af.pth"
    vgg16_checkpoint(path)
    with pytest.raises(UserError, match="checksum mismatch") as err:
        vgg.load_vgg("vgg16", path)  # the official digest: a random file cannot match it
    assert str(path) in str(err.value)
    with pytest.raises(UserError, match="checksum mismatch"):
        load_backbone("vgg16", vgg_weights=path)


def test_vgg_wrong_shapes_name_the_tensor(tmp_path: Path) -> None:
    path = tmp_path / "bad.pth"
    state = {k: torch.zeros(shape) for k, shape in vgg.expected_shapes("vgg16").items()}
    state["features.10.weight"] = torch.zeros(256, 64, 3, 3)
    torch.save(state, path)
    with pytest.raises(UserError, match=r"features\.10\.weight has shape \(256, 64, 3, 3\)"):
        vgg.load_vgg("vgg16", path, expected_sha256="")
    del state["features.10.weight"]
    torch.save(state, path)
    with pytest.raises(UserError, match=r"missing tensor features\.10\.weight"):
        vgg.load_vgg("vgg16", path, expected_sha256="")


def test_missing_vgg_weights(monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(vgg.urllib.request, "urlopen", offline)
    with pytest.raises(UserError, match="vgg19 weights not found: looked for .*vgg19-dcbb9e9d"):
        load_backbone("vgg19")
    backbones.base._SAID.clear()
    net = load_backbone("auto")
    assert net.name == "mobilenet"
    load_backbone("auto")
    err = capsys.readouterr().err
    assert err.count("using the offline MobileNet backbone") == 1  # said once


# ---- MobileNet ------------------------------------------------------------------------------

def test_dequantised_mobilenet_matches_the_quantised_onnx_model() -> None:
    """The torch port must compute what the int8 QDQ graph means. With graph optimisations off,
    ONNX Runtime runs each DequantizeLinear + float Conv exactly as written: the same on every
    CPU, and the port matches it to a cosine of 0.99965 (measured). With optimisations on, ORT
    fuses the graph into int8 kernels whose results depend on the CPU: 0.9996 with VNNI, 0.9868
    on a CPU without it, where the u8s8 kernels saturate 16-bit intermediate sums (a known ORT
    behaviour, microsoft/onnxruntime#14642). The style vector only picks a look, so the fused
    check allows that spread and no more."""
    import onnxruntime as ort

    yy, xx = np.mgrid[0:256, 0:256] / 255.0
    image = np.stack([xx, yy, 0.5 + 0.5 * np.sin(xx * 12) * np.cos(yy * 9)], -1)[None]
    image = image.astype(np.float32)
    net = load_backbone("mobilenet")
    ours = net.style_vector(torch.from_numpy(image).permute(0, 3, 1, 2)).numpy().ravel()

    def cosine_to_onnx(level: ort.GraphOptimizationLevel) -> float:
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        session = ort.InferenceSession(str(mobilenet._onnx_path()), options,
                                       providers=["CPUExecutionProvider"])
        quantised = session.run(None, {session.get_inputs()[0].name: image})[0].ravel()
        return float(quantised @ ours / np.linalg.norm(quantised) / np.linalg.norm(ours))

    assert cosine_to_onnx(ort.GraphOptimizationLevel.ORT_DISABLE_ALL) > 0.999
    assert cosine_to_onnx(ort.GraphOptimizationLevel.ORT_ENABLE_ALL) > 0.98
    feats = net(torch.rand(1, 3, 70, 50))  # any size works: SAME padding is recomputed
    assert set(feats) == set(net.content_layers + net.style_layers)
    assert feats["conv0"].shape == (1, 32, 35, 25)


# ---- optimisation ---------------------------------------------------------------------------

def test_a_few_steps_lower_the_loss() -> None:
    net = load_backbone("mobilenet")
    content = to_tensor(portrait())
    objective = Objective(net, content, [(stripes(), 1.0)], net.default_weights)
    x = content.clone().requires_grad_(True)
    opt = torch.optim.NAdam([x], lr=0.02, betas=(0.99, 0.999), eps=1e-1)
    before = objective.evaluate(x.detach()).total
    for _ in range(6):
        opt.zero_grad()
        loss, _ = objective(x)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    after = objective.evaluate(x.detach())
    assert after.total < 0.9 * before and after.content > 0


def test_stylize_optimize_returns_the_photo_size() -> None:
    photo = portrait(70, 90)
    out = stylize_optimize(photo, [(stripes(), 0.6), (stripes()[:, ::-1].copy(), 0.4)],
                           {"steps": 6, "size": 64, "backbone": "mobilenet"})
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - photo.astype(int)).mean() > 1.0  # it did restyle


def test_lbfgs_and_noise_init_run() -> None:
    settings = parse_options({"steps": 3, "size": 64, "backbone": "mobilenet",
                              "optimizer": "lbfgs", "init": "noise"})
    out, result = optimize_image(portrait(), [(stripes(), 1.0)], settings, progress=False)
    assert out.shape[2] == 3 and result.steps_done == 3 and np.isfinite(result.final.total)


@pytest.mark.parametrize("chroma_factor", [1, 2])
def test_lbfgs_runs_across_scales(chroma_factor: int) -> None:
    # The finer level starts from an upsampled (strided) image: L-BFGS must still flatten it.
    settings = parse_options({"steps": 4, "size": 256, "backbone": "mobilenet",
                              "optimizer": "lbfgs", "chroma_factor": chroma_factor})
    out, result = optimize_image(portrait(256, 256), [(stripes(), 1.0)], settings,
                                 progress=False)
    assert len(result.levels) == 2 and result.steps_done == 4
    assert np.isfinite(result.final.total) and out.shape == (256, 256, 3)


def test_time_budget_stops_early() -> None:
    settings = parse_options({"steps": 10_000, "size": 64, "backbone": "mobilenet",
                              "time_budget": 0.5})
    _, result = optimize_image(portrait(), [(stripes(), 1.0)], settings, progress=False)
    assert result.stopped_by_budget and result.steps_done < 10_000 and result.seconds < 30


@pytest.mark.parametrize("options, message", [
    ({"steps": 0}, "--steps 0: must be at least 1"),
    ({"steps": -3}, "--steps -3: must be at least 1"),
    ({"size": 10}, "--size 10: must be between"),
    ({"backbone": "resnet"}, "--backbone 'resnet'"),
    ({"time_budget": 0}, "--time-budget 0"),
    ({"colour": 1}, "does not take colour"),
])
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        stylize_optimize(portrait(), [(stripes(), 1.0)], options)


def test_tiny_style_image_is_refused() -> None:
    with pytest.raises(UserError, match=r"style image 1 is too small \(20x20 px\)"):
        stylize_optimize(portrait(), [(stripes(20), 1.0)], {"steps": 1})


def test_size_too_large_for_memory_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optimize, "memory_available", lambda: 256 * 2**20)
    big = np.zeros((400, 600, 3), np.uint8)
    with pytest.raises(UserError, match=r"--size 600: .* needs about [\d.]+ GB of memory"):
        stylize_optimize(big, [(stripes(), 1.0)], {"steps": 1, "size": 600,
                                                   "backbone": "mobilenet"})


def test_stylize_image_with_the_optimize_engine() -> None:
    from moodshift.style import stylize_image

    photo = portrait(80, 64)
    out = stylize_image(photo, {"sad": 0.5, "happy": 0.5}, engine="optimize",
                        engine_options={"steps": 3, "size": 64, "backbone": "mobilenet"})
    assert out.shape == photo.shape and out.dtype == np.uint8


# ---- speed settings: Adam schedule, bf16, jitter share --------------------------------------

def test_cosine_schedule_warms_up_then_decays() -> None:
    rates = [optimize_schedule.cosine_lr(i, 100, 0.05, 0.1) for i in range(100)]
    assert rates[0] == pytest.approx(0.05 / optimize_schedule.WARMUP_STEPS, rel=0.05)  # gentle first step
    assert max(rates) == pytest.approx(rates[optimize_schedule.WARMUP_STEPS - 1]) and max(rates) < 0.05
    assert rates[-1] == pytest.approx(0.005)  # lr_final x the starting rate
    decay = rates[optimize_schedule.WARMUP_STEPS:]
    assert all(b <= a for a, b in zip(decay, decay[1:]))


def test_short_levels_and_cut_levels_reach_their_low_rate() -> None:
    # A 10-step level warms up over 2 steps, then reaches the peak rate.
    rates = [optimize_schedule.cosine_lr(i, 10, 0.05, 0.1) for i in range(10)]
    assert max(rates) > 0.04 and rates[-1] == pytest.approx(0.005)
    # A level whose deadline has passed is at its end rate whatever the step count said.
    assert optimize_schedule.cosine_lr(20, 200, 0.05, 0.1, progress=1.0) == pytest.approx(0.005)


def test_lbfgs_runs_without_jitter() -> None:
    """L-BFGS needs one fixed function: the jitter setting does not apply to it (with a shift
    drawn anew each step it ended at 2.4x the loss after 12 steps)."""
    finals = {}
    for jitter in (0, 2):
        settings = parse_options({"steps": 12, "size": 64, "backbone": "mobilenet",
                                  "optimizer": "lbfgs", "multiscale": False, "jitter": jitter})
        _, result = optimize_image(portrait(), [(stripes(), 1.0)], settings, progress=False)
        finals[jitter] = result.final.total
    assert finals[2] == pytest.approx(finals[0], rel=1e-4), finals


def test_shift_is_drawn_once_per_step() -> None:
    net = load_backbone("mobilenet")
    content = to_tensor(portrait())
    objective = Objective(net, content, [(stripes(), 1.0)], net.default_weights, jitter=2)
    x = content.clone()
    objective.draw_shift()
    first = objective(x)[1].total
    assert all(objective(x)[1].total == first for _ in range(3))  # same function within a step


def test_zero_level_shares_refused() -> None:
    with pytest.raises(UserError, match="level_shares"):
        parse_options({"level_shares": [0, 0, 0]})


@pytest.mark.parametrize("bf16", [False, True])
def test_bf16_and_fp32_objectives_both_lower_the_loss(bf16: bool) -> None:
    net = load_backbone("mobilenet")
    content = to_tensor(portrait())
    objective = Objective(net, content, [(stripes(), 1.0)], net.default_weights, bf16=bf16)
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.01)
    before = objective.evaluate(x.detach())
    for _ in range(6):
        opt.zero_grad()
        loss, parts = objective(x)
        assert loss.dtype == torch.float32  # losses and Grams stay fp32 under bf16
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    after = objective.evaluate(x.detach())
    assert objective.bf16 is bf16  # evaluate (fp32) leaves the setting as it was
    assert after.total < 0.9 * before.total


def test_evaluate_is_fp32_even_for_a_bf16_objective() -> None:
    net = load_backbone("mobilenet")
    content = to_tensor(portrait())
    x = torch.rand_like(content)
    fp32 = Objective(net, content, [(stripes(), 1.0)], net.default_weights)
    bf16 = Objective(net, content, [(stripes(), 1.0)], net.default_weights, bf16=True)
    assert bf16.evaluate(x).total == pytest.approx(fp32.evaluate(x).total, rel=1e-5)
    assert bf16(x)[1].total != pytest.approx(fp32(x)[1].total, rel=1e-5)  # bf16 really differs


@pytest.mark.parametrize("options", [
    {"optimizer": "adam"}, {"optimizer": "nadam"}, {"precision": "bf16"},
    {"jitter_share": 0.0}, {"jitter_share": 1.0, "lr_final": 1.0},
])
def test_engine_settings_lower_the_loss(options: dict[str, object]) -> None:
    settings = parse_options({"steps": 12, "size": 64, "backbone": "mobilenet",
                              "multiscale": False} | options)
    photo = portrait()
    net = load_backbone("mobilenet")
    size = optimize_schedule.work_size(photo.shape[:2], 64)
    content = to_tensor(photo, size)
    start = Objective(net, content, [(stripes(), 1.0)], net.default_weights).evaluate(content)
    out, result = optimize_image(photo, [(stripes(), 1.0)], settings, progress=False)
    assert result.steps_done == 12 and out.shape == (*size, 3)
    start = start.total
    assert result.final.total < 0.9 * start


def test_defaults_seed_nadam_with_vgg_adam_with_mobilenet_fp32() -> None:
    settings = parse_options({})
    assert settings.optimizer == "auto" and settings.precision == "fp32"
    assert settings.optimizer_for("vgg19") == settings.optimizer_for("vgg16") == "nadam"
    assert settings.optimizer_for("mobilenet") == "adam"
    assert settings.lr_for("adam") == 0.05 and settings.lr_for("nadam") == 0.02
    nadam = parse_options({"optimizer": "nadam"})
    assert nadam.optimizer_for("mobilenet") == "nadam"
    from moodshift.training.precision import use_bf16
    assert use_bf16("fp32") is False and use_bf16("bf16") is True


@pytest.mark.parametrize("options, message", [
    ({"precision": "fp16"}, "--precision 'fp16': valid values are auto, bf16, fp32"),
    ({"optimizer": "sgd"}, "--optimizer 'sgd': valid values are auto, adam, nadam, lbfgs"),
    ({"jitter_share": 1.5}, "jitter_share 1.5: out of range"),
    ({"lr_final": 0}, "lr_final 0: out of range"),
    ({"learning_rate": -1}, "learning_rate -1: out of range"),
])
def test_bad_speed_settings_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_options(options)
