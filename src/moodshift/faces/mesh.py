"""MediaPipe's 468-point face mesh on a face box, through ``ai-edge-litert``.

The network (``mediapipe-face-mesh`` from ``models pull``) takes a 192x192 RGB crop in [0, 1]
and returns 468 (x, y, z) points in crop pixels plus a face-presence logit. As in MediaPipe's own
graph, the crop is a square around the face, 1.5 times its size, turned so the eyes are level:
a first pass on the detector's box finds the eyes and the face's extent, a second pass on the
crop those points give is the result. The points come back in image pixels.

A mesh can also settle on the wrong thing: on two overlapping faces, or a face half hidden, the
second pass lands between them and a third pass moves it again. ``drift`` measures that third
move; well-placed meshes barely move (on the 105 faces the SSD finds in the 100 LFW portraits
the median is 0.016 eye distances, 95 % are under 0.05), a mesh stretched across two faces
moves 0.15-0.23.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from moodshift.models.store import verified_path

NAME = "mediapipe-face-mesh"
INPUT = 192
ROI_SCALE = 1.5
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (362, 263)  # subject's right = image left
# A mesh that moves more than this (mean, eye distances) on one more pass has not settled on one
# face (see drift). Set between the LFW and expression-photo faces, the largest of which moved
# 0.09 and 0.07 (profiles, skipped for that anyway) and 0.065 (a face looking down, well
# placed), and the two meshes of an LFW photo of two overlapping faces (0.15, 0.23); of 70
# steered StyleGAN portraits the largest moved 0.04.
MAX_DRIFT = 0.1
# below this face probability the mesh found no face in the crop
MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class Mesh:
    points: np.ndarray      # (468, 3) float32: x, y in image pixels; z in the same scale
    presence: float         # the network's face probability

    @property
    def eye_distance(self) -> float:
        r = self.points[list(RIGHT_EYE_CORNERS), :2].mean(0)
        left = self.points[list(LEFT_EYE_CORNERS), :2].mean(0)
        return float(np.hypot(*(left - r)))

    @property
    def roll_degrees(self) -> float:
        r = self.points[list(RIGHT_EYE_CORNERS), :2].mean(0)
        left = self.points[list(LEFT_EYE_CORNERS), :2].mean(0)
        return float(math.degrees(math.atan2(left[1] - r[1], left[0] - r[0])))

    @property
    def yaw_ratio(self) -> float:
        """|nose-to-right-cheek - nose-to-left-cheek| / face width: 0 frontal, ~1 profile."""
        nose, right, left = self.points[1, 0], self.points[234, 0], self.points[454, 0]
        width = max(abs(left - right), 1e-6)
        return float(abs((nose - right) - (left - nose)) / width)


class FaceMesh:
    name = NAME

    def __init__(self) -> None:
        from moodshift.models.litert import open_interpreter

        self.interpreter = open_interpreter(verified_path(NAME))
        self.inp = self.interpreter.get_input_details()[0]["index"]
        outs = self.interpreter.get_output_details()
        self.points_out = next(o["index"] for o in outs if int(np.prod(o["shape"])) == 1404)
        self.score_out = next(o["index"] for o in outs if int(np.prod(o["shape"])) == 1)

    def _run(self, image: np.ndarray, centre: tuple[float, float], side: float,
             angle: float) -> Mesh:
        # affine image -> crop: rotate by -angle about the centre, scale side -> INPUT
        scale = INPUT / side
        m = cv2.getRotationMatrix2D(centre, angle, scale)
        m[:, 2] += (INPUT / 2 - centre[0], INPUT / 2 - centre[1])
        crop = cv2.warpAffine(image, m, (INPUT, INPUT), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        self.interpreter.set_tensor(self.inp, (crop.astype(np.float32) / 255.0)[None])
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.points_out).reshape(468, 3).astype(np.float64)
        logit = float(self.interpreter.get_tensor(self.score_out).reshape(-1)[0])
        inv = cv2.invertAffineTransform(m)
        xy = raw[:, :2] @ inv[:, :2].T + inv[:, 2]
        z = raw[:, 2:] / scale
        return Mesh(np.concatenate([xy, z], 1).astype(np.float32), 1 / (1 + math.exp(-logit)))

    def landmarks(self, image: np.ndarray, box: tuple[int, int, int, int]) -> Mesh:
        """The mesh of the face in ``box`` (x, y, w, h) of an RGB uint8 image."""
        x, y, w, h = box
        first = self._run(image, (x + w / 2, y + h / 2), ROI_SCALE * max(w, h), 0.0)
        return self.refine(image, first)

    def drift(self, image: np.ndarray, mesh: Mesh) -> float:
        """How far one more pass moves ``mesh``'s points, on average, in eye distances: near 0
        for a mesh that has settled on a face (MAX_DRIFT)."""
        again = self.refine(image, mesh)
        moved = np.hypot(*(again.points[:, :2] - mesh.points[:, :2]).T)
        return float(moved.mean() / max(mesh.eye_distance, 1e-6))

    def refine(self, image: np.ndarray, mesh: Mesh) -> Mesh:
        """One more pass on the upright crop that ``mesh``'s points give."""
        pts = mesh.points[:, :2]
        lo, hi = pts.min(0), pts.max(0)
        centre = (float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))
        side = ROI_SCALE * float(max(hi - lo))
        return self._run(image, centre, max(side, 8.0), mesh.roll_degrees)


@lru_cache(maxsize=1)
def load_face_mesh() -> FaceMesh:
    """The face mesh network, loaded once per process (ModelMissingError if not pulled)."""
    return FaceMesh()
