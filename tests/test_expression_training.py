"""Training, evaluation, data readers and model ports of moodshift's expression classifiers.

Everything runs on a generated data set (7 classes x 12 synthetic 48x48 images whose class shows
as a bright horizontal band at a class-dependent height), so no shared data is needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.expression.evaluate import EvalReport, evaluate
from moodshift.expression.own import MoodshiftExpression
from moodshift.expression.training import datasets as ds
from moodshift.expression.training.train import TrainConfig, train_expression

PER_CLASS = 12


def _face(c: int, rng: np.random.Generator) -> np.ndarray:
    img = rng.normal(80, 20, (48, 48))
    img[4 + c * 6:4 + c * 6 + 5, 6:42] = 220
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for split, n in (("train", PER_CLASS), ("val", 4)):
        for c, e in enumerate(EMOTIONS):
            folder = root / split / e
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(_face(c, rng)).save(folder / f"{i}.png")
    return root


def _cfg(data: Path, out: Path, **kw: object) -> TrainConfig:
    base = dict(data=str(data), arch="tiny", out=str(out), epochs=4, batch=16, lr=0.05,
                precision="fp32", threads=1, progress=False, command="test")
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tiny_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("run")
    return train_expression(_cfg(tiny_tree / "", out, epochs=6), log=lambda m: None)


def test_loss_falls_and_outputs_written(trained) -> None:
    losses = [h["train_loss"] for h in trained.history]
    assert losses[-1] < losses[0]
    for name in ("tiny.safetensors", "tiny.json", "checkpoint.pt", "curves.png",
                 "confusion.png", "MODEL_CARD.md", "metrics.json", "history.json"):
        assert (trained.out / name).is_file(), name
    card = (trained.out / "MODEL_CARD.md").read_text()
    from moodshift.models.store import sha256_file
    assert sha256_file(trained.weights) in card


def test_resume_continues(trained, tmp_path: Path, tiny_tree: Path) -> None:
    res = train_expression(_cfg(tiny_tree, tmp_path, epochs=8,
                                resume=str(trained.out / "checkpoint.pt")), log=lambda m: None)
    assert [h["epoch"] for h in res.history] == list(range(1, 9))
    assert res.history[:6] == trained.history


@pytest.mark.slow
def test_interrupt_leaves_usable_checkpoint(tmp_path: Path, tiny_tree: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from moodshift.expression.training import train as train_mod

    calls = {"n": 0}
    real = train_mod._lr_at

    def boom(*a: object) -> float:
        calls["n"] += 1
        if calls["n"] == 20:          # in the third epoch (5 steps each)
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(train_mod, "_lr_at", boom)
    res = train_expression(_cfg(tiny_tree, tmp_path), log=lambda m: None)
    assert res.interrupted and res.epochs_done == 3
    monkeypatch.setattr(train_mod, "_lr_at", real)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 3
    res2 = train_expression(_cfg(tiny_tree, tmp_path / "b", resume=str(tmp_path / "checkpoint.pt")),
                            log=lambda m: None)
    assert not res2.interrupted and [h["epoch"] for h in res2.history] == [1, 2, 3, 4]


def test_eval_report(trained, tiny_tree: Path) -> None:
    model = MoodshiftExpression.from_path(trained.out)
    val = ds.read_class_folders(tiny_tree / "val")
    rep = evaluate(model, val)
    js = rep.to_json()
    cm = np.array(js["confusion"])
    assert cm.shape == (7, 7) and js["n"] == len(val) == cm.sum()
    assert js["accuracy"] == pytest.approx(np.trace(cm) / cm.sum(), abs=1e-6)
    for i, e in enumerate(EMOTIONS):
        assert js["per_class"][e]["recall"] == pytest.approx(cm[i, i] / cm[i].sum(), abs=1e-6)
    assert js["macro_recall"] == pytest.approx(np.mean([cm[i, i] / cm[i].sum()
                                                        for i in range(7)]), abs=1e-6)
    assert set(js) >= {"model", "n", "accuracy", "macro_recall", "per_class", "confusion"}
    assert np.allclose(rep.probabilities.sum(1), 1.0)
    # predict() on an RGB photo with boxes, and an already-cropped image
    img = np.repeat(_face(3, np.random.default_rng(1))[..., None], 3, 2)
    p = model.predict(img, [(0, 0, 48, 48), (10, 10, 20, 20)])
    assert p.shape == (2, 7) and np.allclose(p.sum(1), 1.0)
    assert model.predict(img, []).shape == (0, 7)
    # metrics.json written by training agree with evaluate on the same split
    metrics = json.loads((trained.out / "metrics.json").read_text())
    assert metrics["confusion"] == EvalReport("x", np.array(metrics["confusion"])).confusion.tolist()


def test_onnx_export_matches(trained, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from moodshift.expression.own import export_onnx

    diff = export_onnx(MoodshiftExpression.from_path(trained.out, precision="fp32"),
                       tmp_path / "m.onnx")
    assert diff < 1e-4


@pytest.mark.slow
def test_distillation_from_teachers(trained, tmp_path: Path, tiny_tree: Path) -> None:
    """A student started from the trained weights and taught by them: the distillation term is
    in its loss (the training loss differs from plain training), the run records teachers and
    start weights in the checkpoint and model card, and a resumed run keeps its teachers."""
    teacher = str(trained.weights)
    cfg = _cfg(tiny_tree, tmp_path / "kd", epochs=2, init=teacher, teachers=[teacher, teacher],
               distill_weight=0.9, distill_temperature=3.0)
    res = train_expression(cfg, log=lambda m: None)
    plain = train_expression(_cfg(tiny_tree, tmp_path / "plain", epochs=2, init=teacher),
                             log=lambda m: None)
    assert res.history[0]["train_loss"] != pytest.approx(plain.history[0]["train_loss"])
    # --init loads the weights: with a negligible learning rate they stay the teacher's.
    still = train_expression(_cfg(tiny_tree, tmp_path / "still", epochs=1, lr=1e-12,
                                  init=teacher), log=lambda m: None)
    from safetensors.torch import load_file
    before, after = load_file(teacher), load_file(str(still.weights))
    convs = [k for k in before if k.endswith("weight") and before[k].ndim == 4]
    assert convs and all(torch.allclose(before[k], after[k], atol=1e-6) for k in convs)
    state = torch.load(tmp_path / "kd" / "checkpoint.pt", weights_only=False)
    distill = state["recipe"]["distill"]
    assert distill["weight"] == 0.9 and distill["temperature"] == 3.0
    assert [t["path"] for t in distill["teachers"]] == [teacher, teacher]
    assert state["recipe"]["init"] == teacher
    card = (tmp_path / "kd" / "MODEL_CARD.md").read_text()
    assert "Distilled from 2 teacher" in card and "Started from" in card
    res2 = train_expression(_cfg(tiny_tree, tmp_path / "kd2", epochs=3,
                                 resume=str(tmp_path / "kd" / "checkpoint.pt")),
                            log=lambda m: None)
    assert res2.epochs_done == 3
    state2 = torch.load(tmp_path / "kd2" / "checkpoint.pt", weights_only=False)
    assert state2["recipe"]["distill"]["weight"] == 0.9
    assert state2["recipe"]["distill"]["temperature"] == 3.0
    # New teachers on resume keep the recorded settings unless new ones are given.
    res3 = train_expression(_cfg(tiny_tree, tmp_path / "kd3", epochs=3, teachers=[teacher],
                                 distill_temperature=4.0,
                                 resume=str(tmp_path / "kd" / "checkpoint.pt")),
                            log=lambda m: None)
    state3 = torch.load(res3.checkpoint, weights_only=False)["recipe"]["distill"]
    assert (state3["weight"], state3["temperature"], len(state3["teachers"])) == (0.9, 4.0, 1)


def test_resume_refuses_changed_or_missing_teachers(trained, tmp_path: Path,
                                                    tiny_tree: Path) -> None:
    import shutil

    teacher = tmp_path / "teacher"
    shutil.copytree(trained.out, teacher)
    weights = str(teacher / "tiny.safetensors")
    train_expression(_cfg(tiny_tree, tmp_path / "kd", epochs=1, teachers=[weights]),
                     log=lambda m: None)
    resume = str(tmp_path / "kd" / "checkpoint.pt")
    from safetensors.torch import load_file, save_file
    state = load_file(weights)
    save_file({k: v + 1 if v.is_floating_point() else v for k, v in state.items()}, weights)
    with pytest.raises(UserError, match="teacher has changed since it started"):
        train_expression(_cfg(tiny_tree, tmp_path / "r1", epochs=2, resume=resume),
                         log=lambda m: None)
    shutil.rmtree(teacher)
    with pytest.raises(UserError, match="teacher is gone; pass --teacher"):
        train_expression(_cfg(tiny_tree, tmp_path / "r2", epochs=2, resume=resume),
                         log=lambda m: None)
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


def test_distillation_refuses_mismatched_inputs(trained, tmp_path: Path,
                                                tiny_tree: Path) -> None:
    teacher = str(trained.weights)
    with pytest.raises(UserError, match="img_size 32.*student with 28"):
        train_expression(_cfg(tiny_tree, tmp_path / "a", img_size=28, teachers=[teacher]),
                         log=lambda m: None)
    with pytest.raises(UserError, match="--distill-weight must be between 0 and 1"):
        train_expression(_cfg(tiny_tree, tmp_path / "b", teachers=[teacher],
                              distill_weight=1.5), log=lambda m: None)
    with pytest.raises(UserError, match="no such model file"):
        train_expression(_cfg(tiny_tree, tmp_path / "c", teachers=[str(tmp_path / "gone")]),
                         log=lambda m: None)
    wide = tmp_path / "wide"
    wide.mkdir()
    from safetensors.torch import save_file

    from moodshift.expression import nets
    save_file(nets.build("tiny", width=12).state_dict(), str(wide / "tiny.safetensors"))
    (wide / "tiny.json").write_text(json.dumps({"arch": "tiny", "options": {"width": 12}}))
    with pytest.raises(UserError, match="weights do not fit the student tiny"):
        train_expression(_cfg(tiny_tree, tmp_path / "d", init=str(wide)), log=lambda m: None)
    (wide / "tiny.json").write_text(json.dumps({"arch": "msnet", "options": {}}))
    with pytest.raises(UserError, match="--init model is msnet, the student tiny"):
        train_expression(_cfg(tiny_tree, tmp_path / "d2", init=str(wide)), log=lambda m: None)
    with pytest.raises(UserError, match="need --teacher"):
        train_expression(_cfg(tiny_tree, tmp_path / "d3", distill_weight=0.3),
                         log=lambda m: None)
    with pytest.raises(UserError, match="cannot be combined with --resume"):
        train_expression(_cfg(tiny_tree, tmp_path / "e", init=teacher,
                              resume=str(trained.out / "checkpoint.pt")), log=lambda m: None)


# ------------------------------------------------------------------------------ readers

def test_fer_csv(tmp_path: Path) -> None:
    rows = ["emotion,pixels,Usage"]
    rng = np.random.default_rng(0)
    for code, usage in [(0, "Training"), (3, "Training"), (6, "PublicTest"), (5, "PrivateTest")]:
        rows.append(f"{code},{' '.join(map(str, rng.integers(0, 256, 48 * 48)))},{usage}")
    rows.append("9,1 2 3,Training")          # malformed: bad code and size
    (tmp_path / "fer.csv").write_text("\n".join(rows) + "\n")
    sets = ds.read_fer_csv(tmp_path / "fer.csv")
    assert sets["train"].labels.tolist() == [EMOTIONS.index("angry"), EMOTIONS.index("happy")]
    assert sets["val"].labels.tolist() == [EMOTIONS.index("neutral")]
    assert sets["test"].labels.tolist() == [EMOTIONS.index("surprise")]
    assert sets["train"].images[0].shape == (48, 48) and len(sets["train"].skipped) == 1
    splits = ds.load_splits(tmp_path / "fer.csv")
    assert len(splits.train) == 2 and len(splits.val) == 1 and len(splits.test) == 1


def test_labels_csv_synonyms_missing_and_corrupt(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(_face(0, rng)).save(tmp_path / name)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    (tmp_path / "labels.csv").write_text(
        "image,emotion\na.png,Happiness\nb.png,fearful\nbad.jpg,sad\ngone.png,anger\n")
    s = ds.read_dataset(tmp_path)
    assert s.labels.tolist() == [EMOTIONS.index("happy"), EMOTIONS.index("fear")]
    assert s.skipped == ["bad.jpg"] and s.missing == ["gone.png"]
    assert "1 unreadable" in s.report() and "1 listed but missing" in s.report()


def test_class_folders_synonyms_unknown_corrupt_empty(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for folder in ("anger", "happiness", "Sadness", "disgusted"):
        (tmp_path / folder).mkdir()
        Image.fromarray(_face(1, rng)).save(tmp_path / folder / "x.png")
    (tmp_path / "anger" / "broken.jpg").write_bytes(b"\xff\xd8garbage")
    s = ds.read_class_folders(tmp_path)
    assert sorted(s.labels.tolist()) == sorted(EMOTIONS.index(e)
                                               for e in ("angry", "happy", "sad", "disgust"))
    assert len(s.skipped) == 1 and s.skipped[0].endswith("broken.jpg")
    (tmp_path / "bored").mkdir()
    with pytest.raises(UserError, match="bored") as err:
        ds.read_class_folders(tmp_path)
    assert "neutral" in str(err.value)
    empty = tmp_path / "empty"
    (empty / "happy").mkdir(parents=True)
    with pytest.raises(UserError, match="no labelled images"):
        ds.read_class_folders(empty)


def test_split_70_20_10_is_fixed(tiny_tree: Path) -> None:
    s = ds.read_class_folders(tiny_tree / "train")
    a = ds.split_set(s)
    b = ds.split_set(s)
    assert [len(x) for x in a] == [7 * round(PER_CLASS * 0.7), 7 * round(PER_CLASS * 0.2),
                                   7 * (PER_CLASS - round(PER_CLASS * 0.7) -
                                        round(PER_CLASS * 0.2))]
    assert a[0].names == b[0].names
    assert not set(a[0].names) & set(a[1].names)


def test_expw(tmp_path: Path) -> None:
    (tmp_path / "image").mkdir()
    Image.fromarray(np.full((100, 120, 3), 128, np.uint8)).save(tmp_path / "image" / "p.jpg")
    (tmp_path / "label.lst").write_text("p.jpg 0 10 20 60 70 55.2 3\np.jpg 1 0 0 40 40 12.0 6\n"
                                        "q.jpg 0 0 0 10 10 1.0 2\n")
    s = ds.read_dataset(tmp_path)
    assert s.labels.tolist() == [EMOTIONS.index("happy"), EMOTIONS.index("neutral")]
    assert s.images[0].shape == (48, 48) and s.missing == ["q.jpg"]


# --------------------------------------------------------------------------- fer port

def _keras_reference(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Straightforward numpy re-statement of the Keras mini-Xception (NHWC, TF SAME padding)."""
    from moodshift.expression import fer

    def conv(x, k, stride=1, same=True, depthwise=False):
        kh, kw = k.shape[:2]
        h, wd = x.shape[:2]
        if same:
            oh, ow = -(-h // stride), -(-wd // stride)
            ph = max((oh - 1) * stride + kh - h, 0)
            pw = max((ow - 1) * stride + kw - wd, 0)
            x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
        else:
            oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
        out = np.zeros((oh, ow, k.shape[2] if depthwise else k.shape[3]))
        for i in range(kh):
            for j in range(kw):
                patch = x[i:i + stride * oh:stride, j:j + stride * ow:stride]
                out += patch * k[i, j, :, 0] if depthwise else patch @ k[i, j]
        return out

    def bn(x, n):
        return (x - w[f"{n}/moving_mean"]) / np.sqrt(w[f"{n}/moving_variance"] + 1e-3) \
            * w[f"{n}/gamma"] + w[f"{n}/beta"]

    def pool(x):
        h, wd, c = x.shape
        oh, ow = -(-h // 2), -(-wd // 2)
        ph, pw = max((oh - 1) * 2 + 3 - h, 0), max((ow - 1) * 2 + 3 - wd, 0)
        x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)),
                   constant_values=-np.inf)
        return np.max([x[i:i + 2 * oh:2, j:j + 2 * ow:2] for i in range(3) for j in range(3)], 0)

    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    x = relu(bn(conv(x, w["conv2d_1/kernel"], same=False), "batch_normalization_1"))
    x = relu(bn(conv(x, w["conv2d_2/kernel"], same=False), "batch_normalization_2"))
    for sc, sbn, s1, b1, s2, b2 in fer.MODULES:
        res = bn(conv(x, w[f"{sc}/kernel"], 2), sbn)
        y = conv(conv(x, w[f"{s1}/depthwise_kernel"], depthwise=True), w[f"{s1}/pointwise_kernel"])
        y = relu(bn(y, b1))
        y = conv(conv(y, w[f"{s2}/depthwise_kernel"], depthwise=True), w[f"{s2}/pointwise_kernel"])
        x = pool(bn(y, b2)) + res
    x = conv(x, w["conv2d_7/kernel"]) + w["conv2d_7/bias"]
    z = x.mean((0, 1))
    e = np.exp(z - z.max())
    return e / e.sum()


