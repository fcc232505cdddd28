"""A dense displacement field from sparse landmark moves, applied with ``cv2.remap``.

Landmarks move by given displacements; a ring of anchor points outside the face (the face oval
grown by ANCHOR_RING) and the corners of the working crop stay still. The field is piecewise
linear over a Delaunay triangulation of the *moved* points (scipy's LinearNDInterpolator), so
evaluating it at an output pixel gives the displacement that brought its content there: the
pixel samples the input at ``p - d(p)`` (an exact inverse of the piecewise-affine map). The field
is smoothed a little (no kinks along triangle edges) and multiplied by a feathered mask of the
face region that is exactly 0 outside it: pixels outside the face region never move.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

from moodshift.faces.masks import grown_oval, polygon_mask

ANCHOR_RING = 1.32     # anchors sit on the face oval grown by this factor
MASK_RING = 1.24       # the moving region: the oval grown by this, feathered inward
CROP_RING = 1.45


def face_crop(points: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the working region around a face, clipped to the image."""
    ring = grown_oval(points, CROP_RING)
    h, w = shape
    x0, y0 = np.floor(ring.min(0)).astype(int)
    x1, y1 = np.ceil(ring.max(0)).astype(int) + 1
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def displacement_field(points: np.ndarray, moves: np.ndarray, crop: tuple[int, int, int, int],
                       smooth: float) -> np.ndarray:
    """(h, w, 2) displacement at each output pixel of the crop, 0 outside the face region."""
    x0, y0, x1, y1 = crop
    size = (y1 - y0, x1 - x0)
    local = points[:, :2] - (x0, y0)
    anchors = grown_oval(points, ANCHOR_RING) - (x0, y0)
    corners = np.array([[0, 0], [size[1] - 1, 0], [0, size[0] - 1], [size[1] - 1, size[0] - 1]],
                       np.float64)
    dest = np.concatenate([local + moves, anchors, corners])
    values = np.concatenate([moves, np.zeros((len(anchors) + 4, 2))])
    interp = LinearNDInterpolator(dest, values, fill_value=0.0)
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    field = interp(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(size[0], size[1], 2)
    field = np.nan_to_num(field).astype(np.float32)
    if smooth > 0:
        field = cv2.GaussianBlur(field, (0, 0), smooth)
    feather = max(smooth, 1.0)
    mask = polygon_mask(size, [grown_oval(points, MASK_RING) - (x0, y0)], feather)
    mask[mask < 1e-3] = 0.0
    return field * mask[..., None]


def apply_field(image: np.ndarray, field: np.ndarray,
                crop: tuple[int, int, int, int]) -> np.ndarray:
    """The image with the crop resampled at p - field(p); pixels where the field is 0 are the
    input's own, bit for bit."""
    x0, y0, x1, y1 = crop
    region = image[y0:y1, x0:x1]
    h, w = region.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    warped = cv2.remap(region, xx - field[..., 0], yy - field[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    still = (field[..., 0] == 0) & (field[..., 1] == 0)
    out = image.copy()
    out[y0:y1, x0:x1] = np.where(still[..., None], region, warped)
    return out
