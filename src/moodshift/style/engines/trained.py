"""The ``trained`` engine: run style networks made by ``moodshift train style`` (Johnson et al.).

Which network styles an emotion, in order: ``options["model"]`` (``stylize --model``), the
palette entry's ``model`` key, the model shipped with moodshift for that emotion
(``data/models/style/``, sha256 checked on load), else a UserError naming the emotions that
have one. For an emotion blend every emotion's network runs and the outputs are averaged with
the blend's weights (stylize_image then applies strength, colour preservation and the grade).

The networks run in ONNX Runtime (no torch import) at the image's own resolution; they are fully
convolutional. Inputs are reflect-padded to a multiple of 4; above MAX_FULL_PIXELS the image is
processed in overlapping, feathered tiles (style/engines/fast.py's tiler), and ``options["size"]`` caps
the longer side the network sees (faster, softer; the result is scaled back up).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError, ModelMissingError, UserError
from moodshift.models.shipped import MODELS_DATA
from moodshift.models.shipped import SHIPPED as SHIPPED_MODELS

SHIPPED_DIR = MODELS_DATA / "style"
# Shipped models per emotion: file in SHIPPED_DIR and its sha256 (models/shipped.py).
SHIPPED: dict[str, tuple[str, str]] = {
    name.removeprefix("moodshift-style-"): (m.files[0].path.name, m.files[0].sha256)
    for name, m in SHIPPED_MODELS.items() if name.startswith("moodshift-style-")}
MODEL_KIND = "moodshift-johnson-style"     # == train_report.MODEL_KIND (no torch import here)
# ~200 B/pixel peak for a width-32 network: 2048² stays near 1 GB; larger images are tiled.
MAX_FULL_PIXELS = 2048 * 2048
TILE = 1024


@dataclass(frozen=True)
class TrainedModel:
    """A loaded style network and what its file says about itself."""

    path: Path
    metadata: Mapping[str, str]

    def run(self, x: np.ndarray) -> np.ndarray:
        """float32 HxWx3 in 0..1 (H, W multiples of 4) -> the stylised HxWx3."""
        from moodshift.models.runtime import OnnxNet

        net = OnnxNet(self.path)
        return net(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))[0][0].transpose(1, 2, 0)


def shipped_model(emotion: str) -> Path | None:
    """The shipped network for an emotion (checksum verified), or None if none ships."""
    if emotion not in SHIPPED:
        return None
    name, expected = SHIPPED[emotion]
    path = SHIPPED_DIR / name
    if not path.is_file():
        raise ModelMissingError(f"{path}: shipped style model is missing from the installation")
    from moodshift.models.runtime import verified_once

    stat = path.stat()
    if not verified_once(str(path), stat.st_size, stat.st_mtime_ns, expected):
        raise UserError(f"{path}: checksum mismatch (expected {expected[:12]}…); "
                        "reinstall moodshift")
    return path


def shipped_emotions() -> list[str]:
    return [e for e in EMOTIONS if e in SHIPPED]


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> TrainedModel:
    try:
        from moodshift.models.runtime import OnnxNet

        net = OnnxNet(path)
    except Exception as exc:   # onnxruntime raises its own exception types for bad files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(path, f"not a readable ONNX model ({reason[:200]})") from None
    meta = dict(net.session.get_modelmeta().custom_metadata_map)
    if meta.get("kind") != MODEL_KIND:
        raise InputFileError(path, "not a style model made by `moodshift train style`")
    inputs = net.session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise InputFileError(path, "style model must take one NCHW image input")
    return TrainedModel(Path(path), meta)


def load_model(path: str | Path) -> TrainedModel:
    """A trained style network from an ONNX file (cached per process and file version)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(p, "no such style model file")
    if p.is_dir():
        raise InputFileError(p, "is a folder; expected a .onnx style model")
    if p.stat().st_size == 0:
        raise InputFileError(p, "empty file (0 bytes)")
    resolved = p.resolve()
    return _load(str(resolved), resolved.stat().st_mtime_ns)


def model_path_for(emotion: str, entry: object, options: Mapping[str, object]) -> Path | None:
    """--model, else the palette entry's model, else the shipped one (None: nothing)."""
    if options.get("model") is not None:
        return Path(str(options["model"]))
    own = getattr(entry, "model", None)
    if own:
        path = Path(str(own))
        for shipped_emotion, (name, _) in SHIPPED.items():   # the palette names a shipped file:
            if path.resolve() == (SHIPPED_DIR / name).resolve():   # check its sha256 as well
                return shipped_model(shipped_emotion)
        return path
    return shipped_model(emotion)


def stylize_trained(image: np.ndarray, mix: Mapping[str, float], entries: Mapping[str, object],
                    options: Mapping[str, object]) -> np.ndarray:
    """Stylise an RGB uint8 image with the trained networks of an emotion mix (same size)."""
    from moodshift.style.engines.fast import run_tiled

    paths = {e: model_path_for(e, entries.get(e), options) for e in mix}
    missing = [e for e, p in paths.items() if p is None]
    if missing:
        have = shipped_emotions()
        raise UserError(
            f"no trained style model for {', '.join(missing)} (moodshift ships trained models "
            f"for: {', '.join(have) or 'none'}); pass --model MODEL, or train one with "
            f"`moodshift train style --emotion {missing[0]} --content DIR --out "
            f"{missing[0]}.onnx` and register it as `model = \"{missing[0]}.onnx\"` under "
            f"[{missing[0]}] in a palette TOML")
    size = options.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 16):
        raise UserError(f"--size {size}: must be a whole number of pixels, at least 16")
    models = {e: load_model(p) for e, p in paths.items() if p is not None}
    styled = {e: run_tiled(image, models[e].run, MAX_FULL_PIXELS, TILE,
                           int(size) if size is not None else None) for e in mix}
    if len(styled) == 1:
        return next(iter(styled.values()))
    out = np.empty_like(styled[next(iter(mix))])
    rows = max(1, 2_000_000 // max(1, out.shape[1]))  # bands: no full-size float copy
    for y in range(0, out.shape[0], rows):
        acc = sum(w * styled[e][y:y + rows].astype(np.float32) for e, w in mix.items())
        out[y:y + rows] = np.clip(acc + 0.5, 0, 255).astype(np.uint8)
    return out
