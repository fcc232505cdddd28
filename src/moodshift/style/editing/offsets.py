"""Per-emotion face-mesh offsets from neutral, learned from labelled faces, stored small.

Method (``moodshift train expression-offsets``): every labelled face gets MediaPipe's 468-point
mesh (moodshift.faces.mesh); its x, y points are aligned to a reference shape by a similarity
transform (Procrustes: translation, rotation, uniform scale, no reflection) so head pose, size and
position drop out, in units of the distance between the eye centres. The reference is the mean
neutral face (two rounds: the first aligns to the first neutral face). An emotion's offset is the
mean aligned shape of its faces minus the mean neutral shape: where, on average, the points of a
face showing that emotion sit relative to a neutral one. Faces whose mesh score is below
MIN_PRESENCE, or that look sideways (yaw ratio above MAX_YAW), are left out.

The same faces also give each emotion's expression ratio image (moodshift.style.editing.shading):
the shading, not the shape, of the expression.

Stored as safetensors (``neutral_shape``: (468, 2); ``<emotion>``: (468, 2) offsets; ``counts``;
``shading_frame`` and ``shading_<emotion>``: the ratio images' frame and log ratios) in the
package's data folder, with its sha256 pinned in moodshift.models.shipped and checked on every
load. A file without the shading keys edits shape only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.faces.mesh import MIN_PRESENCE
from moodshift.models.shipped import shipped_file

SHIPPED = shipped_file("moodshift-expression-offsets").path
SHIPPED_SHA256 = shipped_file("moodshift-expression-offsets").sha256
MAX_YAW = 0.35
RIGHT_EYE = (33, 133, 159, 145)
LEFT_EYE = (362, 263, 386, 374)


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points[list(RIGHT_EYE), :2].mean(0), points[list(LEFT_EYE), :2].mean(0)


def normalise(points: np.ndarray) -> np.ndarray:
    """(468, 2) points moved so the eye midpoint is 0, eyes level, eye distance 1."""
    r, left = eye_centres(points)
    d = left - r
    scale = float(np.hypot(*d))
    c, s = d / max(scale, 1e-9)
    rot = np.array([[c, s], [-s, c]])
    return ((points[:, :2] - (r + left) / 2) @ rot.T) / max(scale, 1e-9)


def similarity_to(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, rotation, translation) that best maps source onto target (least squares)."""
    ms, mt = source.mean(0), target.mean(0)
    a, b = source - ms, target - mt
    u, sig, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, d])
    rot = (u @ fix @ vt).T
    scale = float((sig * np.diag(fix)).sum() / max((a ** 2).sum(), 1e-12))
    return scale, rot, mt - scale * ms @ rot.T


def align(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    start = normalise(points)
    scale, rot, shift = similarity_to(start, reference)
    return scale * start @ rot.T + shift


@dataclass(frozen=True)
class ExpressionOffsets:
    neutral: np.ndarray                  # (468, 2) mean neutral shape, eye distance 1
    offsets: dict[str, np.ndarray]       # emotion -> (468, 2) mean offset from neutral
    counts: dict[str, int]
    # expression ratio images (moodshift.style.editing.shading): emotion -> (GRID, GRID) log
    # ratio, drawn in the frame [x0, y0, scale] over the neutral shape; empty: shape only
    shading: dict[str, np.ndarray] = field(default_factory=dict)
    shading_frame: np.ndarray | None = None

    def to_tensors(self) -> dict[str, np.ndarray]:
        out = {"neutral_shape": self.neutral.astype(np.float32)}
        out |= {e: self.offsets[e].astype(np.float32) for e in EMOTIONS if e in self.offsets}
        out["counts"] = np.array([self.counts.get(e, 0) for e in EMOTIONS], np.int32)
        if self.shading and self.shading_frame is not None:
            out["shading_frame"] = self.shading_frame.astype(np.float32)
            out |= {f"shading_{e}": self.shading[e].astype(np.float32)
                    for e in EMOTIONS if e in self.shading}
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray]) -> ExpressionOffsets:
        counts = dict(zip(EMOTIONS, map(int, tensors.get("counts", np.zeros(7)))))
        shading = {e: tensors[f"shading_{e}"].astype(np.float32) for e in EMOTIONS
                   if f"shading_{e}" in tensors}
        frame = tensors.get("shading_frame")
        return cls(tensors["neutral_shape"].astype(np.float64),
                   {e: tensors[e].astype(np.float64) for e in EMOTIONS if e in tensors}, counts,
                   shading if frame is not None else {},
                   None if frame is None else frame.astype(np.float64))

    def shading_points(self) -> np.ndarray | None:
        """Where each mesh point of the neutral shape sits in the ratio images' frame."""
        if self.shading_frame is None:
            return None
        from moodshift.style.editing.shading import frame_points

        return frame_points(self.neutral, self.shading_frame)


