"""Images with a side of 1-4 px go through every stylize engine, and one failing file in a
folder run does not stop the others (issue: tiny images crashed inside ONNX Runtime's pad)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.cli import main
from moodshift.style import stylize_image


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (4, 4), (3, 700), (700, 3), (1, 5000)])
def test_fast_engine_styles_tiny_images_at_their_own_size(shape: tuple[int, int]) -> None:
    img = _noise(*shape)
    out = stylize_image(img, "sad", strength=1.0)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.array_equal(out, img)  # really styled, not passed through


def test_trained_engine_styles_a_one_pixel_image() -> None:
    img = _noise(1, 1)
    out = stylize_image(img, "sad", strength=1.0, engine="trained")
    assert out.shape == (1, 1, 3)


def test_tiny_and_huge_aspect_images_through_the_cli(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, shape in (("a", (40, 50)), ("b", (1, 1)), ("c", (3, 2000)), ("d", (2000, 3))):
        Image.fromarray(_noise(*shape)).save(folder / f"{name}.png")
    code = main(["stylize", str(folder), "--emotion", "happy", "-o", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    assert code == 0, err
    outs = {p.name: Image.open(p).size for p in (tmp_path / "o").iterdir()}
    assert outs == {"a.happy.png": (50, 40), "b.happy.png": (1, 1), "c.happy.png": (2000, 3),
                    "d.happy.png": (3, 2000)}


def test_folder_run_goes_on_after_a_bad_file_and_an_unexpected_failure(
        capsys, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "c", "e"):
        Image.fromarray(_noise(30, 40)).save(folder / f"{name}.png")
    (folder / "b.png").write_bytes((folder / "a.png").read_bytes()[:60])  # truncated
    import moodshift.stylize as library
    original = library.stylize

    def flaky(image, name, *a, **k):  # a bug in one file's processing, not a user error
        if name.endswith("c.png"):
            raise RuntimeError("boom")
        return original(image, name, *a, **k)

    monkeypatch.setattr(library, "stylize", flaky)
    code = main(["stylize", str(folder), "--emotion", "sad", "-o", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert "b.png" in lines[0] and "truncated" in lines[0]
    assert "c.png" in lines[1] and "RuntimeError: boom" in lines[1]
    assert code == 1  # an unexpected failure outranks a refused input
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.sad.png", "e.sad.png"]


def test_folder_run_with_only_refused_inputs_exits_2(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(_noise(30, 40)).save(folder / "a.png")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff")
    Image.fromarray(_noise(30, 40)).save(folder / "c.png")
    code = main(["analyze", str(folder), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "b.jpg" in err
    assert out.count("\n") == 2


def test_analyze_of_a_3x100000_strip_with_no_face() -> None:
    """The detector's second, padded look used to pad by half the longer side: a 100003x200000
    canvas (56 GiB) for this strip."""
    from moodshift.analyze import Models, analyze

    result = analyze(_noise(3, 100_000), "strip", Models(with_age_gender=False))
    assert result.faces == []
