"""Face crops and square network inputs, framed the way face-api frames them.

face-api (given an image tensor) crops the detection box, zero-pads it to a square (centred for
the 112x112 face nets, bottom/right for the detectors) and resizes with TF's legacy bilinear
resize (``align_corners=False, half_pixel_centers=False``). These helpers reproduce that so the
ported networks see the same pixels as in face-api. numpy only: they run at inference.
"""

from __future__ import annotations

import math

import numpy as np

from moodshift.faces.base import Box


def clip_box(box: Box, width: int, height: int, margin: float = 0.0) -> Box:
    """Grow (x, y, w, h) by ``margin`` times its size on every side, then clip to the image.

    The result is at least 1x1 pixel so a crop never comes out empty."""
    x, y, w, h = box
    dx, dy = margin * w, margin * h
    x0 = min(max(int(round(x - dx)), 0), width - 1)
    y0 = min(max(int(round(y - dy)), 0), height - 1)
    x1 = min(max(int(round(x + w + dx)), x0 + 1), width)
    y1 = min(max(int(round(y + h + dy)), y0 + 1), height)
    return x0, y0, x1 - x0, y1 - y0


def crop(image: np.ndarray, box: Box, margin: float = 0.0) -> np.ndarray:
    """The image region inside ``box`` (grown by margin, clipped to the image)."""
    x, y, w, h = clip_box(box, image.shape[1], image.shape[0], margin)
    return image[y:y + h, x:x + w]


def _padding(height: int, width: int, centre: bool) -> tuple[int, int]:
    """(top, left) zero padding that makes the image square, face-api's way: centre=False pads
    bottom/right only; centre=True splits it, the larger half (JavaScript ``Math.round`` of half
    the difference) going bottom/right."""
    diff = abs(height - width)
    after = math.floor(diff * (0.5 if centre else 1.0) + 0.5)
    before = diff - after
    return (before, 0) if height < width else (0, before)


def pad_to_square(image: np.ndarray, centre: bool) -> np.ndarray:
    """Zero-pad the shorter side so height == width, as face-api's padToSquare does."""
    h, w = image.shape[:2]
    side = max(h, w)
    top, left = _padding(h, w, centre)
    pads = [(top, side - h - top), (left, side - w - left)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, pads)


def _axis(n_in: int, n_out: int, offset: int, valid: int) -> tuple[np.ndarray, ...]:
    """Source indices (lo, hi), fractions and in-image masks along one axis of TF's legacy
    bilinear resize of a virtual axis of n_in pixels whose real pixels start at offset."""
    pos = np.arange(n_out, dtype=np.float64) * (n_in / n_out)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(np.ceil(pos).astype(np.intp), n_in - 1)
    lo, hi = lo - offset, hi - offset
    return (np.clip(lo, 0, valid - 1), np.clip(hi, 0, valid - 1), pos - np.floor(pos),
            (lo >= 0) & (lo < valid), (hi >= 0) & (hi < valid))


def _resample(image: np.ndarray, size: tuple[int, int], virtual: tuple[int, int],
              offset: tuple[int, int]) -> np.ndarray:
    """TF-legacy bilinear resize of ``image`` placed at ``offset`` inside a zero canvas of shape
    ``virtual``, without building the canvas. float32 out.

    The four neighbours of every output pixel are gathered as uint8, the needed rows (or
    columns) first and from those the needed columns (or rows), whichever leaves the smaller
    intermediate (a 50000 x 1000 strip squeezed to 512 x 512 is cut to its 512 columns first);
    only output-sized arrays are ever float."""
    h, w = image.shape[:2]
    y0, y1, fy, vy0, vy1 = _axis(virtual[0], size[0], offset[0], h)
    x0, x1, fx, vx0, vx1 = _axis(virtual[1], size[1], offset[1], w)
    extra = (1,) * (image.ndim - 2)
    if size[0] * w <= h * size[1]:
        top, bottom = _gather(image, y0, vy0, 0), _gather(image, y1, vy1, 0)
        tl, tr, bl, br = (_gather(rows, xs, valid, 1) for rows, xs, valid in (
            (top, x0, vx0), (top, x1, vx1), (bottom, x0, vx0), (bottom, x1, vx1)))
    else:
        left, right = _gather(image, x0, vx0, 1), _gather(image, x1, vx1, 1)
        tl, tr, bl, br = (_gather(cols, ys, valid, 0) for cols, ys, valid in (
            (left, y0, vy0), (right, y0, vy0), (left, y1, vy1), (right, y1, vy1)))
    fx = fx.reshape((1, -1) + extra)
    top_row = tl + (tr.astype(np.float64) - tl) * fx
    bottom_row = bl + (br.astype(np.float64) - bl) * fx
    return (top_row + (bottom_row - top_row) * fy.reshape((-1, 1) + extra)).astype(np.float32)


def _gather(values: np.ndarray, index: np.ndarray, valid: np.ndarray, axis: int) -> np.ndarray:
    """``values`` at ``index`` along ``axis``, in their own dtype, with the lines outside the
    real image (``valid`` False: the zero canvas around it) set to 0."""
    out = np.take(values, index, axis)
    if not valid.all():
        blank = [slice(None)] * out.ndim
        blank[axis] = ~valid
        out[tuple(blank)] = 0
    return out


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """TF's legacy bilinear resize (no corner alignment, no half-pixel centres), float32 out."""
    h, w = image.shape[:2]
    return _resample(image, (height, width), (h, w), (0, 0))


def square_input(image: np.ndarray, size: int, centre: bool) -> np.ndarray:
    """An (h, w, 3) image zero-padded to a square (see pad_to_square) and resized to
    size x size, float32 0..255; the padded canvas is never built, so large photos stay cheap."""
    h, w = image.shape[:2]
    side = max(h, w)
    return _resample(image, (size, size), (side, side), _padding(h, w, centre))


def face_batch(image: np.ndarray, boxes: list[Box], size: int, mean_rgb: tuple[float, ...],
               scale: float, margin: float = 0.0) -> np.ndarray:
    """(n, size, size, 3) float32: each box cropped, centred-padded, resized, then
    ``(pixel - mean_rgb) / scale``."""
    mean = np.asarray(mean_rgb, dtype=np.float32)
    out = np.empty((len(boxes), size, size, 3), dtype=np.float32)
    for i, box in enumerate(boxes):
        out[i] = (square_input(crop(image, box, margin), size, centre=True) - mean) / scale
    return out


def to_nchw(batch: np.ndarray) -> np.ndarray:
    """(n, h, w, c) -> contiguous float32 (n, c, h, w), the layout the networks take."""
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
