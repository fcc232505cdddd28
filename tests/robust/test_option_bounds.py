"""Seeds, evolve batch and iteration bounds: one-line refusals with the estimate, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moodshift.cli import main
from moodshift.errors import UserError
from moodshift.evolve.bounds import MAX_ITERATIONS, check_batch, check_iterations
from moodshift.seeds import SEED_MAX, check_seed


@pytest.mark.parametrize("seed", [-1, SEED_MAX + 1, 2**64, 1.5, "3", True])
def test_bad_seeds_are_user_errors(seed) -> None:
    with pytest.raises(UserError, match="must be a whole number from 0 to 4294967295"):
        check_seed(seed)


def test_generate_negative_seed_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "moodshift", "generate", "--emotion", "happy",
                           "--seed", "-1", "-o", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == ("moodshift: error: --seed -1: must be a whole number from 0 to "
                           "4294967295\n")
    assert list(tmp_path.iterdir()) == []


def test_portrait_request_checks_its_seed() -> None:
    from moodshift.generate.portraits import PortraitRequest

    with pytest.raises(UserError, match="seed -3"):
        PortraitRequest(emotion="happy", seed=-3).check()
    PortraitRequest(emotion="happy", seed=SEED_MAX).check()


@pytest.mark.parametrize("argv, words", [
    (["--batch", "1000000000"], ["--batch 1000000000", "TiB"]),
    (["--iterations", str(10**12)], ["--iterations 1000000000000", "years"]),
    (["--batch", "20000", "--size", "512"], ["GiB of memory", "this machine has"]),
    (["--iterations", "9000000", "--batch", "4096", "--size", "64"], ["would take at least"]),
    (["--seed", "-1"], ["--seed -1"]),
])
def test_absurd_evolve_runs_are_refused_with_the_estimate(capsys, tmp_path: Path, argv,
                                                          words) -> None:
    code = main(["evolve", "--target", "emotions", "--iterations", "10",
                 "--out", str(tmp_path / "run"), *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    for word in words:
        assert word in err
    assert not (tmp_path / "run").exists()


def test_reasonable_runs_pass_the_bounds() -> None:
    check_batch(64, 64, "cppn")
    check_batch(512, 128, "pixels")
    check_iterations(100_000, 64, 64)
    check_iterations(MAX_ITERATIONS, 16, 16)
    with pytest.raises(UserError):
        check_iterations(MAX_ITERATIONS + 1, 1, 16)


def test_a_stylegan_search_is_bounded_by_its_own_speed() -> None:
    # each image is a rendered 1024 px face: what passes for the cppn genome is years for it
    check_iterations(2_000_000, 64, 64, "cppn")
    with pytest.raises(UserError, match="would take at least 148 days"):
        check_iterations(2_000_000, 64, 64, "stylegan")
    check_iterations(1000, 8, 64, "stylegan")  # a real search passes


def test_evolve_request_checks_batch_and_seed(tmp_path: Path) -> None:
    from moodshift.evolve.request import EvolveRequest

    with pytest.raises(UserError, match="--batch"):
        EvolveRequest("emotions", 10, tmp_path, batch=10**9).check()
    with pytest.raises(UserError, match="--seed"):
        EvolveRequest("emotions", 10, tmp_path, seed=-1).check()
    EvolveRequest("emotions", 10, tmp_path).check()


def test_evolve_help_documents_the_bounds(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["evolve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "30 days" in text and "10,000,000 iterations" in text and "0..4294967295" in text
