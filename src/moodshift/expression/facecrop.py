"""Face crops for moodshift's own expression models, in numpy only (see own.py for the framing).

Shared by the PyTorch model (own.py) and the onnxruntime one (own_runtime.py), so that both see
exactly the same pixels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

MARGIN = 0.0
Box = tuple[int, int, int, int]


def to_grey(image: np.ndarray) -> np.ndarray:
    """uint8 grey from RGB (or grey) uint8, exactly as Pillow's "L" conversion."""
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    rgb = image[..., :3].astype(np.uint32)
    # Pillow's "L": (R*299 + G*587 + B*114) / 1000, rounded
    return ((rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114 + 500) // 1000
            ).astype(np.uint8)


def crop_face(grey: np.ndarray, box: Box, margin: float = MARGIN) -> np.ndarray:
    """The square face region around ``box`` (grown by margin), border pixels repeated outside."""
    h, w = grey.shape
    x, y, bw, bh = box
    if x <= 0 and y <= 0 and x + bw >= w and y + bh >= h:     # already a face crop
        if h == w:
            return grey
        x, y, bw, bh, margin = 0, 0, w, h, 0.0
    side = max(1, int(round(max(bw, bh) * (1 + 2 * margin))))
    cx, cy = x + bw / 2.0, y + bh / 2.0
    x0 = int(round(cx - side / 2.0))
    y0 = int(round(cy - side / 2.0))
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        grey = np.pad(grey, pad, mode="edge")
        x0, y0 = x0 + pad, y0 + pad
    return grey[y0:y0 + side, x0:x0 + side]


def resize_to(grey: np.ndarray, size: int) -> np.ndarray:
    if grey.shape == (size, size):
        return grey
    return np.asarray(Image.fromarray(np.ascontiguousarray(grey)).resize((size, size),
                                                                         Image.BILINEAR))


def face_crops(image: np.ndarray, boxes: list[Box], size: int, margin: float = MARGIN) -> np.ndarray:
    """uint8 (n, size, size) grey face crops for the boxes of an RGB (or grey) image."""
    grey = to_grey(np.asarray(image))
    out = np.empty((len(boxes), size, size), dtype=np.uint8)
    for i, box in enumerate(boxes):
        out[i] = resize_to(crop_face(grey, tuple(int(v) for v in box), margin), size)
    return out
