"""`moodshift train gan`, `generate` and `eval gan` from the command line: outputs, resume,
Ctrl-C, bad values, the grid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from gan_data import fer_tree
from PIL import Image

from moodshift.cli import main
from moodshift.emotions import EMOTIONS
from moodshift.imageio import read_metadata


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A GAN trained for a few steps on the tiny tree (shared by the tests below)."""
    base = tmp_path_factory.mktemp("gan")
    data = fer_tree(base / "data")
    out = base / "model"
    code = main(["train", "gan", "--data", str(data), "--out", str(out), "--steps", "4",
                 "--batch", "4", "--checkpoint-every", "3", "--no-progress"])
    assert code == 0
    return out


def test_generate_writes_an_image_of_the_asked_size(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "face.png"
    code = main(["generate", "--emotion", "happy", "--age", "elderly", "--gender", "female",
                 "--model", str(trained), "--size", "300", "--no-style", "-o", str(out)])
    assert code == 0
    with Image.open(out) as img:
        assert img.size == (300, 300)
    meta = read_metadata(out)
    assert meta["emotion"] == "happy" and meta["age_group"] == "elderly"
    assert meta["target_vad"]["valence"] > 0 and meta["generator"] == "gan"


def test_a_description_without_emotion_words_is_said_not_passed_over(trained: Path,
                                                                     tmp_path: Path,
                                                                     capsys) -> None:
    out = tmp_path / "face.png"
    assert main(["generate", "qwerty asdf", "--model", str(trained), "--no-style",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "'qwerty asdf': no emotion words" in err and "--emotion chooses one" in err
    assert read_metadata(out)["emotion"] in EMOTIONS
    assert main(["generate", "qwerty asdf", "--emotion", "sad", "--model", str(trained),
                 "--no-style", "-o", str(out)]) == 0
    assert "no emotion words" not in capsys.readouterr().err   # the user chose: nothing to say


def test_generate_styles_and_numbers_several_outputs(trained: Path, tmp_path: Path,
                                                      capsys) -> None:
    code = main(["generate", "--emotion", "sad", "--n", "2", "--seed", "3", "--model",
                 str(trained), "--strength", "0.8", "-o", str(tmp_path / "faces"), "--json"])
    assert code == 0
    lines = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    for line in lines:
        img = np.asarray(Image.open(line["output"]).convert("RGB"))
        assert img.shape == (256, 256, 3)
        # the GAN's faces are grey; the fast style engine must have coloured them
        assert np.abs(img[..., 0].astype(int) - img[..., 2]).mean() > 1.0


@pytest.mark.slow
def test_resume_continues_training(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "more"
    shutil.copytree(trained, out)
    data = trained.parent / "data"
    assert main(["train", "gan", "--data", str(data), "--out", str(out), "--steps", "6",
                 "--batch", "4", "--resume", str(out), "--no-progress"]) == 0
    assert json.loads((out / "generator.json").read_text())["steps"] == 6


def test_ctrl_c_saves_a_checkpoint_and_exits_130(trained: Path, tmp_path: Path,
                                               monkeypatch) -> None:
    from moodshift.generate.gan import train as gan_train

    calls = {"n": 0}
    real_update = gan_train._update_ema

    def interrupt_at_step_two(*args) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_update(*args)

    monkeypatch.setattr(gan_train, "_update_ema", interrupt_at_step_two)
    out = tmp_path / "stopped"
    code = main(["train", "gan", "--data", str(trained.parent / "data"), "--out", str(out),
                 "--steps", "50", "--batch", "4", "--no-progress"])
    assert code == 130
    assert (out / "checkpoint.pt").is_file()
    assert json.loads((out / "generator.json").read_text())["steps"] == 1


def test_bad_values_are_refused_with_the_valid_ones(trained: Path, tmp_path: Path,
                                                    capsys) -> None:
    out = tmp_path / "x.png"
    cases = [
        (["--emotion", "grumpy"], "angry, disgust, fear, happy, sad, surprise, neutral"),
        (["--emotion", "happy", "--age", "ancient"], "child, teen, young_adult, middle_aged"),
        (["--emotion", "happy", "--gender", "robot"], "female, male"),
        (["--emotion", "happy", "--n", "1000"], "between 1 and 100"),
        (["--emotion", "happy", "--size", "64"], "between 256 and 2048"),
        (["--emotion", "happy", "--strength", "2"], "between 0 and 1"),
        (["--emotion", "happy", "--truncation", "-1"], "--truncation -1.0: must be between"),
        (["--emotion", "happy", "--style", "nosuch.jpg"], "neither an emotion"),
        ([], "--emotion"),
    ]
    for extra, expected in cases:
        code = main(["generate", "--model", str(trained), "-o", str(out)] + extra)
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (extra, err)
        assert err.count("\n") == 1
    assert not out.exists()
    assert main(["eval", "gan", "--n", "999999"]) == 2
    assert "between 14 and 5000" in capsys.readouterr().err
    assert main(["eval", "gan", "--n", "7"]) == 2   # one face per emotion: no diversity
    assert "--n 7: must be between 14 and 5000" in capsys.readouterr().err
    assert main(["generate", "--emotion", "happy", "--model", str(tmp_path), "-o",
                 str(out)]) == 2
    assert "no generator.safetensors" in capsys.readouterr().err
    assert main(["generate", "--emotion", "happy", "--generator", "affect", "--model",
                 str(tmp_path / "missing"), "-o", str(out)]) == 2
    assert "missing" in capsys.readouterr().err and not out.exists()


def test_eval_reports_agreement_diversity_and_distance(trained: Path, tmp_path: Path,
                                                       capsys) -> None:
    real = fer_tree(tmp_path / "real", per_class=4)
    plot = tmp_path / "eval.png"
    code = main(["eval", "gan", "--n", "14", "--model", str(trained), "--real", str(real),
                 "--plot", str(plot), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["agreement"]) == set(EMOTIONS)
    assert all(0.0 <= v <= 1.0 for v in result["agreement"].values())
    # --n 14 is 2 faces per emotion; the real folder has 2 emotions, 2 faces each are drawn
    assert result["diversity"] > 0 and result["fid"] > 0 and result["real_n"] == 4
    assert plot.stat().st_size > 5000


def test_grid_mode_writes_every_emotion_age_and_gender(tmp_path: Path) -> None:
    from moodshift.generate.gan.data import AGE_GROUPS, GENDERS

    out = tmp_path / "grid.png"
    assert main(["generate", "--grid", "--generator", "cgan", "--no-style", "--size", "256",
                 "-o", str(out)]) == 0
    with Image.open(out) as img:
        w, h = img.size
    assert w == 90 + 128 * len(AGE_GROUPS) * len(GENDERS) and h == 34 + 128 * len(EMOTIONS)


def test_train_gan_refuses_bad_values_and_checkpoints_without_outputs(trained: Path,
                                                                      tmp_path: Path,
                                                                      capsys) -> None:
    import torch

    data = trained.parent / "data"
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"garbage\n")
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {}, "step": 3}, foreign)   # e.g. a style-network checkpoint
    out = tmp_path / "out"
    cases = [(["--time-budget", "0"], "--time-budget 0.0: must be a positive"),
             (["--time-budget", "-1"], "--time-budget -1.0: must be a positive"),
             (["--limit-per-class", "0"], "--limit-per-class 0: must be >= 1"),
             (["--threads", "0"], "--threads 0: must be >= 1"),
             (["--resume", str(garbage)], "garbage.pt: not a moodshift GAN checkpoint"),
             (["--resume", str(foreign)], "foreign.pt: not a moodshift GAN checkpoint")]
    for extra, expected in cases:
        code = main(["train", "gan", "--data", str(data), "--out", str(out), "--steps", "2",
                     "--batch", "4", "--no-progress", *extra])
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (extra, err)
        assert err.count("\n") == 1 and not out.exists(), (extra, err)


def test_eval_gan_refuses_a_plot_name_that_is_not_png(trained: Path, tmp_path: Path,
                                                      capsys) -> None:
    plot = tmp_path / "plot.txt"
    assert main(["eval", "gan", "--n", "14", "--model", str(trained), "--plot", str(plot)]) == 2
    err = capsys.readouterr().err
    assert "plot.txt: the plot is a PNG" in err and err.count("\n") == 1
    assert not plot.exists()
    # a bad --real folder or plot location fails before any face is generated (no progress bar)
    (tmp_path / "empty").mkdir()
    blocker = tmp_path / "file.png"
    blocker.write_bytes(b"x")
    for extra, expected in [(["--real", str(tmp_path / "empty")], "no images in emotion"),
                            (["--plot", str(blocker / "p.png")], "is not a folder")]:
        assert main(["eval", "gan", "--n", "14", "--model", str(trained), *extra]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "eval gan" not in err, err


def test_generator_that_does_not_fit_its_config_is_one_line_error(trained: Path, tmp_path: Path,
                                                                   capsys) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained, model)
    config = json.loads((model / "generator.json").read_text())
    config["width"] = int(config["width"]) * 2
    (model / "generator.json").write_text(json.dumps(config))
    out = tmp_path / "x.png"
    assert main(["generate", "--emotion", "happy", "--no-style", "--model", str(model),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "weights do not fit the GAN generator (size mismatch" in err, err
    assert err.count("\n") == 1 and not out.exists()
    assert main(["generate", "--emotion", "happy", "--no-style", "--model",
                 str(tmp_path / "nosuch.safetensors"), "-o", str(out)]) == 2
    assert "nosuch.safetensors: no such generator file" in capsys.readouterr().err
