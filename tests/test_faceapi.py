"""face-api ports: the TF.js reader, framing helpers, detector choice, and the converted networks
checked against outputs of face-api itself (tests/data/faceapi_reference.json, produced in Node by
tests/data/make_faceapi_reference.mjs)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from moodshift.emotions import EMOTIONS
from moodshift.errors import ModelMissingError, UserError
from moodshift.faces.crops import pad_to_square, resize_bilinear, square_input
from moodshift.faces.tflayers import same_padding
from moodshift.models.tfjs import read_tfjs_weights

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "data" / "faceapi_reference.json").read_text())
ASTRONAUT = ROOT / "examples" / "astronaut.png"


# --- TF.js reader -------------------------------------------------------------------------------

def _write_model(folder: Path, truncate: int = 0) -> dict[str, np.ndarray]:
    """A two-shard model: uint8-quantised floats (straddling the shards), float32, int32."""
    q = np.array([0, 1, 2, 255, 128, 7], dtype=np.uint8)
    f32 = np.array([[1.5, -2.25], [3.0, 1e-8]], dtype="<f4")
    i32 = np.array([-3, 0, 2**31 - 1], dtype="<i4")
    data = q.tobytes() + f32.tobytes() + i32.tobytes()
    (folder / "m.bin").write_bytes(data[:10])
    (folder / "m2.bin").write_bytes(data[10:len(data) - truncate])
    manifest = [{"paths": ["m.bin", "m2.bin"], "weights": [
        {"name": "a/q", "shape": [2, 3], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "b/f", "shape": [2, 2], "dtype": "float32"},
        {"name": "c/i", "shape": [3], "dtype": "int32"}]}]
    (folder / "m-weights_manifest.json").write_text(json.dumps(manifest))
    return {"a/q": (q.astype(np.float64) * 0.5 - 1.0).reshape(2, 3), "b/f": f32, "c/i": i32}


def test_tfjs_reader_decodes_exact_values(tmp_path: Path) -> None:
    expected = _write_model(tmp_path)
    got = read_tfjs_weights(tmp_path / "m-weights_manifest.json")
    assert list(got) == ["a/q", "b/f", "c/i"]
    assert got["a/q"].dtype == np.float32 and got["a/q"].shape == (2, 3)
    np.testing.assert_array_equal(got["a/q"], expected["a/q"].astype(np.float32))
    assert got["a/q"][0, 0] == -1.0 and got["a/q"][1, 0] == 126.5
    assert got["b/f"].dtype == np.float32
    np.testing.assert_array_equal(got["b/f"], expected["b/f"])
    assert got["c/i"].dtype == np.int32
    np.testing.assert_array_equal(got["c/i"], expected["c/i"])


def test_tfjs_reader_rejects_byte_count_mismatch(tmp_path: Path) -> None:
    _write_model(tmp_path, truncate=1)
    with pytest.raises(UserError, match=r"m2\.bin.*\b33 bytes\b.*\b34\b"):
        read_tfjs_weights(tmp_path / "m-weights_manifest.json")


# --- framing helpers ----------------------------------------------------------------------------

def test_same_padding_puts_the_extra_pixel_after() -> None:
    assert same_padding(512, 3, 2) == (0, 1)
    assert same_padding(7, 3, 2) == (1, 1)
    assert same_padding(13, 2, 1) == (0, 1)
    assert same_padding(16, 1, 2) == (0, 0)


def test_pad_to_square_matches_faceapi_rounding() -> None:
    img = np.ones((2, 5, 3), dtype=np.uint8)
    centred = pad_to_square(img, centre=True)
    assert centred.shape == (5, 5, 3)
    assert centred[:, 0, 0].tolist() == [0, 1, 1, 0, 0]     # 1 before, 2 after
    corner = pad_to_square(img, centre=False)
    assert corner[:, 0, 0].tolist() == [1, 1, 0, 0, 0]


def test_resize_bilinear_is_tf_legacy() -> None:
    row = np.array([[0.0, 10.0, 20.0, 30.0]])[..., None]
    up = resize_bilinear(row, 1, 8)[0, :, 0]
    np.testing.assert_allclose(up, [0, 5, 10, 15, 20, 25, 30, 30])   # no half-pixel shift
    down = resize_bilinear(row, 1, 2)[0, :, 0]
    np.testing.assert_allclose(down, [0, 20])


def test_square_input_equals_padding_then_resizing_pixel_by_pixel() -> None:
    """The canvas-free resize gives what building the padded square and interpolating each
    output pixel from its four neighbours (TF legacy positions) gives, tall and wide."""
    rng = np.random.default_rng(3)
    for h, w, size in ((7, 4, 11), (5, 9, 3), (6, 6, 6)):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        square = pad_to_square(img, centre=True).astype(np.float64)
        side = square.shape[0]
        want = np.zeros((size, size, 3))
        for i in range(size):
            for j in range(size):
                y, x = i * side / size, j * side / size
                y0, x0 = int(y), int(x)
                y1, x1 = min(y0 + 1, side - 1), min(x0 + 1, side - 1)
                fy, fx = y - y0, x - x0
                want[i, j] = ((1 - fy) * ((1 - fx) * square[y0, x0] + fx * square[y0, x1])
                              + fy * ((1 - fx) * square[y1, x0] + fx * square[y1, x1]))
        np.testing.assert_allclose(square_input(img, size, centre=True), want, atol=1e-3)


def test_a_long_strip_is_squeezed_without_full_length_copies() -> None:
    """A 60000 x 100 strip into a 512 x 512 detector input: its 512 columns are taken first, so
    no 512-row copy of the whole strip (184 MB) is made."""
    import tracemalloc

    strip = np.full((100, 60000, 3), 200, np.uint8)
    tracemalloc.start()
    square = square_input(strip, 512, centre=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40e6
    assert square.shape == (512, 512, 3)
    assert square[0, 0, 0] == 200 and square[-1, 0, 0] == 0   # the strip on top, zeros below


# --- puller and detector choice -----------------------------------------------------------------

def test_pull_without_npm_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from moodshift.models.sources import faceapi as faceapi_source
    from moodshift.models.sources import npm

    monkeypatch.setattr(npm.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="npm is missing.*Haar"):
        faceapi_source.pull(tmp_path, log=lambda s: None)


def test_auto_detector_falls_back_to_haar_with_one_warning(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from moodshift.faces import detect

    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path))
    detect.clear_detector_cache()
    try:
        with caplog.at_level(logging.WARNING, logger="moodshift"):
            first, second = detect.load_detector("auto"), detect.load_detector("auto")
        assert first is second and first.name == "haar"
        warnings = [r for r in caplog.records if "moodshift models pull" in r.getMessage()]
        assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()
        with pytest.raises(UserError, match="unknown face detector"):
            detect.load_detector("nope")
    finally:
        detect.clear_detector_cache()


# --- converted networks against face-api's own outputs ------------------------------------------

def _weights(name: str) -> dict[str, np.ndarray]:
    from moodshift.models.store import load_tensors

    try:
        return load_tensors(name)
    except ModelMissingError:
        pytest.skip(f"{name} is not converted (run `moodshift models pull`; `make test` does)")


def _onnx_ready(*names: str) -> None:
    from moodshift.models.runtime import onnx_path

    for name in names:
        if onnx_path(name) is None:
            pytest.skip(f"{name} has no ONNX export (run `moodshift models pull --force`)")


def _model(cls: type, name: str, backend: str) -> object:
    """The model on the PyTorch port (explicit weights) or on its ONNX export (onnxruntime)."""
    if backend == "torch":
        return cls(_weights(name), backend="torch")
    _onnx_ready(name)
    return cls(backend="onnx")


@pytest.fixture(scope="module", params=["torch", "onnx"])
def nets(request: pytest.FixtureRequest) -> dict[str, object]:
    """Every reference comparison below runs for both backends."""
    from moodshift.expression.faceapi import FaceApiExpression
    from moodshift.faces.agegender import FaceApiAgeGender
    from moodshift.faces.ssd import SsdFaceDetector
    from moodshift.faces.tiny import TinyFaceDetector

    backend = request.param
    return {"ssd": _model(SsdFaceDetector, "faceapi-ssd", backend),
            "tiny": _model(TinyFaceDetector, "faceapi-tiny", backend),
            "expression": _model(FaceApiExpression, "faceapi-expression", backend),
            "agegender": _model(FaceApiAgeGender, "faceapi-agegender", backend)}


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from moodshift.imageio import load_image

    return load_image(ASTRONAUT)


@pytest.fixture(scope="module")
def reference_image(astronaut: np.ndarray) -> np.ndarray:
    y0, y1, x0, x1 = REFERENCE["ssd"]["crop_y0_y1_x0_x1"]
    return astronaut[y0:y1, x0:x1]


def _pattern(size: int) -> np.ndarray:
    y, x, c = np.mgrid[0:size, 0:size, 0:3]
    return ((7 * x + 3 * y + 85 * c + 5 * ((x * y) % 29)) % 256).astype(np.uint8)


def _to_emotions(faceapi_probs: list[float]) -> np.ndarray:
    names = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
             "fearful": "fear", "disgusted": "disgust", "surprised": "surprise"}
    by_name = {names[n]: p for n, p in zip(REFERENCE["expression_classes"], faceapi_probs)}
    return np.array([by_name[e] for e in EMOTIONS])


@pytest.mark.models
def test_face_nets_reproduce_faceapi_on_a_pattern(nets: dict) -> None:
    ref = REFERENCE["pattern"]
    img = _pattern(ref["size"])
    box = [(0, 0, ref["size"], ref["size"])]
    probs = nets["expression"].predict(img, box)
    np.testing.assert_allclose(probs[0], _to_emotions(ref["expression"]), atol=1e-5)
    (pred,) = nets["agegender"].predict(img, box)
    assert pred.age == pytest.approx(ref["age"], abs=1e-3)
    assert pred.gender == "male" and pred.gender_probability == pytest.approx(ref["gender"][0],
                                                                              abs=1e-5)


@pytest.mark.models
def test_ssd_reproduces_faceapi(nets: dict, reference_image: np.ndarray) -> None:
    ref = REFERENCE["ssd"]
    boxes, scores = nets["ssd"].raw(reference_image)
    for top in ref["top_raw"]:
        assert scores[top["anchor"]] == pytest.approx(top["score"], abs=1e-5)
        np.testing.assert_allclose(boxes[top["anchor"]], top["box_ymin_xmin_ymax_xmax"], atol=1e-5)
    found = nets["ssd"].detect(reference_image)
    assert len(found) == len(ref["detections"]) == 1
    np.testing.assert_allclose(found[0].box, ref["detections"][0]["box_xywh"], atol=1.0)
    assert found[0].score == pytest.approx(ref["detections"][0]["score"], abs=1e-5)


@pytest.mark.models
def test_tiny_reproduces_faceapi(nets: dict, reference_image: np.ndarray) -> None:
    ref = REFERENCE["tiny"]
    found = nets["tiny"].detect(reference_image)
    assert len(found) == len(ref["detections"]) == 1
    np.testing.assert_allclose(found[0].box, ref["detections"][0]["box_xywh"], atol=1.0)
    assert found[0].score == pytest.approx(ref["detections"][0]["score"], abs=1e-5)


@pytest.mark.models
def test_face_nets_reproduce_faceapi_on_the_detected_face(nets: dict,
                                                          reference_image: np.ndarray) -> None:
    (face,) = REFERENCE["ssd"]["faces"]
    box = [tuple(face["box_int"])]
    probs = nets["expression"].predict(reference_image, box)
    np.testing.assert_allclose(probs[0], _to_emotions(face["expression"]), atol=1e-5)
    (pred,) = nets["agegender"].predict(reference_image, box)
    assert pred.age == pytest.approx(face["age"], abs=1e-3)
    assert pred.gender == "female"
    assert pred.gender_probability == pytest.approx(face["gender"][1], abs=1e-5)


@pytest.mark.models
def test_whole_pipeline_on_the_astronaut(nets: dict, astronaut: np.ndarray) -> None:
    (face,) = nets["ssd"].detect(astronaut)
    x, y, w, h = face.box
    assert face.score > 0.9
    assert 150 < x + w / 2 < 260 and 60 < y + h / 2 < 160 and 60 < w < 140
    probs = nets["expression"].predict(astronaut, [face.box])
    assert probs.shape == (1, 7) and probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert EMOTIONS[int(np.argmax(probs[0]))] == "happy"
    (pred,) = nets["agegender"].predict(astronaut, [face.box])
    assert 20 < pred.age < 50 and pred.gender == "female"


def test_haar_finds_the_astronaut(astronaut: np.ndarray) -> None:
    from moodshift.faces.haar import HaarFaceDetector

    found = HaarFaceDetector().detect(astronaut)
    assert found and all(0.5 <= d.score <= 1.0 for d in found)
    x, y, w, h = found[0].box
    assert 150 < x + w / 2 < 260 and 60 < y + h / 2 < 160


# --- ONNX runtime: verified exports, no torch at inference -------------------------------------

@pytest.mark.models
def test_nets_run_on_the_chosen_backend(nets: dict) -> None:
    from moodshift.models.runtime import OnnxNet, TorchNet

    kinds = {type(m.net) for m in nets.values()}
    assert len(kinds) == 1 and kinds <= {OnnxNet, TorchNet}


def test_onnx_path_verifies_the_export(tmp_path: Path) -> None:
    from moodshift.models.runtime import ONNX_MANIFEST, onnx_path
    from moodshift.models.store import sha256_file

    folder = tmp_path / "onnx"
    folder.mkdir()
    model = folder / "m.onnx"
    model.write_bytes(b"not really onnx")
    record = {"file": "m.onnx", "sha256": sha256_file(model), "source_sha256": "aa"}
    (folder / ONNX_MANIFEST).write_text(json.dumps({"m": record}))
    assert onnx_path("m", tmp_path) == model
    assert onnx_path("other", tmp_path) is None
    weights = {"name": "m", "file": "m.safetensors", "sha256": "bb", "size": 1, "source": "x",
               "licence": "MIT"}
    (tmp_path / "manifest.json").write_text(json.dumps({"m": weights}))
    assert onnx_path("m", tmp_path) is None        # exported from weights since replaced
    (tmp_path / "manifest.json").write_text(json.dumps({"m": {**weights, "sha256": "aa"}}))
    assert onnx_path("m", tmp_path) == model
    model.write_bytes(b"tampered with!!")
    with pytest.raises(UserError, match=r"checksum mismatch.*models pull --force"):
        onnx_path("m", tmp_path)


def test_auto_backend_falls_back_to_the_torch_port(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from moodshift.faces.tiny import TinyFaceDetector
    from moodshift.models.runtime import TorchNet
    from moodshift.models.store import cache_dir

    _weights("faceapi-tiny")
    for name in ("faceapi-tiny.safetensors", "manifest.json"):
        shutil.copy(cache_dir() / name, tmp_path / name)
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path))     # weights, but no ONNX export
    assert isinstance(TinyFaceDetector().net, TorchNet)
    with pytest.raises(ModelMissingError, match="models pull --force"):
        TinyFaceDetector(backend="onnx")


def test_export_module_checks_against_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from moodshift.models.onnx_export import export_module
    from moodshift.models.runtime import OnnxNet

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    path = export_module(module, torch.zeros(1, 3, 8, 8), tmp_path / "m.onnx", dynamic_batch=True)
    x = np.random.default_rng(1).uniform(-1, 1, (5, 3, 8, 8)).astype(np.float32)
    (got,) = OnnxNet(path)(x)
    with torch.no_grad():
        np.testing.assert_allclose(got, module(torch.from_numpy(x)).numpy(), atol=1e-5)
    with pytest.raises(UserError, match="differs from torch"):
        export_module(module, torch.zeros(1, 3, 8, 8), tmp_path / "bad.onnx", False, atol=-1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]   # nothing half-written


def test_analyze_with_faceapi_models_does_not_import_torch() -> None:
    import subprocess
    import sys

    _onnx_ready("faceapi-ssd", "faceapi-expression", "faceapi-agegender")
    code = (
        "import sys\n"
        "from moodshift.imageio import load_image\n"
        "from moodshift.analyze import Models, analyze\n"
        "models = Models(expression_name='faceapi')\n"
        f"result = analyze(load_image({str(ROOT / 'examples' / 'group.jpg')!r}), 'g', models)\n"
        "assert result.faces and all(f.age is not None for f in result.faces), result\n"
        "print(len(result.faces), 'torch' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1] == "False", "torch was imported"


def test_an_age_below_zero_years_reads_as_zero(monkeypatch) -> None:
    """face-api's age head is a plain regression; a steered child's face once came out at
    -0.83 years and crashed `eval gan` when that was turned into an age group."""
    from moodshift.faces.agegender import FaceApiAgeGender
    from moodshift.people import age_group_of

    model = FaceApiAgeGender.__new__(FaceApiAgeGender)  # no weights needed: raw is replaced
    monkeypatch.setattr(model, "raw", lambda batch: (np.array([-0.83, 31.0]),
                                                     np.array([[0.9, 0.1], [0.2, 0.8]])))
    image = np.zeros((64, 64, 3), np.uint8)
    young, adult = model.predict(image, [(0, 0, 32, 32), (16, 16, 32, 32)])
    assert young.age == 0.0 and age_group_of(young.age) == "child"
    assert adult.age == 31.0 and adult.gender == "female"
