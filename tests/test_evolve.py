"""`moodshift evolve`: MAP-Elites runs on tiny images, outputs, resume and bad input."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

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


@pytest.mark.slow
def test_cma_me_emitter(tmp_path) -> None:
    import subprocess
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")  # plain Python: no minute-long compile
    proc = subprocess.run([sys.executable, "-c", CMA_ME_SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    evaluations, first, last = proc.stdout.split()
    assert int(evaluations) == 30 and float(last) > float(first)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_saves_a_checkpoint_after_the_current_iteration(tmp_path, signum) -> None:
    """Ctrl-C, and SIGTERM (`kill`), which before stopped the run where it stood and lost the
    iterations since the last periodic checkpoint."""
    target = parse_target("va:0,0")
    layout = choose_layout("va", target)
    genome = PixelGenome(16)
    state = new_state({"x": 1}, genome, layout, 4, 0, load_settings()["emitters"]["pixels"])

    def interrupt(*_: object) -> None:  # stands for the command line's SIGTERM handler
        raise KeyboardInterrupt

    interrupt.raises_keyboard_interrupt = True  # the mark evolve looks for
    previous = signal.signal(signal.SIGTERM, interrupt)

    def press_ctrl_c(s) -> None:
        if s.iterations == 2:
            os.kill(os.getpid(), signum)

    try:
        with pytest.raises(KeyboardInterrupt):
            evolve(state, 50, genome, Fitness(target, "mood", need_mood=True), layout, tmp_path,
                   progress=False, on_iteration=press_ctrl_c)
    finally:
        signal.signal(signal.SIGTERM, previous)
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


def test_resume_refuses_another_gan(tmp_path) -> None:
    target = parse_target("emotion:sad")
    first = EvolveConfig(target, "gan-latent", 16, "prob-detail", "expression", "moodshift", 8,
                         0, gan="a.safetensors")
    other = EvolveConfig(target, "gan-latent", 16, "prob-detail", "expression", "moodshift", 8,
                         0, gan="b.safetensors")
    assert first.fingerprint() != other.fingerprint()