def learn_offsets(shapes: dict[str, list[np.ndarray]]) -> ExpressionOffsets:
    """Offsets from {emotion: [(468, 2+) image-space meshes]} (method: module docstring)."""
    if not shapes.get("neutral"):
        raise UserError("learning expression offsets needs neutral faces")
    reference = normalise(shapes["neutral"][0])
    for _ in range(2):
        neutral = np.mean([align(p, reference) for p in shapes["neutral"]], axis=0)
        reference = neutral
    offsets = {e: np.mean([align(p, reference) for p in pts], axis=0) - reference
               for e, pts in shapes.items() if pts and e != "neutral"}
    offsets["neutral"] = np.zeros_like(reference)
    return ExpressionOffsets(reference, offsets, {e: len(p) for e, p in shapes.items()})


def labelled_faces(data: list[Path], per_class: int, seed: int = 0) -> list[tuple[Path, str]]:
    """(image, emotion) from FER2013-style trees (one folder per emotion) and folders holding a
    labels.csv (image,emotion); at most per_class images per emotion from each source."""
    import csv

    rng = np.random.default_rng(seed)
    out: list[tuple[Path, str]] = []
    for root in data:
        found: dict[str, list[Path]] = {}
        labels = root / "labels.csv"
        if labels.is_file():
            with labels.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    emotion = (row.get("emotion") or "").strip().lower()
                    if emotion in EMOTIONS and (root / (row.get("image") or "")).is_file():
                        found.setdefault(emotion, []).append(root / row["image"])
        else:
            for emotion in EMOTIONS:
                folder = root / emotion
                if folder.is_dir():
                    found[emotion] = sorted(folder.iterdir())
        if not found:
            raise UserError(f"{root}: no labelled faces (expected emotion folders or labels.csv)")
        for emotion, files in found.items():
            pick = rng.permutation(len(files))[:per_class]
            out.extend((files[i], emotion) for i in sorted(pick))
    return out


@dataclass(frozen=True)
class MeshedFace:
    points: np.ndarray   # (468, 2) mesh points, image pixels
    gray: np.ndarray     # the image, grey (its shading, for the ratio images)


def collect_faces(faces: list[tuple[Path, str]],
                  progress: Callable[[int, int], None] | None = None
                  ) -> dict[str, list[MeshedFace]]:
    """Mesh every labelled face; whole-image box when the detector finds none (face crops)."""
    import cv2

    from moodshift.faces.detect import load_detector
    from moodshift.faces.mesh import load_face_mesh
    from moodshift.imageio import load_image

    mesh_net, detector = load_face_mesh(), load_detector()
    meshed: dict[str, list[MeshedFace]] = {e: [] for e in EMOTIONS}
    for i, (path, emotion) in enumerate(faces, 1):
        image = load_image(path)
        h, w = image.shape[:2]
        box = (0, 0, w, h)
        if min(h, w) >= 96:  # FER2013's 48 px crops are faces already
            found = detector.detect(image)
            if found:
                box = max(found, key=lambda d: d.area).box
        mesh = mesh_net.landmarks(image, box)
        if mesh.presence >= MIN_PRESENCE and mesh.yaw_ratio <= MAX_YAW:
            meshed[emotion].append(MeshedFace(mesh.points[:, :2].astype(np.float64),
                                              cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)))
        if progress and (i % 100 == 0 or i == len(faces)):
            progress(i, len(faces))
    return meshed


def learn_offsets_and_shading(meshed: dict[str, list[MeshedFace]]) -> ExpressionOffsets:
    """Offsets (learn_offsets) plus the ratio images of the same faces, in the frame of the
    mean neutral shape."""
    from dataclasses import replace

    from moodshift.style.editing.shading import frame_of, frame_points, learn_ratios, shape_free

    offsets = learn_offsets({e: [f.points for f in faces] for e, faces in meshed.items()})
    frame = frame_of(offsets.neutral)
    reference = frame_points(offsets.neutral, frame)
    textures = {e: [t for t in (shape_free(f.gray, f.points, reference) for f in faces)
                    if t is not None] for e, faces in meshed.items()}
    return replace(offsets, shading=learn_ratios(textures), shading_frame=frame)


def save_offsets(offsets: ExpressionOffsets, path: Path) -> str:
    """Write the safetensors file atomically; returns its sha256."""
    from safetensors.numpy import save

    from moodshift.imageio import atomic_write_bytes
    from moodshift.models.store import sha256_file

    data = save(offsets.to_tensors())
    atomic_write_bytes(path, data)
    return sha256_file(path)


@lru_cache(maxsize=None)
def load_offsets(path: str | None = None) -> ExpressionOffsets:
    """The shipped offsets (checksum checked) or those in ``path``."""
    from moodshift.models.store import load_verified_file

    if path is None:
        return ExpressionOffsets.from_tensors(load_verified_file(SHIPPED, SHIPPED_SHA256))
    from safetensors.numpy import load_file
    try:
        return ExpressionOffsets.from_tensors(load_file(path))
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: not an expression-offsets file ({exc})") from None
