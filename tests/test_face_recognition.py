"""face-api's face recognition net, the identity tuner of same-person portraits: the port and its
ONNX export against the descriptor of the TF.js model itself
(tests/data/faceapi_recognition_reference.json, made in Node by
tests/data/make_faceapi_recognition_reference.mjs), and what its descriptors tell apart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from probes import pulled_net

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "data" / "faceapi_recognition_reference.json")
                       .read_text())


def _pattern() -> np.ndarray:
    """The reference face, normalised as the network takes it, NCHW."""
    from moodshift.faces.recognition import MEAN_RGB

    size = REFERENCE["size"]
    y, x, c = np.meshgrid(np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    v = ((5 * x + 11 * y + 70 * c + 3 * ((x * y) % 31)) % 256).astype(np.float32)
    return ((v - np.asarray(MEAN_RGB, np.float32)) / 255.0).transpose(2, 0, 1)[None].copy()


def _model(backend: str):
    from moodshift.faces.recognition import NAME, FaceRecognizer

    return pulled_net(FaceRecognizer, NAME, backend)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_port_reproduces_the_tfjs_descriptor(backend: str) -> None:
    descriptor = np.asarray(_model(backend).net(_pattern())[0][0], np.float64)
    np.testing.assert_allclose(descriptor, REFERENCE["descriptor"], atol=1e-5)


def test_a_face_is_closer_to_its_mirror_than_to_other_people() -> None:
    """Three people (the two of the group photo, the astronaut): each face's descriptor is
    nearer its own mirror image than any other person's face."""
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import load_image

    model = _model("onnx")
    detector = load_detector("ssd")
    faces = []
    for name in ("group.jpg", "astronaut.png"):
        image = load_image(ROOT / "examples" / name)
        faces += [(image, tuple(int(v) for v in f.box)) for f in detector.detect(image)]
    assert len(faces) == 3
    desc = np.concatenate([model.describe(image, [box]) for image, box in faces])
    np.testing.assert_allclose(np.linalg.norm(desc, axis=1), 1.0, atol=1e-9)
    mirror = np.concatenate([
        model.describe(image[:, ::-1].copy(), [(image.shape[1] - x - w, y, w, h)])
        for image, (x, y, w, h) in faces])
    same = np.linalg.norm(desc - mirror, axis=1)
    others = np.linalg.norm(desc[:, None] - desc[None], axis=2)[~np.eye(3, dtype=bool)]
    assert same.max() < others.min()