def _random_fer_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    from moodshift.expression import fer

    w: dict[str, np.ndarray] = {}
    f = lambda *s: rng.normal(0, 1 / math.sqrt(np.prod(s[:-1])), s).astype(np.float32)  # noqa
    w["conv2d_1/kernel"], w["conv2d_2/kernel"] = f(3, 3, 1, 8), f(3, 3, 8, 8)
    bns = {"batch_normalization_1": 8, "batch_normalization_2": 8}
    cin = 8
    for (sc, sbn, s1, b1, s2, b2), cout in zip(fer.MODULES, (16, 32, 64, 128)):
        w[f"{sc}/kernel"] = f(1, 1, cin, cout)
        w[f"{s1}/depthwise_kernel"], w[f"{s1}/pointwise_kernel"] = f(3, 3, cin, 1), f(1, 1, cin, cout)
        w[f"{s2}/depthwise_kernel"], w[f"{s2}/pointwise_kernel"] = f(3, 3, cout, 1), f(1, 1, cout, cout)
        bns.update({sbn: cout, b1: cout, b2: cout})
        cin = cout
    w["conv2d_7/kernel"], w["conv2d_7/bias"] = f(3, 3, 128, 7), rng.normal(0, 0.1, 7).astype(np.float32)
    for n, c in bns.items():
        w[f"{n}/gamma"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        w[f"{n}/beta"] = rng.normal(0, 0.1, c).astype(np.float32)
        w[f"{n}/moving_mean"] = rng.normal(0, 0.1, c).astype(np.float32)
        w[f"{n}/moving_variance"] = rng.uniform(0.5, 2, c).astype(np.float32)
    return w


def test_fer_port_matches_keras_semantics() -> None:
    from moodshift.expression.fer import FerExpression

    rng = np.random.default_rng(0)
    w = _random_fer_weights(rng)
    model = FerExpression(w)
    crop = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    got = model.predict(crop, [(0, 0, 64, 64)])[0]
    want = _keras_reference({k: v.astype(np.float64) for k, v in w.items()},
                            ((crop / 255.0 - 0.5) * 2)[..., None])
    assert np.abs(got - want).max() < 1e-5
    assert model.predict(np.zeros((200, 300, 3), np.uint8), [(50, 60, 40, 50)]).shape == (1, 7)


# ------------------------------------------------------------------------- shipped model

def test_shipped_weights_match_checksum() -> None:
    from moodshift.expression import own
    from moodshift.models.store import sha256_file

    path = own.SHIPPED_DIR / f"{own.SHIPPED_ARCH}.safetensors"
    if not path.exists():
        pytest.skip("no shipped expression model yet")
    assert sha256_file(path) == own.SHIPPED_SHA256
    model = own.MoodshiftExpression.shipped()
    img = np.full((48, 48, 3), 128, np.uint8)
    p = model.predict(img, [(0, 0, 48, 48)])
    assert p.shape == (1, 7) and abs(p.sum() - 1) < 1e-6


def test_face_crops_repeat_the_border_for_boxes_partly_or_wholly_outside() -> None:
    from moodshift.expression.facecrop import crop_face, face_crops, to_grey

    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    grey = to_grey(photo)
    assert grey.tolist() == np.asarray(Image.fromarray(photo).convert("L")).tolist()
    padded = np.pad(grey, 300, mode="edge")      # the photo with its border repeated
    for box in [(-10, -5, 30, 20), (70, 50, 20, 20), (200, 10, 20, 20), (-50, -50, 20, 20)]:
        x, y, w, h = box
        side = max(w, h)
        x0, y0 = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
        want = padded[300 + y0:300 + y0 + side, 300 + x0:300 + x0 + side]
        assert np.array_equal(to_grey(crop_face(photo, box)), want), box
    crops = face_crops(photo, [(200, 10, 20, 20), (0, 0, 80, 60), (5, 5, 10, 10)], 48)
    assert crops.shape == (3, 48, 48) and crops.dtype == np.uint8


def test_model_path_with_weights_of_another_shape_is_one_line_error(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from moodshift.expression import nets

    save_file(nets.build("tiny", width=12).state_dict(), str(tmp_path / "tiny.safetensors"))
    (tmp_path / "tiny.json").write_text(json.dumps({"arch": "tiny", "options": {}}))
    with pytest.raises(UserError, match=r"tiny.safetensors: weights do not fit tiny \(size "
                                        r"mismatch") as info:
        MoodshiftExpression.from_path(tmp_path)
    assert "\n" not in str(info.value)
