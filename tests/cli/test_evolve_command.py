"""`moodshift evolve` from the command line: runs on tiny images, outputs, resume, bad input."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from moodshift.cli import main
from moodshift.imageio import read_metadata

FAST = ["--size", "16", "--batch", "8", "--judge", "none", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["evolve", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mood_run(out: Path, iterations: int, *extra: str) -> list[str]:
    return ["--target", "va:0.6,0.4", "--fitness", "mood", "--genome", "pixels",
            "--iterations", str(iterations), "--out", str(out), *FAST, *extra]


@pytest.mark.parametrize("argv, message", [
    (["--target", "emotion:smug", "--iterations", "3"], "valid emotions: angry"),
    (["--target", "sadness!", "--iterations", "3"], "valid targets: emotion:E"),
    (["--target", "emotions", "--iterations", "0"], "--iterations 0: must be a positive"),
    (["--target", "emotions", "--iterations", "-4"], "--iterations -4: must be a positive"),
    (["--target", "emotion:sad", "--layout", "emotions", "--iterations", "2"], "does not fit"),
    (["--target", "emotions", "--genome", "dna", "--iterations", "2"], "valid genomes: pixels"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, message) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *argv, "--out", str(out), *FAST)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_short_run_improves_and_writes_every_output(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "--target", "emotion:happy", "--genome", "cppn",
                              "--iterations", "12", "--out", str(out), "--json", *FAST)
    assert code == 0
    result = json.loads(stdout)
    assert result == json.loads((out / "result.json").read_text())
    assert result["iterations"] == 12 and result["evaluations"] == 96
    assert result["best_objective"] > result["initial_best_objective"]
    assert 0 < result["coverage"] <= 1 and result["qd_score"] > 0
    rows = list(csv.DictReader((out / "archive.csv").open()))
    assert len(rows) == len(result["best"]) == round(result["coverage"] * 100)
    best_cell = max(result["best"], key=lambda c: result["best"][c]["objective"])
    meta = read_metadata(out / result["best"][best_cell]["image"])
    assert meta["tool"] == "evolve" and meta["emotion"] == "happy"
    assert meta["target"] == "emotion:happy" and meta["target_vad"]["valence"] > 0.5
    assert abs(meta["objective"] - result["best"][best_cell]["objective"]) < 1e-4
    for name in ("heatmap.png", "grid.png"):
        with Image.open(out / name) as img:
            assert img.size[0] > 50 and img.size[1] > 50
    with Image.open(out / result["best"][best_cell]["image"]) as img:
        assert img.size == (16, 16)


def test_resume_continues_exactly_where_it_stopped(tmp_path, capsys) -> None:
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run_cli(capsys, *mood_run(straight, 6))[0] == 0
    assert run_cli(capsys, *mood_run(split, 3))[0] == 0
    code, stdout, _ = run_cli(capsys, *mood_run(split, 6, "--resume", "--json"))
    assert code == 0
    result = json.loads(stdout)
    assert result["iterations"] == 6 and result["evaluations"] == 48
    # The pickled scheduler carries the emitters' random state: same archive as one run.
    assert (split / "archive.csv").read_text() == (straight / "archive.csv").read_text()
    assert len((split / "history.csv").read_text().splitlines()) == 7


def test_resume_refuses_other_configuration_and_missing_checkpoint(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *mood_run(out, 2))[0] == 0
    before = (out / "archive.csv").read_text()
    other = [a if a != "pixels" else "cppn" for a in mood_run(out, 4, "--resume")]
    code, _, err = run_cli(capsys, *other)
    assert code == 2 and "another configuration" in err and "genome 'pixels'" in err
    code, _, err = run_cli(capsys, *mood_run(out, 4))  # no --resume: refuse to overwrite
    assert code == 2 and "--resume" in err
    assert (out / "archive.csv").read_text() == before
    code, _, err = run_cli(capsys, *mood_run(tmp_path / "fresh", 4, "--resume"))
    assert code == 2 and "no checkpoint" in err
    (out / "checkpoint.pkl").unlink()  # outputs without a run to resume: still not overwritten
    code, _, err = run_cli(capsys, *mood_run(out, 4))
    assert code == 2 and "already holds elites, result.json" in err


def test_config_file_overrides_the_grid_and_bad_config_is_refused(tmp_path, capsys) -> None:
    good = tmp_path / "small.toml"
    good.write_text("[layouts]\nva_cells = [4, 3]\n")
    code, stdout, _ = run_cli(capsys, *mood_run(tmp_path / "a", 2, "--config", str(good),
                                                 "--json"))
    assert code == 0 and json.loads(stdout)["cells"] == 12
    bad = tmp_path / "bad.toml"
    bad.write_text("[layouts\n")
    code, _, err = run_cli(capsys, *mood_run(tmp_path / "b", 2, "--config", str(bad)))
    assert code == 2 and "bad.toml: not valid TOML" in err and not (tmp_path / "b").exists()


def test_gan_latent_without_a_gan_says_how_to_get_one(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "moodshift.generate.gan.generator", None)  # import fails
    code, _, err = run_cli(capsys, "--target", "emotion:sad", "--genome", "gan-latent",
                           "--fitness", "mood", "--iterations", "2", "--out",
                           str(tmp_path / "run"), *FAST)
    assert code == 2 and "no conditional GAN installed" in err and "train gan" in err
    assert not (tmp_path / "run").exists()


def test_out_that_cannot_be_created_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    # os.access can say yes where mkdir then fails (read-only mounts, /proc, root): no traceback.
    real_mkdir = Path.mkdir

    def refuse(self: Path, *a: object, **kw: object) -> None:
        if self.name == "run":
            raise PermissionError(13, "Permission denied")
        real_mkdir(self, *a, **kw)

    monkeypatch.setattr(Path, "mkdir", refuse)
    code, _, err = run_cli(capsys, *mood_run(tmp_path / "run", 2))
    assert code == 2 and "cannot create the output folder" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_resume_with_fewer_iterations_only_rewrites_outputs(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *mood_run(out, 3))[0] == 0
    code, stdout, err = run_cli(capsys, *mood_run(out, 2, "--resume", "--json"))
    assert code == 0 and json.loads(stdout)["iterations"] == 3
    assert "already ran 3 iterations" in err
