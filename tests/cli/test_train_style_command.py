"""`moodshift train style` and `stylize --engine trained` from the command line: resume, bad
numbers and inputs, bad checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import portrait_like, stripes
from PIL import Image

from moodshift.cli import main

FAST = ["--size", "32", "--batch", "1", "--width", "4", "--sample-every", "2",
        "--checkpoint-every", "2", "--threads", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, content_dir: Path, style_file: Path,
            ) -> tuple[Path, dict]:
    """One short training run shared by the tests below (the slow part: ~5 s)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("model") / "stripes.onnx"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["train", "style", "--style", str(style_file), "--content", str(content_dir),
                     "--out", str(out), "--steps", "3", "--backbone", "mobilenet", "--json",
                     *FAST])
    assert code == 0
    return out, json.loads(buf.getvalue().strip().splitlines()[-1])


def test_stylize_with_trained_model(trained: tuple[Path, dict], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = trained
    photo = portrait_like(70, 90, seed=3)          # not a multiple of 4: padded and cropped
    src = tmp_path / "photo.png"
    Image.fromarray(photo).save(src)
    out = tmp_path / "styled.png"
    code = main(["stylize", str(src), "--emotion", "sad", "--engine", "trained", "--model",
                 str(model), "--strength", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    styled = np.asarray(Image.open(out))
    assert styled.shape == photo.shape
    assert np.abs(styled.astype(int) - photo).mean() > 2   # the network changed the photo


@pytest.mark.slow
def test_resume_continues_to_more_steps(trained: tuple[Path, dict], content_dir: Path,
                                        style_file: Path, tmp_path: Path) -> None:
    import torch

    model, _ = trained
    copy = tmp_path / "stripes.onnx"
    work = tmp_path / "stripes_training"
    work.mkdir()
    (work / "checkpoint.pt").write_bytes((model.with_name("stripes_training") /
                                          "checkpoint.pt").read_bytes())
    code = main(["train", "style", "--style", str(style_file), "--content", str(content_dir),
                 "--out", str(copy), "--steps", "4", "--resume", *FAST])
    assert code == 0
    state = torch.load(work / "checkpoint.pt", weights_only=False)
    assert state["step"] == 4 and copy.is_file()


@pytest.mark.parametrize("extra, message", [
    (["--steps", "0"], "--steps 0: must be a positive"),
    (["--size", "4096", "--batch", "512"], "needs about .* GB of memory"),
    (["--out", "model.pt"], "must end in .onnx"),
])
def test_bad_numbers_refused_without_outputs(extra: list[str], message: str, content_dir: Path,
                                             style_file: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.chdir(tmp_path)
    args = ["train", "style", "--style", str(style_file), "--content", str(content_dir),
            "--out", "m.onnx", "--width", "4", "--backbone", "mobilenet"]
    code = main(args + extra)
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err), err
    assert len(err.strip().splitlines()) == 1 or "MobileNet" in err
    assert not any(tmp_path.iterdir())          # no partial outputs


def test_bad_style_and_content_inputs(content_dir: Path, style_file: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    tiny = tmp_path / "tiny.png"
    Image.fromarray(stripes(96)[:20, :30]).save(tiny)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    undecodable = tmp_path / "undecodable"
    undecodable.mkdir()
    (undecodable / "a.jpg").write_bytes(b"not a jpeg")
    cases = [(["--style", str(tiny), "--content", str(content_dir)],
              "tiny.png: style image is 30x20; it needs at least 64"),
             (["--style", str(broken), "--content", str(content_dir)], "broken.png: "),
             (["--style", str(style_file), "--content", str(empty)],
              "empty: content folder contains no images"),
             (["--style", str(style_file), "--content", str(undecodable)],
              "undecodable: none of its 1 image files could be decoded")]
    for extra, message in cases:
        out = tmp_path / "m.onnx"
        code = main(["train", "style", *extra, "--out", str(out), "--steps", "2",
                     "--backbone", "mobilenet"])
        err = capsys.readouterr().err
        assert code == 2 and message in err, err
        assert not out.exists() and not (tmp_path / "m_training").exists()


def test_bad_resume_checkpoint_is_one_line_error(content_dir: Path, style_file: Path,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"garbage\n")
    foreign = tmp_path / "foreign.pt"
    torch.save({"G": {}, "step": 3}, foreign)   # e.g. a GAN checkpoint
    for ckpt in (garbage, foreign):
        out = tmp_path / "m.onnx"
        code = main(["train", "style", "--style", str(style_file), "--content", str(content_dir),
                     "--out", str(out), "--steps", "4", "--resume", str(ckpt), *FAST])
        err = capsys.readouterr().err
        assert code == 2 and f"{ckpt.name}: not a `moodshift train style` checkpoint" in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert not out.exists() and not (tmp_path / "m_training").exists()


def test_train_writes_model_and_training_files(trained: tuple[Path, dict]) -> None:
    model, result = trained
    assert model.is_file() and model.stat().st_size > 10_000
    work = model.with_name("stripes_training")
    assert result["steps_done"] == 3 and not result["interrupted"]
    assert result["skipped_files"] == 1          # broken.jpg: skipped and counted
    for name in ("checkpoint.pt", "history.json", "curves.png", "MODEL_CARD.md"):
        assert (work / name).stat().st_size > 0, name
    sheets = sorted((work / "samples").glob("step_*.png"))
    assert [p.name for p in sheets] == ["step_000002.png", "step_000003.png"]
    card = (work / "MODEL_CARD.md").read_text()
    assert "moodshift train style --style" in card and "--steps 3" in card
    assert set(result["final_loss"]) >= {"content", "style", "tv", "total"}
