"""Facial action units as mesh displacements, and the emotions' prototype combinations.

Each action unit (Ekman & Friesen's FACS) moves a few landmark groups of MediaPipe's mesh, in a
face frame normalised so the eye centres are 1 apart, eyes level, x toward the image's right,
y downward. ``outward`` moves a point away from the face's midline (its sign follows the
point's side). Amplitudes are hand-set to what the action looks like at full intensity; the
dense warp spreads each group's movement to its neighbours.

Emotion prototypes follow EMFACS (Ekman & Friesen; Matsumoto & Ekman's prototypes):
happy 6+12, sad 1+4+15(+17), fear 1+2+4+5+7+20+26, disgust 9+10+15+16, angry 4+5+7+23,
surprise 1+2+5+26; neutral has none.
"""

from __future__ import annotations

import numpy as np

# landmark groups (MediaPipe face mesh indices; "r" = subject's right = image left)
BROW_INNER = (55, 65, 107, 66, 285, 295, 336, 296)
BROW_MID = (52, 105, 282, 334)
BROW_OUTER = (46, 53, 63, 70, 276, 283, 293, 300)
UPPER_LID = (159, 386)
UPPER_LID_SIDE = (160, 158, 387, 385)
UPPER_LID_EDGE = (161, 157, 388, 384)
LOWER_LID = (145, 374, 144, 153, 373, 380)
CHEEK = (50, 280, 205, 425, 117, 346, 118, 347, 101, 330, 187, 411)
NOSE_WING = (129, 358, 98, 327, 64, 294, 48, 278)
MOUTH_CORNER = (61, 291, 78, 308)
MOUTH_CORNER_NEAR = (76, 306, 62, 292, 185, 409, 146, 375, 95, 324, 191, 415)
UPPER_LIP_OUTER = (0, 37, 267, 39, 269, 40, 270)
UPPER_LIP_INNER = (13, 82, 312, 81, 311, 80, 310)
LOWER_LIP_INNER = (14, 87, 317, 178, 402, 88, 318)
LOWER_LIP_OUTER = (17, 84, 314, 181, 405, 91, 321)
BELOW_LIP = (18, 200, 83, 313, 201, 421, 182, 406)
CHIN = (199, 175, 152, 148, 377, 176, 400, 171, 396, 208, 428)
JAW_SIDE = (149, 378, 150, 379, 136, 365)

# action unit -> [(group, (dx, dy), outward)]; dx is outward when outward is True
AU: dict[int, list[tuple[tuple[int, ...], tuple[float, float], bool]]] = {
    1: [(BROW_INNER, (0.0, -0.11), False), (BROW_MID, (0.0, -0.05), False)],
    2: [(BROW_OUTER, (0.0, -0.10), False), (BROW_MID, (0.0, -0.07), False)],
    4: [(BROW_INNER, (-0.05, 0.08), True), (BROW_MID, (-0.03, 0.06), True),
        (BROW_OUTER, (0.0, 0.03), False)],
    5: [(UPPER_LID, (0.0, -0.06), False), (UPPER_LID_SIDE, (0.0, -0.05), False),
        (UPPER_LID_EDGE, (0.0, -0.03), False)],
    6: [(CHEEK, (0.0, -0.06), False), (LOWER_LID, (0.0, -0.025), False)],
    7: [(LOWER_LID, (0.0, -0.03), False), (UPPER_LID, (0.0, 0.01), False)],
    9: [(NOSE_WING, (0.0, -0.05), False), (UPPER_LIP_OUTER, (0.0, -0.025), False)],
    10: [(UPPER_LIP_OUTER, (0.0, -0.05), False), (UPPER_LIP_INNER, (0.0, -0.04), False)],
    12: [(MOUTH_CORNER, (0.09, -0.10), True), (MOUTH_CORNER_NEAR, (0.05, -0.05), True)],
    15: [(MOUTH_CORNER, (0.0, 0.09), False), (MOUTH_CORNER_NEAR, (0.0, 0.045), False)],
    16: [(LOWER_LIP_OUTER, (0.0, 0.05), False), (LOWER_LIP_INNER, (0.0, 0.045), False)],
    17: [(BELOW_LIP, (0.0, -0.03), False), (LOWER_LIP_OUTER, (0.0, -0.02), False)],
    20: [(MOUTH_CORNER, (0.09, 0.02), True), (MOUTH_CORNER_NEAR, (0.05, 0.01), True)],
    23: [(UPPER_LIP_OUTER, (0.0, 0.02), False), (LOWER_LIP_OUTER, (0.0, -0.02), False),
         (MOUTH_CORNER, (-0.03, 0.0), True)],
    26: [(LOWER_LIP_INNER, (0.0, 0.20), False), (LOWER_LIP_OUTER, (0.0, 0.19), False),
         (BELOW_LIP, (0.0, 0.17), False), (CHIN, (0.0, 0.14), False),
         (JAW_SIDE, (0.0, 0.07), False), (MOUTH_CORNER, (0.0, 0.04), False)],
}

PROTOTYPES: dict[str, dict[int, float]] = {
    "happy": {6: 1.0, 12: 1.0},
    "sad": {1: 1.0, 4: 0.6, 15: 1.0, 17: 0.6},
    "fear": {1: 1.0, 2: 0.8, 4: 0.6, 5: 1.0, 7: 0.3, 20: 1.0, 26: 0.6},
    "disgust": {9: 1.0, 10: 1.0, 15: 0.8, 16: 0.8, 4: 0.4},
    "angry": {4: 1.0, 5: 0.6, 7: 1.0, 23: 1.0},
    "surprise": {1: 1.0, 2: 1.0, 5: 1.0, 26: 1.0},
    "neutral": {},
}


def au_displacement(units: dict[int, float], normalised: np.ndarray) -> np.ndarray:
    """(468, 2) displacement (normalised units) for action units at the given intensities;
    ``normalised`` are the face's points in the normalised frame (for the outward sign)."""
    out = np.zeros((len(normalised), 2))
    for unit, intensity in units.items():
        for group, (dx, dy), outward in AU[unit]:
            idx = list(group)
            sign = np.sign(normalised[idx, 0]) if outward else np.ones(len(idx))
            out[idx, 0] += intensity * dx * sign
            out[idx, 1] += intensity * dy
    return out


def emotion_displacement(mix: dict[str, float], normalised: np.ndarray) -> np.ndarray:
    """A blend's action-unit displacement: the weighted sum of its emotions' prototypes."""
    out = np.zeros((len(normalised), 2))
    for emotion, weight in mix.items():
        out += weight * au_displacement(PROTOTYPES.get(emotion, {}), normalised)
    return out


def mouth_opening(mix: dict[str, float]) -> float:
    """How far the blend drops the jaw (AU26 intensity, weighted)."""
    return sum(w * PROTOTYPES.get(e, {}).get(26, 0.0) for e, w in mix.items())
