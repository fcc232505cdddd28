"""MobileStyleGAN at run time: z -> style (mapping) -> 1024 px RGB face (synthesis), via OpenVINO.

The two OpenVINO IR networks come from ``moodshift models pull`` (see
moodshift.models.sources.stylegan; sha256 checked on load). One 512-d style vector drives every
layer. ``StyleGenerator.sample_styles`` maps standard-normal z and applies the truncation trick
(Karras et al. 2019): ``w = mean + psi * (w - mean)`` with ``mean`` the average style of
MEAN_SAMPLES mapped codes of a fixed seed, so faces stay typical and clean.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from moodshift.errors import UserError

STYLE_DIM = 512
NATIVE_SIZE = 1024
DEFAULT_PSI = 0.7
MEAN_SAMPLES = 2048
MEAN_SEED = 20210721


class StyleGenerator:
    """The mapping and synthesis networks, compiled once for the CPU."""

    def __init__(self, cache: Path | None = None, threads: int | None = None) -> None:
        import openvino as ov

        from moodshift.models.sources.stylegan import verified_files
        from moodshift.models.store import cache_dir

        files = verified_files(cache or cache_dir())
        core = ov.Core()
        # float32 on every CPU: OpenVINO otherwise picks bf16 where the CPU reports it, which
        # renders a seed's face a little differently there and, on an AVX512-BF16 Xeon without
        # AMX, at half the speed (synthesis 0.44 s bf16 vs 0.20 s f32; docs/stylegan.md)
        config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self.mapping = core.compile_model(core.read_model(files["MappingNetwork.xml"]), "CPU",
                                          config)
        self.synthesis = core.compile_model(core.read_model(files["SynthesisNetwork.xml"]),
                                            "CPU", config)
        self._mapping_req = self.mapping.create_infer_request()
        self._synthesis_req = self.synthesis.create_infer_request()
        self._mean: np.ndarray | None = None

    def map(self, z: np.ndarray) -> np.ndarray:
        """Styles (n, 512) for latent codes z (n, 512)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, STYLE_DIM)
        return np.stack([self._mapping_req.infer({0: z[i:i + 1]})[0][0].copy()
                         for i in range(len(z))]) if len(z) else np.zeros((0, STYLE_DIM),
                                                                         np.float32)

    @property
    def mean_style(self) -> np.ndarray:
        if self._mean is None:
            z = np.random.default_rng(MEAN_SEED).standard_normal((MEAN_SAMPLES, STYLE_DIM))
            self._mean = self.map(z).mean(0).astype(np.float32)
        return self._mean

    def truncate(self, styles: np.ndarray, psi: float) -> np.ndarray:
        return (self.mean_style + psi * (np.asarray(styles, np.float32) - self.mean_style)
                ).astype(np.float32)

    def sample_styles(self, n: int, seed: int | None, psi: float = DEFAULT_PSI) -> np.ndarray:
        """n truncated styles, reproducible for a seed."""
        if not 0.0 <= psi <= 1.0:
            raise UserError(f"truncation {psi}: must be between 0 and 1")
        z = np.random.default_rng(seed).standard_normal((n, STYLE_DIM))
        return self.truncate(self.map(z), psi)

    def render(self, styles: np.ndarray, size: int = NATIVE_SIZE) -> np.ndarray:
        """uint8 RGB faces (n, size, size, 3) for styles (n, 512)."""
        styles = np.asarray(styles, dtype=np.float32).reshape(-1, STYLE_DIM)
        out = np.empty((len(styles), size, size, 3), np.uint8)
        for i in range(len(styles)):
            img = self._synthesis_req.infer({0: styles[i:i + 1]})[0][0]
            out[i] = resize(to_uint8(img), size)
        return out


def to_uint8(chw: np.ndarray) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    return np.clip((np.transpose(chw, (1, 2, 0)) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def resize(img: np.ndarray, size: int) -> np.ndarray:
    if img.shape[0] == size:
        return img
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.LANCZOS))


# OpenVINO CPU threads of the process's generator (None: all); a batch worker sets its share.
THREADS: int | None = None


def load_style_generator(threads: int | None = None) -> StyleGenerator:
    """The cached generator, loaded once per process (ModelMissingError if not pulled)."""
    return _cached_generator(threads if threads is not None else THREADS)


@lru_cache(maxsize=2)
def _cached_generator(threads: int | None) -> StyleGenerator:
    return StyleGenerator(threads=threads)


load_style_generator.cache_clear = _cached_generator.cache_clear  # type: ignore[attr-defined]


def require_pulled(cache: Path | None = None) -> None:
    """ModelMissingError with the one-line `moodshift models pull` hint when any of the
    generator's files is absent from the cache (existence only: loading checks the sha256)."""
    from moodshift.errors import ModelMissingError
    from moodshift.models.sources.stylegan import FILES, PULL_HINT, model_folder
    from moodshift.models.store import cache_dir

    folder = model_folder(cache or cache_dir())
    if not all((folder / name).is_file() for name in FILES):
        raise ModelMissingError(PULL_HINT.format(folder=folder))
