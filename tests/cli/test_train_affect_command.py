"""`moodshift train affect-generator` from the command line: bad values refused, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import portrait_like

from moodshift.cli import main
from moodshift.generate.affect.train import AffectTrainConfig


def _tiny(kind: str, out: Path, **kw: object) -> AffectTrainConfig:
    base = dict(kind=kind, out=str(out), steps=40, batch=4, lr=3e-3, z_dim=8, width=8,
                image_size=16, eval_samples=4, log_every=5, checkpoint_every=20,
                progress=False, judges=[])
    base.update(kw)
    return AffectTrainConfig(**base)  # type: ignore[arg-type]


def _judge():
    """An expression model for the report: the shipped msnet (always in the package)."""
    from moodshift.expression.own import MoodshiftExpression

    return {"msnet": MoodshiftExpression.shipped(precision="fp32")}


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:40, 0:56]
    grad = np.stack([xx * 4, yy * 6, 255 - xx * 4], axis=-1).clip(0, 255).astype(np.uint8)
    return [portrait_like(96, 120), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), grad,
            np.full((24, 24, 3), 128, np.uint8), np.full((20, 20, 3), (30, 160, 60), np.uint8)]


def _first_last(history: list[dict], key: str, k: int = 2) -> tuple[float, float]:
    return (float(np.mean([h[key] for h in history[:k]])),
            float(np.mean([h[key] for h in history[-k:]])))


def test_cli_rejects_bad_values_without_outputs(capsys, tmp_path: Path) -> None:
    out = tmp_path / "never"
    code = main(["train", "affect-generator", "--target", "emotion", "--out", str(out),
                 "--steps", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "--steps" in err and err.count("\n") == 1
    code = main(["train", "affect-generator", "--target", "vad", "--out", str(out),
                 "--resume", str(tmp_path / "nope.pt")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.pt" in err
    assert not out.exists()
