"""The trained conditional face generator at run time.

``load_generator()`` returns the generator shipped in ``moodshift/data/models/gan/`` (its sha256
is checked against SHIPPED_SHA256), ``load_generator(path)`` one from ``moodshift train gan``
(the output folder or its ``generator.safetensors``). ``ConditionalGenerator.generate`` makes
faces at the native size (48x48 grey, returned as RGB uint8); ``upscale`` enlarges them for
output with Lanczos resampling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS, parse_emotion
from moodshift.errors import ModelMissingError, UserError
from moodshift.models.shipped import shipped_file
from moodshift.people import AGE_GROUPS, GENDERS, parse_age_group, parse_gender
from moodshift.seeds import check_seed

_SHIPPED = shipped_file("moodshift-gan")    # generator.safetensors and its sha256
SHIPPED_DIR = _SHIPPED.path.parent
SHIPPED_NAME = _SHIPPED.path.name
SHIPPED_SHA256 = _SHIPPED.sha256


def check_truncation(value: float) -> None:
    """Latent codes are scaled by the truncation: 0 (the mean face) .. 1 (no truncation)."""
    if not 0.0 <= value <= 1.0:
        raise UserError(f"--truncation {value}: must be between 0 and 1")

@dataclass
class ConditionalGenerator:
    """Faces for an emotion, age group and gender from latent codes z (n, latent_dim)."""

    model: object            # gan_nets.Generator in eval mode
    config: dict[str, object]
    source: str

    @property
    def latent_dim(self) -> int:
        return int(self.config["latent_dim"])

    @property
    def image_size(self) -> int:
        return int(self.config["image_size"])

    def sample_latent(self, n: int, seed: int | None = None,
                      truncation: float = 1.0) -> np.ndarray:
        """n standard-normal latent codes (float32), reproducible for a given seed.

        truncation < 1 pulls the codes towards the mean code (z * truncation, the "truncation
        trick" of BigGAN / StyleGAN): less varied faces whose requested expression is read
        more often (see MODEL_CARD.md)."""
        if seed is not None:
            check_seed(seed)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return (z * truncation).astype(np.float32)

    def generate(self, z: np.ndarray, emotion: str, age_group: str | None = None,
                 gender: str | None = None, batch: int = 256) -> np.ndarray:
        """uint8 (n, S, S, 3) grey faces at the native size (no upscaling). age_group / gender
        None mean "unspecified" (a trained input: the generator picks what fits the code)."""
        import torch

        from moodshift.generate.gan.nets import condition_vector

        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise UserError(f"latent codes must have shape (n, {self.latent_dim}), got {z.shape}")
        e = EMOTIONS.index(parse_emotion(emotion))
        a = parse_age_group(age_group)
        g = parse_gender(gender)
        a_i = -1 if a is None else AGE_GROUPS.index(a)
        g_i = -1 if g is None else GENDERS.index(g)
        outs = []
        with torch.inference_mode():
            for i in range(0, len(z), batch):
                zz = torch.from_numpy(z[i:i + batch])
                n = len(zz)
                cond = condition_vector(torch.full((n,), e), torch.full((n,), a_i),
                                        torch.full((n,), g_i))
                x = self.model(zz, cond)[:, 0]
                outs.append(((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy())
        grey = np.concatenate(outs) if outs else np.zeros((0, self.image_size, self.image_size),
                                                           np.uint8)
        return np.repeat(grey[..., None], 3, axis=3)


def upscale(face: np.ndarray, size: int) -> np.ndarray:
    """An (S, S, 3) uint8 face enlarged to size x size with Lanczos resampling."""
    from PIL import Image

    if face.shape[0] == size:
        return face
    return np.asarray(Image.fromarray(face).resize((size, size), Image.Resampling.LANCZOS))


def _read_config(weights: Path) -> dict[str, object]:
    cfg = weights.with_suffix(".json")
    if not cfg.is_file():
        raise UserError(f"{weights}: the generator config {cfg.name} is missing beside it")
    try:
        return json.loads(cfg.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{cfg}: unreadable generator config ({exc})") from None


def load_generator(path: Path | str | None = None) -> ConditionalGenerator:
    """The shipped generator (None; checksum verified, loaded once per process) or a
    `moodshift train gan` output (read on every call: it may be retrained meanwhile)."""
    if path is None:
        return _shipped_generator(SHIPPED_DIR / SHIPPED_NAME, SHIPPED_SHA256)
    return _read_generator(path)


@lru_cache(maxsize=1)
def _shipped_generator(weights: Path, sha256: str) -> ConditionalGenerator:
    # keyed by file and checksum, so a server warms it once and tests may point elsewhere
    return _read_generator(None)


def _read_generator(path: Path | str | None) -> ConditionalGenerator:
    import torch

    from moodshift.generate.gan.nets import Generator
    from moodshift.models.store import load_verified_file
    from moodshift.training.checkpoint import first_line, first_problem

    if path is None:
        weights = SHIPPED_DIR / SHIPPED_NAME
        if not SHIPPED_SHA256 or not weights.exists():
            raise ModelMissingError(f"{weights}: the shipped GAN generator is missing from this "
                                    "installation (train one with `moodshift train gan`)")
        arrays = load_verified_file(weights, SHIPPED_SHA256)
    else:
        weights = Path(path).expanduser()
        if weights.is_dir():
            weights = weights / SHIPPED_NAME
        if not weights.exists() and not Path(path).expanduser().is_dir():
            raise UserError(f"{path}: no such generator file")
        if not weights.is_file():
            raise UserError(f"{path}: no generator.safetensors here (train one with "
                            "`moodshift train gan --out FOLDER`)")
        from safetensors.numpy import load_file
        try:
            arrays = load_file(str(weights))
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise UserError(f"{weights}: not a readable safetensors file "
                            f"({first_line(exc)})") from None
    config = _read_config(weights)
    try:
        model = Generator(int(config["latent_dim"]), int(config["width"]),
                          int(config["image_size"]))
        missing, unexpected = model.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=False)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise UserError(f"{weights}: weights do not fit the GAN generator "
                        f"({first_problem(exc)})") from None
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise UserError(f"{weights}: weights do not fit the GAN generator (missing "
                        f"{missing[:3]}, unexpected {unexpected[:3]})")
    return ConditionalGenerator(model.eval(), config, str(weights))
