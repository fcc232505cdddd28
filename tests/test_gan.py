"""The conditional GAN: training on tiny generated data, generate, eval, the shipped generator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from gan_data import fer_tree
from PIL import Image

from moodshift.emotions import EMOTIONS
from moodshift.generate.gan.train import GanConfig, train_gan


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A GAN trained for a few steps on the tiny tree (shared by the tests below)."""
    base = tmp_path_factory.mktemp("gan")
    data = fer_tree(base / "data")
    out = base / "model"
    result = train_gan(data, out, GanConfig(steps=4, batch=4, checkpoint_every=3),
                       log=lambda _: None, show_progress=False)
    assert result.steps == 4
    return out


def test_training_writes_a_generator_and_its_reports(trained: Path) -> None:
    for name in ("generator.safetensors", "generator.json", "checkpoint.pt", "samples.png",
                 "curves.png", "MODEL_CARD.md", "gan-labels.csv"):
        assert (trained / name).stat().st_size > 0, name
    config = json.loads((trained / "generator.json").read_text())
    assert config["steps"] == 4 and config["image_size"] == 48
    card = (trained / "MODEL_CARD.md").read_text()
    assert "automatic" in card and "12 faces" in card


def test_same_seed_same_faces_and_conditions_change_them(trained: Path) -> None:
    from moodshift.generate.gan.generator import load_generator

    gen = load_generator(trained)
    z = gen.sample_latent(3, seed=7)
    assert np.array_equal(z, gen.sample_latent(3, seed=7))
    a = gen.generate(z, "happy")
    assert a.shape == (3, gen.image_size, gen.image_size, 3) and a.dtype == np.uint8
    assert np.array_equal(a, gen.generate(z, "happy"))
    assert not np.array_equal(a, gen.generate(z, "angry", "child", "male"))


def test_fer_reader_and_celeba_reader(tmp_path: Path) -> None:
    from moodshift.generate.gan.data import load_celeba, load_faces

    faces = load_faces(fer_tree(tmp_path / "fer", per_class=3), 48, show_progress=False)
    assert faces.images.shape == (6, 48, 48)
    assert sorted(set(faces.emotion.tolist())) == [EMOTIONS.index("happy"), EMOTIONS.index("sad")]
    assert faces.counts()["gender"] == {"female": 4, "male": 2}
    # ages 25, 45, 65 -> young_adult, middle_aged, elderly (the text reader's bands)
    assert faces.counts()["age_group"]["elderly"] == 2

    celeba = tmp_path / "celeba"
    (celeba / "img_align_celeba").mkdir(parents=True)
    names = ["Male", "Smiling", "Young"]
    lines = ["2", " ".join(names)]
    for i, (male, smiling, young) in enumerate([(1, 1, -1), (-1, -1, 1)]):
        Image.fromarray(np.full((218, 178, 3), 100 + i, np.uint8)).save(
            celeba / "img_align_celeba" / f"{i:06d}.jpg")
        lines.append(f"{i:06d}.jpg {male} {smiling} {young}")
    (celeba / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    data = load_celeba(celeba, 48)
    assert data.images.shape == (2, 48, 48)
    assert [EMOTIONS[e] for e in data.emotion] == ["happy", "neutral"]
    assert data.counts()["gender"] == {"female": 1, "male": 1}


def test_frechet_distance_matches_its_definition() -> None:
    from moodshift.generate.gan.evaluate import frechet_distance, mean_pairwise_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 5))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # two isotropic Gaussians: |mu|^2 + d (s1 - s2)^2 in the limit
    b = rng.normal(size=(4000, 5)) * 2 + 1
    assert frechet_distance(rng.normal(size=(4000, 5)), b) == pytest.approx(5 + 5, rel=0.1)
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)


def test_shipped_generator_loads_and_its_checksum_matches(tmp_path: Path, monkeypatch) -> None:
    from moodshift.generate.gan import generator as gan
    from moodshift.models.store import sha256_file

    shipped = gan.SHIPPED_DIR / gan.SHIPPED_NAME
    assert sha256_file(shipped) == gan.SHIPPED_SHA256
    gen = gan.load_generator()
    faces = gen.generate(gen.sample_latent(2, 0), "surprise", "teen", "male")
    assert faces.shape == (2, gen.image_size, gen.image_size, 3)

    bad = tmp_path / "gan"
    shutil.copytree(gan.SHIPPED_DIR, bad)
    with open(bad / gan.SHIPPED_NAME, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\0\0\0\1")
    monkeypatch.setattr(gan, "SHIPPED_DIR", bad)
    with pytest.raises(Exception, match="checksum mismatch"):
        gan.load_generator()
