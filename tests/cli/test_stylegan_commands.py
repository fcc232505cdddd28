"""`moodshift generate --generator stylegan`, `eval gan --generator stylegan`: one-line
refusals naming the valid values, and the `models pull` hint when the generator is missing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from probes import stylegan_pulled

from moodshift.cli import main
from moodshift.generate.stylegan import directions as dirs
from moodshift.generate.stylegan.directions import ATTRIBUTES, Directions


def _toy_directions() -> Directions:
    rng = np.random.default_rng(0)
    normals = np.linalg.qr(rng.standard_normal((512, len(ATTRIBUTES))))[0].T
    return Directions(mean=np.zeros(512), normals=normals, raw_normals=normals,
                      offsets=np.zeros(len(ATTRIBUTES)), targets=np.ones(len(ATTRIBUTES)),
                      age_slope=10.0, age_intercept=30.0, male_targets=(-2.0, 2.0),
                      info={"spreads": [1.0] * len(ATTRIBUTES)})


def test_missing_generator_is_a_one_line_pull_hint(tmp_path: Path, monkeypatch,
                                                    capsys) -> None:
    from moodshift.generate.stylegan.generator import load_style_generator

    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path / "empty"))
    load_style_generator.cache_clear()
    monkeypatch.setattr(dirs, "load_directions", lambda path=None: _toy_directions())
    out = tmp_path / "face.png"
    try:
        code = main(["generate", "--emotion", "happy", "--no-style", "-o", str(out)])
    finally:
        load_style_generator.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and "moodshift models pull" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_generate_stylegan_refuses_bad_values_with_the_valid_ones(tmp_path: Path,
                                                                  capsys) -> None:
    out = tmp_path / "x.png"
    cases = [
        (["--emotions", "happy,grumpy"], "angry, disgust, fear, happy, sad, surprise, neutral"),
        (["--emotion", "happy", "--age", "ancient"], "child, teen, young_adult"),
        (["--emotion", "happy", "--gender", "robot"], "female, male"),
        (["--emotion", "happy", "--n", "1000"], "between 1 and 100"),
        (["--emotion", "happy", "--size", "2048"], "draws 64..1024 px"),
        (["--emotion", "happy", "--same-person"], "--same-person goes with --emotions"),
        (["--emotion", "happy", "--strength", "2"], "--strength 2.0: must be between 0 and 1"),
        (["--emotion", "happy", "--generator", "cgan", "--emotions", "all"],
         "need --generator stylegan"),
        (["--emotion", "happy", "--generator", "cgan", "--no-expression-edit"],
         "need --generator stylegan"),
        (["--emotion", "happy", "--generator", "cgan", "--candidates", "2"],
         "need --generator stylegan"),
        (["--emotion", "happy", "--candidates", "0"], "--candidates 0: must be between 1 and 8"),
        (["--emotion", "happy", "--generator", "cgan", "--more-candidates", "1"],
         "need --generator stylegan"),
        (["--emotion", "happy", "--more-candidates", "9"],
         "--more-candidates 9: must be between 0 and 8"),
        (["--generator", "stylegan"], "--emotions"),
    ]
    for extra, expected in cases:
        code = main(["generate", "-o", str(out)] + extra)
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (extra, err)
        assert err.count("\n") == 1
    assert not out.exists()
    assert main(["eval", "gan", "--generator", "stylegan", "--n", "14", "--identities", "1"]) == 2
    assert "--identities 1" in capsys.readouterr().err
    assert main(["eval", "gan", "--generator", "cgan", "--more-candidates", "2"]) == 2
    assert "are for --generator stylegan" in capsys.readouterr().err
    assert main(["eval", "gan", "--generator", "cgan", "--styled"]) == 2
    assert "--styled and --log are for --generator stylegan" in capsys.readouterr().err
    for seed, expected in (("-1", "--seed -1: must be a whole number from 0"),
                           ("4294967290", "--seed 4294967290: must be at most")):
        assert main(["eval", "gan", "--generator", "stylegan", "--n", "14", "--seed", seed]) == 2
        assert expected in capsys.readouterr().err


def test_train_directions_refuses_a_directions_file_without_recalibrate(tmp_path: Path,
                                                                        capsys) -> None:
    out = tmp_path / "dirs"
    code = main(["train", "directions", "--out", str(out), "--directions", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "only with --recalibrate" in err and err.count("\n") == 1, err
    code = main(["train", "directions", "--out", str(out), "--recalibrate", "gender",
                 "--directions", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 2 and "no directions file here" in err and err.count("\n") == 1, err
    assert not (out / "directions.safetensors").exists()


@pytest.mark.models
@pytest.mark.skipif(not stylegan_pulled(), reason="the StyleGAN generator is not pulled")
def test_eval_gan_resumes_from_its_log_with_the_same_figures(tmp_path: Path, capsys) -> None:
    """An interrupted `eval gan --log` (here: its log cut after a few portraits, the last
    record half-written) resumes and reports what an uninterrupted run reports."""
    log = tmp_path / "eval.jsonl"
    argv = ["eval", "gan", "--generator", "stylegan", "--n", "14", "--identities", "0",
            "--candidates", "1", "--json", "--log", str(log)]
    assert main(argv) == 0
    whole = json.loads(capsys.readouterr().out)
    lines = log.read_text().splitlines()
    assert len(lines) == 15          # the settings, then one line per portrait
    log.write_text("\n".join(lines[:6]) + "\n" + lines[6][:40])
    assert main(argv) == 0
    resumed = json.loads(capsys.readouterr().out)
    timing = ("seconds_per_portrait_1024", "peak_memory_mb")
    assert {k: v for k, v in resumed.items() if k not in timing} == \
        {k: v for k, v in whole.items() if k not in timing}
    assert main(argv[:-3] + ["--seed", "5", "--json", "--log", str(log)]) == 2
    assert "other settings (seed)" in capsys.readouterr().err
