"""`moodshift evolve`: MAP-Elites runs on tiny images, outputs, resume and bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.cli import main
from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.evolve.fitness import Fitness, judge_agreement, load_judge
from moodshift.evolve.gan_genome import GanLatentGenome
from moodshift.evolve.genomes import CppnGenome, PixelGenome
from moodshift.evolve.layouts import choose_layout
from moodshift.evolve.outputs import write_outputs
from moodshift.evolve.run import EvolveConfig, evolve, new_state
from moodshift.evolve.settings import load_settings
from moodshift.evolve.targets import parse_target
from moodshift.imageio import read_metadata

FAST = ["--size", "16", "--batch", "8", "--judge", "none", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["evolve", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_targets_parse_and_reject() -> None:
    assert parse_target("emotion:joy").emotion == "happy"
    assert parse_target("emotions").kind == "emotions"
    assert parse_target("va:0.5,-0.2").vad == (0.5, -0.2)
    assert parse_target("vad:0.1,0.2,0.3").nearest_emotion() in EMOTIONS
    with pytest.raises(UserError, match="valid emotions: angry, disgust"):
        parse_target("emotion:smug")
    with pytest.raises(UserError, match="did you mean emotion:happy"):
        parse_target("happy")
    with pytest.raises(UserError, match="outside"):
        parse_target("va:2,0")
    with pytest.raises(UserError, match="expected 3 numbers"):
        parse_target("vad:0,0")


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


def mood_run(out: Path, iterations: int, *extra: str) -> list[str]:
    return ["--target", "va:0.6,0.4", "--fitness", "mood", "--genome", "pixels",
            "--iterations", str(iterations), "--out", str(out), *FAST, *extra]


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


def test_emotions_layout_offers_each_image_to_every_emotion(tmp_path) -> None:
    target = parse_target("emotions")
    layout = choose_layout("auto", target)
    genome = CppnGenome(16)
    fitness = Fitness(target, "mood")
    state = new_state({}, genome, layout, 8, 0, load_settings()["emitters"]["cppn"])
    evolve(state, 1, genome, fitness, layout, tmp_path, progress=False)
    assert state.archive.stats.coverage == 1.0  # 8 images, 7 cells: all filled at once
    config = EvolveConfig(target, "cppn", 16, "emotions", "mood", "moodshift", 8, 0)
    result = write_outputs(tmp_path, state, config, layout, genome, None, None, "none")
    assert sorted(result["best"]) == sorted(EMOTIONS)
    for emotion in EMOTIONS:
        assert read_metadata(tmp_path / "elites" / f"{emotion}.png")["emotion"] == emotion


class StandInGenerator:
    """A tiny conditional 'GAN': colour from the emotion, pattern from the latent vector."""

    latent_dim = 6
    image_size = 24

    def sample_latent(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(size=(n, self.latent_dim)).astype(np.float32)

    def generate(self, z: np.ndarray, emotion: str, age_group=None, gender=None) -> np.ndarray:
        assert z.dtype == np.float32 and z.shape[1] == self.latent_dim
        base = np.array([40 + 30 * EMOTIONS.index(emotion), 120, 200], np.float32)
        ramp = np.linspace(-1, 1, self.image_size, dtype=np.float32)
        pattern = np.tanh(z[:, :1, None] * ramp[None, :, None] + z[:, 1:2, None])
        img = base + 55 * pattern[..., None] * np.tanh(z[:, None, None, 2:5])
        img = np.broadcast_to(img, (len(z), self.image_size, self.image_size, 3))
        return np.clip(img, 0, 255).astype(np.uint8)


def test_gan_latent_genome_with_stand_in_generator(tmp_path) -> None:
    target = parse_target("va:0.8,0.5")
    layout = choose_layout("auto", target)
    genome = GanLatentGenome(StandInGenerator(), 16, target.nearest_emotion())
    assert genome.solution_dim == 6 and genome.render(np.zeros((2, 6))).shape == (2, 16, 16, 3)
    fitness = Fitness(target, "mood", need_mood=True)
    # The shipped CMA-ME emitter is exercised in test_cma_me_emitter (numba compiles it, which
    # takes long); a Gaussian emitter checks the genome here.
    state = new_state({}, genome, layout, 8, 1, [{"type": "gaussian", "sigma": 0.3}])
    evolve(state, 8, genome, fitness, layout, tmp_path, progress=False)
    # strictly better: the archive's best can never fall, so >= would prove nothing
    assert state.evaluations == 64 and state.history[-1][4] > state.initial_best
    both = GanLatentGenome(StandInGenerator(), 16, None)  # emotions target: + condition gene
    assert both.solution_dim == 7
    assert both.conditions(np.array([[0] * 6 + [-3.0], [0] * 6 + [3.0]])) == ["angry", "neutral"]


CMA_ME_SCRIPT = """
import numpy as np
from moodshift.evolve.genomes import CppnGenome
from moodshift.evolve.fitness import Fitness
from moodshift.evolve.layouts import choose_layout
from moodshift.evolve.run import evolve, new_state
from moodshift.evolve.settings import load_settings
from moodshift.evolve.targets import parse_target
import sys
target = parse_target("emotion:happy")
layout = choose_layout("auto", target)
genome = CppnGenome(16, width=4, layers=1)
specs = load_settings()["emitters"]["gan-latent"]
assert specs[0]["type"] == "cma_me"
state = new_state({}, genome, layout, 6, 0, specs)
evolve(state, 5, genome, Fitness(target, "mood", need_detail=True), layout,
       __import__("pathlib").Path(sys.argv[1]), progress=False)
