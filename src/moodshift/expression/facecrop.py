"""Face crops for moodshift's own expression models, in numpy only (see own.py for the framing).

Shared by the PyTorch model (own.py) and the onnxruntime one (own_runtime.py), so that both see
exactly the same pixels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from moodshift.faces.base import Box

MARGIN = 0.0


def to_grey(image: np.ndarray) -> np.ndarray:
    """uint8 grey from RGB (or grey) uint8 through Pillow's "L" conversion (ITU-R 601 luma)."""
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    return np.asarray(Image.fromarray(np.ascontiguousarray(image[..., :3])).convert("L"))


def crop_face(image: np.ndarray, box: Box, margin: float = MARGIN) -> np.ndarray:
    """The square face region around ``box`` (grown by margin), border pixels repeated outside.
    Works on grey (H, W) and RGB (H, W, 3) arrays alike."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    if x <= 0 and y <= 0 and x + bw >= w and y + bh >= h:     # already a face crop
        if h == w:
            return image
        x, y, bw, bh, margin = 0, 0, w, h, 0.0
    side = max(1, int(round(max(bw, bh) * (1 + 2 * margin))))
    cx, cy = x + bw / 2.0, y + bh / 2.0
    x0 = int(round(cx - side / 2.0))
    y0 = int(round(cy - side / 2.0))
    if x0 < 0 or y0 < 0 or x0 + side > w or y0 + side > h:
        # Outside the photo, repeat its border pixels (also for a box wholly outside it).
        ys = np.clip(np.arange(y0, y0 + side), 0, h - 1)
        xs = np.clip(np.arange(x0, x0 + side), 0, w - 1)
        return image[ys[:, None], xs[None, :]]
    return image[y0:y0 + side, x0:x0 + side]


def resize_to(grey: np.ndarray, size: int) -> np.ndarray:
    if grey.shape == (size, size):
        return grey
    return np.asarray(Image.fromarray(np.ascontiguousarray(grey)).resize((size, size),
                                                                         Image.BILINEAR))


def face_crops(image: np.ndarray, boxes: list[Box], size: int, margin: float = MARGIN) -> np.ndarray:
    """uint8 (n, size, size) grey face crops for the boxes of an RGB (or grey) image.

    The grey conversion is per pixel, so it may run before or after cropping with the same
    result: the whole photo is converted once when the faces cover much of it (one call instead
    of one per face), otherwise only the crops are (a big photo with one small face)."""
    image = np.asarray(image)
    out = np.empty((len(boxes), size, size), dtype=np.uint8)
    boxes = [tuple(int(v) for v in box) for box in boxes]  # type: ignore[misc]
    covered = sum(max(b[2], b[3]) ** 2 for b in boxes)
    if image.ndim == 3 and covered * 4 >= image.shape[0] * image.shape[1]:
        image = to_grey(image)
    for i, box in enumerate(boxes):
        out[i] = resize_to(to_grey(crop_face(image, box, margin)), size)  # type: ignore[arg-type]
    return out
