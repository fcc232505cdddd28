"""Feathered region masks from the face mesh and the person matte.

Regions are polygons over MediaPipe's 468-point mesh (the index lists below follow the mesh's
topology: face oval, eyes, brows, lips). No face-parsing network is available offline, so these
polygons plus the selfie-segmentation matte are the masks. Every mask is float32 in [0, 1] at the
image's resolution, feathered with a Gaussian whose width follows the face size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37,
              39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82,
              81, 80, 191)
# each inner lip on its own, from corner 78 to corner 308
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_BROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
REGIONS = {"face": FACE_OVAL, "lips": LIPS_OUTER, "mouth": LIPS_INNER,
           "eyes": (RIGHT_EYE, LEFT_EYE), "brows": (RIGHT_BROW, LEFT_BROW)}


def polygon_mask(shape: tuple[int, int], polygons: list[np.ndarray], feather: float) -> np.ndarray:
    """Filled polygons (each (n, 2) x, y) as a float32 mask, blurred by sigma = feather px."""
    mask = np.zeros(shape, np.float32)
    for poly in polygons:
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1.0, lineType=cv2.LINE_AA)
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), feather)
    return np.clip(mask, 0.0, 1.0)


def region_mask(points: np.ndarray, region: str, shape: tuple[int, int],
                feather: float) -> np.ndarray:
    """One named region of REGIONS (face, lips, mouth, eyes, brows) for a mesh's points."""
    spec = REGIONS[region]
    groups = spec if isinstance(spec[0], tuple) else (spec,)
    polys = [points[list(g), :2] for g in groups]
    if region == "brows":  # brows are thin strips: thicken them a little
        polys = [cv2.convexHull(p.astype(np.float32)).reshape(-1, 2) for p in polys]
    return polygon_mask(shape, polys, feather)


def grown_oval(points: np.ndarray, factor: float) -> np.ndarray:
    """The face oval scaled about its centre (factor 1.2: a ring 20 % outside the face)."""
    oval = points[list(FACE_OVAL), :2].astype(np.float64)
    centre = oval.mean(0)
    return centre + (oval - centre) * factor


# The mesh's oval stops about two thirds of the way up the forehead; the skin above it up to
# the hairline is face too (left to the person's strokes it showed as a band of mosaic).
FOREHEAD_LIFT = 0.12   # of the oval's height, at its top, tapering to nothing at its middle


def face_outline(points: np.ndarray) -> np.ndarray:
    """The face's region for rendering: the oval grown 5 % and its upper half raised by up to
    FOREHEAD_LIFT of its height, so the whole forehead is face."""
    oval = grown_oval(points, 1.05)
    middle, top = float(oval[:, 1].mean()), float(oval[:, 1].min())
    height = float(np.ptp(oval[:, 1]))
    rise = np.clip((middle - oval[:, 1]) / max(middle - top, 1e-6), 0.0, 1.0)
    return oval - np.stack([np.zeros(len(oval)), FOREHEAD_LIFT * height * rise], axis=1)


# ---- person matte ------------------------------------------------------------------------------
SELFIE_INPUT = 256


class SelfieSegmenter:
    name = "mediapipe-selfie"

    def __init__(self) -> None:
        from moodshift.models.litert import open_interpreter
        from moodshift.models.store import verified_path

        self.interpreter = open_interpreter(verified_path(self.name))
        self.inp = self.interpreter.get_input_details()[0]["index"]
        self.out = self.interpreter.get_output_details()[0]["index"]

    def person(self, image: np.ndarray) -> np.ndarray:
        """Person probability, float32 (H, W) in [0, 1]."""
        h, w = image.shape[:2]
        small = cv2.resize(image, (SELFIE_INPUT, SELFIE_INPUT), interpolation=cv2.INTER_AREA)
        self.interpreter.set_tensor(self.inp, (small.astype(np.float32) / 255.0)[None])
        self.interpreter.invoke()
        prob = self.interpreter.get_tensor(self.out)[0, :, :, 0].astype(np.float32)
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


@lru_cache(maxsize=1)
def load_segmenter() -> SelfieSegmenter:
    return SelfieSegmenter()


@dataclass(frozen=True)
class PortraitMasks:
    """Where the faces, the rest of the people and the background are (float32, sum to 1)."""

    face: np.ndarray
    person: np.ndarray       # person minus face
    background: np.ndarray


def portrait_masks(image: np.ndarray, meshes: list[np.ndarray],
                   person: np.ndarray | None) -> PortraitMasks:
    """Faces from the mesh ovals, the forehead included (face_outline; feathered by 4 % of
    the face size); the person matte (when given) for the rest; everything else background
    (all of it without a matte)."""
    h, w = image.shape[:2]
    face = np.zeros((h, w), np.float32)
    for pts in meshes:
        size = float(np.ptp(pts[:, 0]) + np.ptp(pts[:, 1])) / 2
        face = np.maximum(face, polygon_mask((h, w), [face_outline(pts)], 0.04 * size))
    # without a matte the people are their faces: nothing is "person", never a negative share
    people = face if person is None else np.maximum(person, face)
    return PortraitMasks(face, people - face, 1.0 - people)