print(state.evaluations, state.initial_best, state.history[-1][4])
"""


def test_cma_me_emitter(tmp_path) -> None:
    import subprocess
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")  # plain Python: no minute-long compile
    proc = subprocess.run([sys.executable, "-c", CMA_ME_SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    evaluations, first, last = proc.stdout.split()
    assert int(evaluations) == 30 and float(last) > float(first)


def test_gan_latent_without_a_gan_says_how_to_get_one(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "moodshift.generate.gan", None)  # import fails
    code, _, err = run_cli(capsys, "--target", "emotion:sad", "--genome", "gan-latent",
                           "--fitness", "mood", "--iterations", "2", "--out",
                           str(tmp_path / "run"), *FAST)
    assert code == 2 and "no conditional GAN installed" in err and "train gan" in err
    assert not (tmp_path / "run").exists()


def test_ctrl_c_saves_a_checkpoint_after_the_current_iteration(tmp_path) -> None:
    target = parse_target("va:0,0")
    layout = choose_layout("va", target)
    genome = PixelGenome(16)
    state = new_state({"x": 1}, genome, layout, 4, 0, load_settings()["emitters"]["pixels"])

    def press_ctrl_c(s) -> None:
        if s.iterations == 2:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        evolve(state, 50, genome, Fitness(target, "mood", need_mood=True), layout, tmp_path,
               progress=False, on_iteration=press_ctrl_c)
    from moodshift.evolve.run import open_run
    saved = open_run(tmp_path, {"x": 1}, resume=True)
    assert saved is not None and saved.iterations in (2, 3)
    assert saved.evaluations == 4 * saved.iterations


class FixedJudge:
    name = "stand-in"

    def predict(self, image, boxes):
        p = np.full((len(boxes), 7), 0.05)
        p[:, EMOTIONS.index("sad")] = 0.7
        return p


def test_judge_agreement_and_refusing_the_fitness_model() -> None:
    images = np.zeros((3, 8, 8, 3), np.uint8)
    report = judge_agreement(FixedJudge(), "stand-in", images, ["sad", "sad", "happy"])
    assert report["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["per_emotion"]["happy"]["agreement"] == 0.0
    assert report["top_elites"] == 3 and report["top_mean_probability"] == pytest.approx(
        (0.7 + 0.7 + 0.05) / 3, abs=1e-3)
    with pytest.raises(UserError, match="different model"):
        load_judge("fer", "expression", "fer")


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


def test_resume_refuses_another_gan(tmp_path) -> None:
    target = parse_target("emotion:sad")
    first = EvolveConfig(target, "gan-latent", 16, "prob-detail", "expression", "moodshift", 8,
                         0, gan="a.safetensors")
    other = EvolveConfig(target, "gan-latent", 16, "prob-detail", "expression", "moodshift", 8,
                         0, gan="b.safetensors")
    assert first.fingerprint() != other.fingerprint()


def test_resume_with_fewer_iterations_only_rewrites_outputs(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *mood_run(out, 3))[0] == 0
    code, stdout, err = run_cli(capsys, *mood_run(out, 2, "--resume", "--json"))
    assert code == 0 and json.loads(stdout)["iterations"] == 3
    assert "already ran 3 iterations" in err


def test_image_grid_places_tiles_and_empty_cells() -> None:
    from moodshift.sheets import EMPTY_GREY, image_grid

    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    grid = np.asarray(image_grid([[red, None], [None, red]], 10))
    assert grid.shape == (2 * 12 + 2, 2 * 12 + 2, 3)   # 10 px tiles, 2 px gaps
    assert grid[7, 7].tolist() == [255, 0, 0] and grid[7, 19].tolist() == [EMPTY_GREY] * 3
    assert grid[19, 19].tolist() == [255, 0, 0] and grid[19, 7].tolist() == [EMPTY_GREY] * 3
