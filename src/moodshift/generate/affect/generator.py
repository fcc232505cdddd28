"""Run a trained affect generator: noise + target (emotion or VAD) in, RGB images out.

A model is the pair ``affect.safetensors`` (weights) + ``affect.json`` (kind, sizes, training
command) written by ``moodshift train affect-generator``; ``load_affect_generator`` takes that
folder, the .safetensors file, a ``checkpoint.pt`` of an unfinished run, or nothing for the model
shipped in ``moodshift/data/models/affect/`` (sha256-checked against ``SHIPPED_SHA256``).

Targets: an emotion name (or synonym) for both kinds; a vad model maps it through
moodshift.emotions.EMOTION_VAD and also accepts ``"valence,arousal,dominance"`` in [-1, 1].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from moodshift.emotions import EMOTION_VAD, EMOTIONS, canonical_emotion
from moodshift.errors import ModelMissingError, UserError
from moodshift.generate.affect.nets import KINDS, AffectGeneratorNet
from moodshift.models.shipped import MODELS_DATA, shipped_file
from moodshift.training.checkpoint import first_line, load_checkpoint

WEIGHTS_NAME = "affect.safetensors"
SHIPPED_DIR = MODELS_DATA / "affect"
# kind -> sha256 of the shipped weights (SHIPPED_DIR/<kind>.safetensors; models/shipped.py).
SHIPPED_SHA256: dict[str, str] = {kind: shipped_file(f"moodshift-affect-{kind}").sha256
                                  for kind in KINDS}
TRAIN_HINT = "train one with `moodshift train affect-generator --target emotion --out MODEL`"


def condition_for(kind: str, target: str) -> np.ndarray:
    """The network's condition vector for a target string (see the module docstring)."""
    emotion = canonical_emotion(target)
    if kind == "emotion":
        if emotion is None:
            raise UserError(f"unknown emotion {target!r} for an emotion generator: choose one of "
                            f"{', '.join(EMOTIONS)}")
        vec = np.zeros(len(EMOTIONS), dtype=np.float32)
        vec[EMOTIONS.index(emotion)] = 1.0
        return vec
    if emotion is not None:
        return np.array(EMOTION_VAD[emotion].as_tuple(), dtype=np.float32)
    try:
        values = [float(v) for v in target.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or not all(-1.0 <= v <= 1.0 for v in values):
        raise UserError(f"target {target!r}: give an emotion ({', '.join(EMOTIONS)}) or "
                        "'valence,arousal,dominance' with each value in [-1, 1]")
    return np.array(values, dtype=np.float32)


@dataclass
class AffectGenerator:
    """A loaded generator; ``generate`` is deterministic for a given seed."""

    net: AffectGeneratorNet
    config: dict[str, object]
    source: str

    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def image_size(self) -> int:
        return self.net.image_size

    def noise(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, self.net.z_dim, generator=torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def generate_tensor(self, target: str, n: int, seed: int = 0) -> torch.Tensor:
        """(n, 3, S, S) float in 0..1."""
        if n < 1:
            raise UserError(f"number of images must be at least 1, not {n}")
        cond = torch.from_numpy(condition_for(self.kind, target)).expand(n, -1)
        return self.net(self.noise(n, seed), cond)

    def generate(self, target: str, n: int, seed: int = 0) -> np.ndarray:
        """uint8 (n, S, S, 3) RGB images for ``target``."""
        x = self.generate_tensor(target, n, seed)
        return (x.permute(0, 2, 3, 1) * 255.0).round().clamp(0, 255).to(torch.uint8).numpy()


def build_net(config: dict[str, object]) -> AffectGeneratorNet:
    if config.get("kind") not in KINDS:
        raise UserError(f"affect model config has kind {config.get('kind')!r}, not one of "
                        f"{', '.join(KINDS)}")
    return AffectGeneratorNet(kind=str(config["kind"]), z_dim=int(config["z_dim"]),
                              width=int(config["width"]), image_size=int(config["image_size"]),
                              channels=int(config.get("channels", 3)))


def from_state(state: dict[str, torch.Tensor], config: dict[str, object],
               source: str) -> AffectGenerator:
    net = build_net(config)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"{source}: weights do not fit the affect generator ({first})") from None
    return AffectGenerator(net.eval(), config, source)


def _read_config(weights: Path) -> dict[str, object]:
    cfg = weights.with_suffix(".json")
    if not cfg.is_file():
        raise UserError(f"{weights}: no {cfg.name} beside the weights")
    try:
        return json.loads(cfg.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{cfg}: unreadable affect model config ({exc})") from None


def load_shipped(kind: str = "emotion") -> AffectGenerator:
    from moodshift.models.store import load_verified_file

    path = SHIPPED_DIR / f"{kind}.safetensors"
    if kind not in SHIPPED_SHA256 or not path.exists():
        raise ModelMissingError(f"no shipped {kind} affect generator in this installation: "
                                + TRAIN_HINT.replace("emotion", kind))
    arrays = load_verified_file(path, SHIPPED_SHA256[kind])
    state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}
    return from_state(state, _read_config(path), str(path))


def load_affect_generator(path: Path | str | None = None, kind: str = "emotion"
                          ) -> AffectGenerator:
    """A trained affect generator (see the module docstring); None = the shipped ``kind``."""
    if path is None:
        return load_shipped(kind)
    p = Path(path).expanduser()
    if p.is_dir():
        if (p / WEIGHTS_NAME).is_file():
            p = p / WEIGHTS_NAME
        elif (p / "checkpoint.pt").is_file():
            p = p / "checkpoint.pt"
        else:
            raise UserError(f"{path}: no {WEIGHTS_NAME} or checkpoint.pt in this folder ("
                            + TRAIN_HINT + ")")
    if not p.is_file():
        raise UserError(f"{path}: no such affect generator ({TRAIN_HINT})")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(p))
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise UserError(f"{p}: not a readable safetensors file ({first_line(exc)})") from None
        return from_state(state, _read_config(p), str(p))
    ckpt = load_checkpoint(p, "an affect-generator checkpoint", ("generator", "config"))
    return from_state(ckpt["generator"], ckpt["config"], str(p))
