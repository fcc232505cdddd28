"""FaceRes (npm @vladmandic/human), the independent age/gender judge of `eval gan`: the port
against outputs of the TF.js model itself (tests/data/faceres_reference.json, made in Node by
tests/data/make_faceres_reference.js), its reading of a bundled portrait, and the puller's
checks."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from probes import pulled_net

from moodshift.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "data" / "faceres_reference.json").read_text())
ASTRONAUT = ROOT / "examples" / "astronaut.png"
GROUP = ROOT / "examples" / "group.jpg"


def _pattern() -> np.ndarray:
    """The reference input, NCHW float32: v(y, x, c) = (7y + 3x + 50c) % 256."""
    y, x, c = np.meshgrid(np.arange(224), np.arange(224), np.arange(3), indexing="ij")
    return ((7 * y + 3 * x + 50 * c) % 256).astype(np.float32).transpose(2, 0, 1)[None].copy()


def _model(backend: str):
    from moodshift.faces.faceres import NAME, FaceResAgeGender

    return pulled_net(FaceResAgeGender, NAME, backend)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_port_reproduces_tfjs_outputs(backend: str) -> None:
    model = _model(backend)
    male, ages, desc = (np.asarray(a, np.float64) for a in model.net(_pattern()))
    assert male[0] == pytest.approx(REFERENCE["male"], abs=1e-5)
    assert ages[0] @ np.arange(100) == pytest.approx(REFERENCE["age_expectation"], abs=1e-3)
    assert int(np.argmax(ages[0])) == REFERENCE["age_top_bin"]
    np.testing.assert_allclose(desc[0, :32], REFERENCE["descriptor_head"], atol=1e-4)
    assert desc[0].sum() == pytest.approx(REFERENCE["descriptor_sum"], rel=1e-4)


def test_reads_the_bundled_portrait() -> None:
    """The astronaut (Eileen Collins, photographed in her early forties) reads as a woman of
    working age; the descriptor is unit length and separates two different people."""
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import load_image

    model = _model("onnx")
    detector = load_detector("ssd")
    image = load_image(ASTRONAUT)
    box = tuple(int(v) for v in detector.detect(image)[0].box)
    read = model.predict(image, [box])[0]
    assert read.gender == "female" and read.gender_probability > 0.7
    assert 20 < read.age < 60
    group = load_image(GROUP)
    boxes = [tuple(int(v) for v in f.box) for f in detector.detect(group)][:2]
    desc = model.describe(image, [box])
    others = model.describe(group, boxes)
    np.testing.assert_allclose(np.linalg.norm(desc, axis=1), 1.0, atol=1e-9)
    same = np.linalg.norm(desc[0] - model.describe(image, [box])[0])
    assert same < 1e-6
    assert np.linalg.norm(others - desc[0], axis=1).min() > 0.3


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_puller_refuses_files_whose_checksum_differs(tmp_path: Path) -> None:
    from moodshift.models.sources.human import MEMBERS, read_members

    fake = _tarball(tmp_path / "human.tgz", {name: b"not the model" for name in MEMBERS})
    with pytest.raises(UserError, match=r"human\.tgz: package/models/faceres\.json has sha256"):
        read_members(fake, tmp_path)
    with pytest.raises(UserError, match=r"cannot read the faceres model"):
        read_members(_tarball(tmp_path / "empty.tgz", {}), tmp_path)
    # another graph of the package is named as itself, not as FaceRes
    with pytest.raises(UserError, match=r"cannot read the faceres-deep model"):
        read_members(_tarball(tmp_path / "empty.tgz", {}), tmp_path,
                     {"package/models/faceres-deep.json": "0" * 64})


def test_age_is_read_at_the_top_of_the_distribution_not_its_mean() -> None:
    """A child's distribution with a long tail into adulthood reads as a child: the mean of
    this one is 20 years, its top 8."""
    from moodshift.faces.faceres import mode_age

    dist = np.zeros(100)
    dist[6:11] = [0.08, 0.12, 0.2, 0.1, 0.05]
    dist[11:60] = (1.0 - dist.sum()) / 49
    assert dist @ np.arange(100) > 20
    assert mode_age(dist) == pytest.approx(8 - 1.2)     # the larger neighbour (7 years) wins
    edge = np.zeros(100)
    edge[99], edge[98] = 0.7, 0.3
    assert mode_age(edge) == pytest.approx(99 - 3.0)
    first = np.zeros(100)
    first[0], first[1] = 0.6, 0.4
    assert mode_age(first) == pytest.approx(4.0)
