"""What the human-rated mood model sees of an image: backbone features of a few square views,
averaged, plus the colour-affect statistics.

Views (all S x S, S the backbone's input size: 224 for EfficientNet-Lite0, 240 for Lite1, 260
for Lite2; sizes below are for 224 and scale with S):

* ``whole``: the whole picture squeezed to 224x224 (nothing cropped, aspect not kept);
* ``centre``: shorter side to 256, the centre 224x224 (ImageNet's usual framing);
* ``start`` / ``end``: shorter side to 224, the two 224x224 ends along the longer side;
* ``-flip`` suffix: the same view mirrored left-right.

Training extracts every view once (cached on disk); a model stores which views its heads were
fitted on, and inference computes exactly those, with the same code.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from moodshift.mood.colour import measure_mood_details

SIZE = 224
CENTRE_SHORT = 256
MAX_SCALED_SIDE = 4096   # longest side an image is scaled to before a crop view is cut
BASE_VIEWS = ("whole", "centre", "start", "end")
ALL_VIEWS = tuple(v for b in BASE_VIEWS for v in (b, f"{b}-flip"))
COLOUR_NAMES = ("colour_valence", "colour_arousal", "colour_dominance", "lightness", "chroma",
                "contrast", "colourfulness", "hue_pleasantness")
BACKBONE = "efficientnet-lite0"      # the backbone of heads that do not name one
TRAIN_BACKBONE = "efficientnet-lite1"   # what `train mood` fits heads to unless told otherwise
# input size of each backbone (as moodshift.mood.backbone.VARIANTS, which imports torch: this
# module must not, inference runs on ONNX Runtime alone)
INPUT_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}
BACKBONES = tuple(INPUT_SIZES)


def input_size(backbone: str) -> int:
    return INPUT_SIZES[backbone]


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    shrink = width * height < w * h
    return cv2.resize(np.ascontiguousarray(rgb), (width, height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = short / min(h, w)
    return _resize(rgb, max(short, round(w * scale)), max(short, round(h * scale)))


def _crop(rgb: np.ndarray, where: str, side: int = SIZE) -> np.ndarray:
    h, w = rgb.shape[:2]
    if where == "centre":
        top, left = (h - side) // 2, (w - side) // 2
    elif where == "start":
        top, left = 0, 0
    else:
        top, left = h - side, w - side
    return rgb[top:top + side, left:left + side]


def _crop_view(rgb: np.ndarray, short: int, where: str, size: int = SIZE) -> np.ndarray:
    """Shorter side to ``short``, then the ``size`` square at ``where``. A very elongated image
    (1 x 5000 px) would become huge when scaled whole, so past MAX_SCALED_SIDE the square is cut
    from the original first and then resized (same framing; the usual path above it is what the
    shipped heads were fitted on)."""
    h, w = rgb.shape[:2]
    if max(h, w) * short / min(h, w) <= MAX_SCALED_SIDE:
        return _crop(_short_side(rgb, short), where, size)
    side = max(1, round(min(h, w) * size / short))
    return _resize(np.ascontiguousarray(_crop(rgb, where, side)), size, size)


def halve_down_to(rgb: np.ndarray, short: int) -> np.ndarray:
    """Halve the image (2x2 box averages) while its shorter side stays at least ``short``.
    OpenCV's area resize is several times faster for an exact factor of 2 than for the
    fractional factor to a view (1024 -> 260 px: about 1 ms against 5), and the final fractional
    step then runs on a quarter of the pixels."""
    while min(rgb.shape[:2]) // 2 >= short:
        h, w = rgb.shape[:2]
        even = np.ascontiguousarray(rgb[:h - h % 2, :w - w % 2])
        rgb = cv2.resize(even, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return rgb


def make_views(rgb: np.ndarray, views: Sequence[str], size: int = SIZE) -> np.ndarray:
    """(len(views), size, size, 3) uint8 views of an RGB uint8 image (first halved while every
    view is still a reduction of it)."""
    made: dict[str, np.ndarray] = {}
    out = []
    rgb = halve_down_to(rgb, round(size * CENTRE_SHORT / SIZE))
    for view in views:
        base = view.removesuffix("-flip")
        if base not in BASE_VIEWS:
            raise ValueError(f"unknown view {view!r}; known: {', '.join(ALL_VIEWS)}")
        if base not in made:
            if base == "whole":
                made[base] = _resize(rgb, size, size)
            elif base == "centre":
                made[base] = _crop_view(rgb, round(size * CENTRE_SHORT / SIZE), "centre", size)
            else:
                made[base] = _crop_view(rgb, size, base, size)
        v = made[base]
        out.append(v[:, ::-1] if view.endswith("-flip") else v)
    return np.ascontiguousarray(np.stack(out))


def normalise(rgb_uint8: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32, (x - 127) / 128 as the weights expect."""
    x = (np.asarray(rgb_uint8, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def colour_features(rgb: np.ndarray) -> np.ndarray:
    """The colour model's VAD and the statistics it is computed from (COLOUR_NAMES order)."""
    reading = measure_mood_details(rgb)
    return np.array([*reading.vad.as_tuple(), reading.lightness, reading.chroma,
                     reading.contrast, reading.colourfulness, reading.hue_pleasantness],
                    dtype=np.float32)


def as_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) from grey, RGBA or float 0..1 input."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) == 0:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        f = arr.astype(np.float32)
        arr = np.clip(np.rint(f * 255.0 if f.max() <= 1.0 else f), 0, 255).astype(np.uint8)
    return arr


class FeatureExtractor:
    """Backbone features per view for images; the network is loaded once (ONNX when exported,
    else the PyTorch port) through moodshift.models.runtime."""

    def __init__(self, backend: str = "auto", tensors: dict[str, np.ndarray] | None = None,
                 backbone: str = BACKBONE):
        from moodshift.models.runtime import load_net

        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
        self.backbone = backbone
        self.size = input_size(backbone)
        self.net = load_net(backbone, tensors=tensors, backend=backend)

    def views(self, image: np.ndarray, views: Sequence[str]) -> np.ndarray:
        """(len(views), feature dim) float32 backbone features of each view of ``image``."""
        batch = normalise(make_views(as_uint8_rgb(image), views, self.size))
        return np.asarray(self.net(batch)[0], dtype=np.float32)

    def logits(self, image: np.ndarray, view: str = "centre") -> np.ndarray:
        """ImageNet logits (1000,) of one view (for checking the port)."""
        batch = normalise(make_views(as_uint8_rgb(image), [view], self.size))
        return np.asarray(self.net(batch)[1][0])
