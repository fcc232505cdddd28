"""Per-emotion expression ratio images: how an expression lightens and darkens the skin.

A face's landmarks say where its features sit; they do not say that a frightened face shows the
whites of its eyes and a dark open mouth, or that a disgusted one creases around the nose. Those
are changes of shading, and an expression ratio image stores them (Liu, Shan & Zhang 2001,
"Expressive expression mapping with ratio images"):

* learning (``moodshift train expression-offsets``): every labelled face's grey image is warped,
  piecewise affinely over its MediaPipe mesh, onto the mean neutral shape drawn in a GRID x GRID
  frame ("shape-free texture"), and divided by its own mean brightness inside the face so
  lighting and skin tone drop out. Per emotion the mean of those textures is divided by the
  neutral mean; the log of that ratio is stored lightly smoothed, without its broadest part
  (how each emotion's photos happened to be lit), faded out at the face's rim and clipped;
* editing (moodshift.style.editing.expression): the blend's log ratio is drawn onto the face's
  *moved* mesh (each point knows where it sits in the frame) and the face's pixels are
  multiplied by exp(gain x log ratio). Multiplying, not painting, keeps the photo's own skin,
  colour and lighting, and a ratio of 1 (log 0) leaves a pixel as it was.

The frame is low resolution on purpose: the means come from 48 px FER2013 faces, and what they
hold is broad shading, not pores. Where the frame holds no face (outside the mesh) the ratio is 1.
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.style.editing.warp import piecewise_linear

GRID = 64                 # side of the shape-free frame, in pixels
MARGIN = 2.0              # frame pixels left around the neutral shape
MAX_LOG_RATIO = 0.5       # a stored ratio lies within exp(+-0.5) = 0.61 .. 1.65
SMOOTH = 1.0              # Gaussian sigma (frame pixels) over each stored log ratio
BROAD = 8.0               # sigma of the broad shading taken away (frame pixels)
RIM = 0.1                 # share of the frame over which the ratio fades out at the outline


def frame_of(neutral: np.ndarray) -> np.ndarray:
    """[x0, y0, scale]: frame pixel = (normalised point - (x0, y0)) x scale, so the neutral shape
    (eye distance 1) fills the GRID x GRID frame with MARGIN pixels to spare."""
    lo, hi = neutral.min(0), neutral.max(0)
    scale = (GRID - 1 - 2 * MARGIN) / float((hi - lo).max())
    return np.array([*(lo - MARGIN / scale), scale], np.float64)


def frame_points(neutral: np.ndarray, frame: np.ndarray) -> np.ndarray:
    return (neutral - frame[:2]) * frame[2]


def shape_free(gray: np.ndarray, points: np.ndarray,
               reference: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(GRID x GRID texture divided by its mean inside the face, inside mask) of one face whose
    mesh ``points`` (468, 2, image pixels) match the frame's ``reference`` points; None for a
    face with no light to divide by (a black image)."""
    grid = piecewise_linear(reference, np.concatenate([points, np.ones((len(points), 1))], 1),
                            (GRID, GRID)).astype(np.float32)
    inside = grid[..., 2] > 0.999
    texture = cv2.remap(gray.astype(np.float32), grid[..., 0], grid[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    mean = float(texture[inside].mean())
    if mean < 1.0:
        return None
    return np.where(inside, texture / mean, 0.0).astype(np.float32), inside


def learn_ratios(textures: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, np.ndarray]:
    """{emotion: GRID x GRID log ratio of its mean shape-free texture to the neutral one}."""
    def mean_of(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        total = np.sum([t for t, _ in items], 0)
        count = np.sum([m for _, m in items], 0).astype(np.float64)
        return total / np.maximum(count, 1), count

    if not textures.get("neutral"):
        return {}  # nothing to compare with: the file edits shape only
    neutral, neutral_count = mean_of(textures["neutral"])
    out = {"neutral": np.zeros((GRID, GRID), np.float32)}
    for emotion, items in textures.items():
        if emotion == "neutral" or not items:
            continue
        mean, count = mean_of(items)
        # only where at least half of both sets' faces cover the pixel
        ok = (count >= 0.5 * len(items)) & (neutral_count >= 0.5 * len(textures["neutral"]))
        log_ratio = np.where(ok, np.log(np.maximum(mean, 1e-3) / np.maximum(neutral, 1e-3)), 0.0)
        # the features' shading stays; the broadest part goes (how the emotion's photos
        # happened to be lit), and so does the rim (hair and background in the crops)
        band = _blur_inside(log_ratio, ok, SMOOTH) - _blur_inside(log_ratio, ok, BROAD)
        out[emotion] = np.clip(band * _rim_fade(ok), -MAX_LOG_RATIO,
                               MAX_LOG_RATIO).astype(np.float32)
    return out


def _blur_inside(values: np.ndarray, inside: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur over the ``inside`` pixels only (normalised convolution); 0 outside."""
    weight = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), sigma)
    blurred = cv2.GaussianBlur((values * inside).astype(np.float32), (0, 0), sigma)
    return np.where(inside & (weight > 1e-3), blurred / np.maximum(weight, 1e-3), 0.0)


def _rim_fade(inside: np.ndarray) -> np.ndarray:
    """0 on the face's outline rising to 1 at RIM x GRID pixels inside it."""
    distance = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(distance / (RIM * GRID), 0.0, 1.0)


def ratio_on_face(log_ratio: np.ndarray, reference: np.ndarray, points: np.ndarray,
                  shape: tuple[int, int], eye_px: float, frame_per_eye: float) -> np.ndarray:
    """(h, w) log ratio at each pixel of a region of ``shape`` whose face mesh sits at ``points``
    (468, 2, region pixels; eye distance ``eye_px``); 0 outside the mesh. ``frame_per_eye``:
    the eye distance of the ``reference`` points, in frame pixels. Drawn at twice the frame's
    detail and scaled up: the ratio holds broad shading only, and a big face costs no more than
    a small one."""
    h, w = shape
    step = max(1.0, eye_px / (2.0 * frame_per_eye))
    small = (max(int(np.ceil(h / step)), 1), max(int(np.ceil(w / step)), 1))
    values = np.concatenate([reference, np.ones((len(reference), 1))], 1)
    grid = piecewise_linear(points / step, values, small).astype(np.float32)
    drawn = cv2.remap(log_ratio.astype(np.float32), grid[..., 0], grid[..., 1],
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    # fade to 0 toward the mesh's edge, so the face outline leaves no step
    inside = (grid[..., 2] > 0.999).astype(np.float32)
    drawn = drawn * cv2.GaussianBlur(inside, (0, 0), 1.0) * inside
    return cv2.resize(drawn, (w, h), interpolation=cv2.INTER_LINEAR)


def apply_ratio(region: np.ndarray, log_ratio_px: np.ndarray) -> np.ndarray:
    """The region's pixels multiplied by exp(log ratio): 0 leaves a pixel bit for bit."""
    if not np.any(log_ratio_px):
        return region
    scaled = region.astype(np.float32) * np.exp(log_ratio_px)[..., None]
    out = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    return np.where((log_ratio_px != 0)[..., None], out, region)
