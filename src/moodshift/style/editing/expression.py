"""Move each face in a photo toward a target expression, at full resolution.

Per face: MediaPipe's mesh (moodshift.faces.mesh) -> the face's points in a normalised frame
(eye distance 1) -> a displacement per point, made of
  * the learned mean offset of the target emotion from neutral (moodshift.style.editing.offsets,
    ``train expression-offsets``), times LEARNED_GAIN,
  * the emotion's action-unit prototype (moodshift.style.editing.templates), times AU_GAIN
    (and AU_GAIN_BY_EMOTION for emotions whose prototype needs more),
  * minus the face's own expression toward other emotions: its deviation from the mean neutral
    shape is fitted by non-negative least squares on the other emotions' offsets, and that part
    is taken away (a smiling face asked to look sad first loses its smile),
all scaled by strength (blends: weighted sums) -> a dense warp confined to the face region
(moodshift.style.editing.warp) -> an opened mouth's interior re-drawn from the photo, teeth moving
with their lips (moodshift.style.editing.mouth) -> shading where the geometry creases the skin
(moodshift.style.editing.texture) -> the target's expression ratio image drawn on the moved mesh,
less part of the other emotions' and that of the face's own expression
(moodshift.style.editing.shading). Pixels outside each face region are never touched.

Faces are skipped, with the reason reported, when they are too small to edit, when the mesh does
not find a face in the box, when the mesh has not settled on one face (overlapping or half
hidden faces: moodshift.faces.mesh.MAX_DRIFT), when the head is turned toward profile, or when
the face is cut by the image edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.faces.masks import FACE_OVAL, LEFT_BROW, LIPS_INNER, RIGHT_BROW
from moodshift.faces.mesh import MAX_DRIFT, MIN_PRESENCE
from moodshift.style.editing import lips, shading, texture
from moodshift.style.editing.mouth import lip_opening, open_mouth
from moodshift.style.editing.offsets import ExpressionOffsets, align, eye_centres
from moodshift.style.editing.templates import (
    NOSE_AND_EYE_CORNERS,
    PROTOTYPES,
    emotion_displacement,
)
from moodshift.style.editing.warp import (
    apply_field,
    displacement_field,
    face_crop,
    face_triangles,
    untangle,
)

Box = tuple[int, int, int, int]
MIN_FACE_PX = 40          # smaller faces are skipped: too few pixels to move convincingly
# Beyond this the far half of the face is hidden (profile). Faces turned a third of the way
# (0.5-0.7) warp without tearing and, left unedited, kept their own expression in every version
# (tuning figures: docs/expression-editing.md, "Turned faces").
MAX_YAW = 0.7
MAX_OUTSIDE = 0.15        # share of the face outline that may lie outside the image
LEARNED_GAIN = 2.0
AU_GAIN = 1.0
# Emotions whose action-unit prototype is applied more strongly. Chosen per emotion by msnet (the
# tuning judge) on 30 tuning portraits (LFW 51-80), AU gain 1 vs 2: sad's target was read on
# 6 / 30 vs 12 / 30 faces; no other emotion gained (angry 5 -> 4, happy 25 -> 23, surprise
# 6 -> 4, fear 0 -> 1, disgust and neutral unchanged), so they keep 1. Session 13 asked fear and
# disgust again (msnet, the other 50 tuning portraits LFW 51-100, gains 1-3; rule fixed first:
# the smallest gain within 0.01 of the best mean probability of the target, no face lost): fear
# 2 (read as fear 13 -> 21 of 50, mean probability 0.213 -> 0.287); it also helps the StyleGAN
# faces generate edits (labelling readers, 40 held-out faces, seed 6500: fear 17 -> 18 of 40,
# mean 0.380 -> 0.401). Disgust's pick (2: mean 0.047 -> 0.054, no face read as disgust) cost
# the generated faces (25 -> 23 of 40, mean 0.411 -> 0.380): kept at 1.
AU_GAIN_BY_EMOTION = {"sad": 2.0, "fear": 2.0}
# Emotions whose learned offsets leave the brows where they are: FER2013's disgusted faces lower
# their brows on average, as angry ones do, and the readers took edited disgust for anger
# (figures: docs/expression-editing.md, "Disgust holds its brows still").
BROWS_STILL = frozenset({"disgust"})
BROW_POINTS = (*RIGHT_BROW, *LEFT_BROW)
CANCEL_GAIN = 1.3
OWN_MAX = 3.0           # at most this many times an emotion's mean offset is taken out
# expression ratio images (moodshift.style.editing.shading) applied as exp(gain x log ratio).
# Chosen by msnet (the tuning judge) on 50 tuning portraits (LFW 51-100) from gains 0, 1, 2
# (above 2 the shading looked painted on): 2 gave the highest mean probability of the target for
# every emotion; target read on 95 -> 149 of 350 edits (with the settings below: 160).
SHADING_GAIN = 2.0
# The own expression's shading is taken out at CANCEL_GAIN x its fitted weight, the weight capped
# at 1 (one average expression's shading: a broad grin fitted at 3 x the mean smile lost so much
# cheek shadow that a white patch was left; msnet, same 50 portraits: 149 -> 157 of 350). The
# summed log ratio is kept within +-MAX_SHADING (a pixel at most doubles or halves) so blends
# cannot stack up; that bound changed no tuning reading (157 of 350 either way).
OWN_SHADING_MAX = 1.0
MAX_SHADING = 0.7
# The target's ratio image against the mean of the other expressive emotions': chosen by msnet on
# the same tuning portraits from 0 / 0.5 / 1 / 2 (mean probability of the target over the seven
# emotions 0.344 / 0.350 / 0.350 / 0.328; read as asked 157 / 160 / 161 / 152 of 350).
SHADING_CONTRAST = 0.5
# points no expression moves much: upper face outline, nose, eye corners (identity check)
IDENTITY_POINTS = (10, 338, 297, 332, 284, 251, 389, 356, 454, 127, 162, 21, 54, 103, 67, 109,
                   234, 93, 323, *NOSE_AND_EYE_CORNERS)


@dataclass
class FaceEdit:
    """What was done to one face (reported in the JSON and the image's intent metadata)."""

    box: Box
    applied: bool
    emotion: dict[str, float]
    strength: float
    reason: str | None = None
    mesh_score: float | None = None
    shape_change: float | None = None       # mean point movement, eye distance = 1
    identity_distance: float | None = None  # Procrustes RMS of IDENTITY_POINTS, eye dist. 1
    extras: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 4)
        return {"box": list(self.box), "applied": self.applied,
                "emotion": {k: round(v, 4) for k, v in self.emotion.items()},
                "strength": round(self.strength, 4), "skipped_because": self.reason,
                "mesh_score": r(self.mesh_score), "shape_change": r(self.shape_change),
                "identity_distance": r(self.identity_distance)} | self.extras


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(eye midpoint, rotation R, eye distance): normalised = (p - mid) @ R.T / eye."""
    r, left = eye_centres(points)
    d = left - r
    eye = float(np.hypot(*d))
    c, s = d / max(eye, 1e-9)
    return (r + left) / 2, np.array([[c, s], [-s, c]]), eye


def nnls(basis: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """argmin ||basis @ x - target|| over x >= 0, and the residual norm (as scipy.optimize.nnls).

    The basis here has at most six columns (the emotions other than neutral), so every support
    set is tried: the optimum is the unconstrained least-squares fit on its own support, and of
    the fits that come out non-negative the best is the optimum. Exact, a few milliseconds, and
    `stylize` does not pay the third of a second `scipy.optimize` takes to import; wider bases
    go to scipy."""
    a = np.asarray(basis, np.float64)
    b = np.asarray(target, np.float64)
    k = a.shape[1]
    if k > 10:
        from scipy.optimize import nnls as scipy_nnls

        return scipy_nnls(a, b)
    best, best_cost = np.zeros(k), float(b @ b)
    for mask in range(1, 1 << k):
        cols = [j for j in range(k) if mask >> j & 1]
        coef = np.linalg.lstsq(a[:, cols], b, rcond=None)[0]
        if (coef < 0).any():
            continue
        resid = a[:, cols] @ coef - b
        cost = float(resid @ resid)
        if cost < best_cost:
            best_cost, best = cost, np.zeros(k)
            best[cols] = coef
    return best, float(np.sqrt(best_cost))


def own_expression(norm: np.ndarray, offsets: ExpressionOffsets,
                   keep: set[str]) -> dict[str, float]:
    """How much of each emotion not kept explains the face's deviation from neutral (weights of
    their offsets, fitted by non-negative least squares, at most OWN_MAX each)."""
    others = [e for e in EMOTIONS if e != "neutral" and e not in keep and e in offsets.offsets]
    if not others:
        return {}
    deviation = align(norm, offsets.neutral) - offsets.neutral
    basis = np.stack([offsets.offsets[e].ravel() for e in others], 1)
    coef, _ = nnls(basis, deviation.ravel())
    return {e: float(c) for e, c in zip(others, np.clip(coef, 0.0, OWN_MAX)) if c > 0}


# inner-lip pairs (upper, lower) and the outer-lip pairs that move with them
LIP_PAIRS = ((13, 14), (82, 87), (81, 178), (80, 88), (191, 95), (312, 317), (311, 402),
             (310, 318), (415, 324))
OUTER_PAIRS = ((0, 17), (37, 84), (39, 181), (40, 91), (185, 146), (267, 314), (269, 405),
               (270, 321), (409, 375))
OPEN_MOUTH = 0.04     # inner-lip gap (eye distance 1) above which a mouth counts as open
CLOSE_SHARE = 0.85    # how much of an open mouth's gap a closed-mouth target takes away


def closed_share(mix: dict[str, float]) -> float:
    """How much of the blend wants a closed mouth (no jaw drop, not happy)."""
    keep_open = sum(w for e, w in mix.items() if PROTOTYPES.get(e, {}).get(26) or e == "happy")
    return max(0.0, 1.0 - keep_open)


def close_mouth(points: np.ndarray, mix: dict[str, float]) -> np.ndarray:
    """Moves that bring open lips together when the target keeps the mouth closed (no jaw drop
    and not mainly happy): a photographed grin's teeth are squeezed out of sight instead of
    staying between lips that were asked to look sad or angry."""
    out = np.zeros_like(points)
    share = CLOSE_SHARE * closed_share(mix)
    gap = lip_opening(points, 1.0)        # points are in eye distances
    if share <= 0 or gap <= OPEN_MOUTH:
        return out
    for (up, lo), (oup, olo) in zip(LIP_PAIRS, OUTER_PAIRS):
        half = 0.5 * share * (points[lo] - points[up])
        out[up] += half
        out[oup] += half
        out[lo] -= half
        out[olo] -= half
    return out


def _procrustes(a: np.ndarray, b: np.ndarray) -> float:
    from moodshift.style.editing.offsets import similarity_to
    scale, rot, shift = similarity_to(a, b)
    return float(np.sqrt(np.mean(np.sum((scale * a @ rot.T + shift - b) ** 2, 1))))


def skip_reason(image: np.ndarray, box: Box, points: np.ndarray | None,
                score: float | None, yaw: float | None, drift: float | None = None) -> str | None:
    if min(box[2], box[3]) < MIN_FACE_PX:
        return f"face too small to edit ({min(box[2], box[3])} px; needs {MIN_FACE_PX})"
    if points is None or score is None or score < MIN_PRESENCE:
        return "no face mesh found in the box"
    if drift is not None and drift > MAX_DRIFT:
        # warping by a mesh stretched across two faces tore holes between them
        return (f"face mesh not settled on one face (another pass moves it {drift:.2f} eye "
                f"distances > {MAX_DRIFT}; overlapping or hidden face)")
    h, w = image.shape[:2]
    outline = points[list(FACE_OVAL), :2]
    outside = np.mean((outline[:, 0] < 0) | (outline[:, 0] >= w) | (outline[:, 1] < 0)
                      | (outline[:, 1] >= h))
    if outside > MAX_OUTSIDE:
        return f"face cut by the image edge ({outside:.0%} of its outline outside)"
    if yaw is not None and yaw > MAX_YAW:
        return f"profile face (yaw ratio {yaw:.2f} > {MAX_YAW})"
    return None


def edit_face(image: np.ndarray, points: np.ndarray, mix: dict[str, float], strength: float,
              offsets: ExpressionOffsets) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """One face moved toward the blend; returns (image, moved points, what was shaded: the
    action units drawn as texture and each emotion's ratio-image weight, for the report)."""
    mid, rot, eye = _frame(points)
    norm = (points[:, :2] - mid) @ rot.T / eye
    learned = sum(w * learned_offsets(offsets, e) for e, w in mix.items())
    au_mix = {e: w * AU_GAIN_BY_EMOTION.get(e, 1.0) for e, w in mix.items()}
    moves = LEARNED_GAIN * learned + AU_GAIN * emotion_displacement(au_mix, norm,
                                                                     offsets.neutral)
    own = own_expression(norm, offsets, set(mix))
    moves = moves - CANCEL_GAIN * sum((w * offsets.offsets[e] for e, w in own.items()),
                                      np.zeros_like(norm))
    moves = moves + close_mouth(norm + moves, mix)
    crop = face_crop(points, image.shape[:2])
    tris = face_triangles(points, crop)
    moves_px = untangle(points, strength * eye * (moves @ rot), crop, LIPS_INNER, tris)
    moves_px = lips.even_out_opening(points[:, :2], moves_px)
    moves_px = lips.keep_inner_inside(points[:, :2], moves_px)
    moves_px = untangle(points, moves_px, crop, LIPS_INNER, tris)  # what the mends folded
    field_ = displacement_field(points, moves_px, crop, 0.03 * eye, tris)
    out = apply_field(image, field_, crop)
    moved = points[:, :2] + moves_px
    # shading, drawn where the moved landmarks are, inside the same face crop
    x0, y0, x1, y1 = crop
    region = out[y0:y1, x0:x1]
    local_after, local_before = moved - (x0, y0), points[:, :2] - (x0, y0)
    units = {u: strength * sum(w * PROTOTYPES.get(e, {}).get(u, 0.0) for e, w in mix.items())
             for u in (4, 6, 9, 12, 26)}
    crease = 0.16 * units[4] * texture.furrows(local_after, eye, region.shape[:2])
    fold = 0.12 * max(min(units[6], units[12]), units[9]) * texture.nasolabial(
        local_after, eye, region.shape[:2])
    region = texture.shade(region, crease + fold)
    region = open_mouth(image[y0:y1, x0:x1], region, local_before, local_after, eye)
    region = texture.hide_teeth(region, local_after, eye, strength * closed_share(mix))
    weights = shading_weights(mix, own)
    ratio = expression_shading(offsets, weights, strength, local_after, region.shape[:2], eye)
    region = shading.apply_ratio(region, ratio)
    out[y0:y1, x0:x1] = np.where((field_ != 0).any(-1, keepdims=True) | (crease + fold > 0)[
        ..., None] | (ratio != 0)[..., None], region, out[y0:y1, x0:x1])
    shaded: dict[str, object] = {
        "shaded_action_units": {str(k): round(v, 3) for k, v in units.items() if v > 0}}
    if offsets.shading:
        shaded["ratio_images"] = {e: round(strength * w, 3) for e, w in weights.items()
                                  if e in offsets.shading and round(strength * w, 3) != 0}
    return out, moved, shaded


def learned_offsets(offsets: ExpressionOffsets, emotion: str) -> np.ndarray:
    """The emotion's learned mean offsets (zeros when it has none), its brows held still for
    the BROWS_STILL emotions."""
    moves = np.array(offsets.offsets.get(emotion, np.zeros_like(offsets.neutral)),
                     dtype=np.float64)
    if emotion in BROWS_STILL:
        moves[list(BROW_POINTS)] = 0.0
    return moves


def shading_weights(mix: dict[str, float], own: dict[str, float]) -> dict[str, float]:
    """Weight of each emotion's ratio image: the target blend's at SHADING_GAIN, less
    SHADING_CONTRAST times the mean of the other expressive emotions' (the shading every
    expression shares, such as darker eye sockets, tells emotions apart least), less the face's
    own expression (``own``: fitted weights, as for its shape) at CANCEL_GAIN, each at most
    OWN_SHADING_MAX; a jaw drop's dark mouth is not taken out where the target keeps the mouth
    open (lightening it painted open mouths pink; msnet, tuning portraits: fear 3 -> 4 of 50,
    mean probability of the target over the seven emotions 0.341 -> 0.344)."""
    weights = {e: SHADING_GAIN * w for e, w in mix.items()}
    expressive = [e for e in EMOTIONS if e != "neutral"]
    for e, w in mix.items():  # what the target's shading shares with the others' is played down
        others = [f for f in expressive if f != e] if e in expressive else []
        for f in others:
            weights[f] = weights.get(f, 0.0) - SHADING_CONTRAST * SHADING_GAIN * w / len(others)
    for e, w in own.items():
        share = closed_share(mix) if PROTOTYPES.get(e, {}).get(26) else 1.0
        weights[e] = weights.get(e, 0.0) - CANCEL_GAIN * share * min(w, OWN_SHADING_MAX)
    return weights


def expression_shading(offsets: ExpressionOffsets, weights: dict[str, float], strength: float,
                       points: np.ndarray, shape: tuple[int, int], eye: float) -> np.ndarray:
    """(h, w) log ratio of the emotions' expression ratio images, weighted, on the face's moved
    mesh (``points`` in the region's pixels); zeros when the offsets file holds none."""
    reference = offsets.shading_points()
    weights = {e: strength * w for e, w in weights.items() if e in offsets.shading}
    if reference is None or not any(weights.values()):
        return np.zeros(shape, np.float32)
    log_ratio = np.clip(sum(w * offsets.shading[e] for e, w in weights.items()),
                        -MAX_SHADING, MAX_SHADING)
    right, left = eye_centres(reference)
    return shading.ratio_on_face(log_ratio, reference, points, shape, eye,
                                 float(np.hypot(*(left - right))))


def edit_expressions(image: np.ndarray, boxes: list[Box], mix: dict[str, float],
                     strength: float, offsets: ExpressionOffsets | None = None,
                     mesh_model: object | None = None
                     ) -> tuple[np.ndarray, list[FaceEdit], list[np.ndarray]]:
    """Every face in ``boxes`` moved toward the blend; (image, per-face edits, meshes after)."""
    from moodshift.faces.mesh import load_face_mesh
    from moodshift.style.editing.offsets import load_offsets

    out = np.asarray(image).copy()
    edits: list[FaceEdit] = []
    meshes: list[np.ndarray] = []
    if strength <= 0 or not boxes:
        return out, [FaceEdit(b, False, mix, strength, "strength 0") for b in boxes], meshes
    offsets = offsets or load_offsets()
    mesh_model = mesh_model or load_face_mesh()
    for box in boxes:
        mesh, drift = None, None
        if min(box[2], box[3]) >= MIN_FACE_PX:
            mesh = mesh_model.landmarks(out, box)  # type: ignore[attr-defined]
            drift = mesh_model.drift(out, mesh)  # type: ignore[attr-defined]
        reason = skip_reason(out, box, None if mesh is None else mesh.points,
                             None if mesh is None else mesh.presence,
                             None if mesh is None else mesh.yaw_ratio, drift)
        if reason is not None or mesh is None:
            edits.append(FaceEdit(box, False, mix, strength, reason,
                                  None if mesh is None else mesh.presence))
            settled = drift is not None and drift <= MAX_DRIFT
            if mesh is not None and mesh.presence >= MIN_PRESENCE and settled:
                meshes.append(mesh.points[:, :2])
            continue
        out, moved, shaded = edit_face(out, mesh.points, mix, strength, offsets)
        _, _, eye = _frame(mesh.points)
        change = float(np.mean(np.hypot(*(moved - mesh.points[:, :2]).T)) / eye)
        ident = _procrustes(moved[list(IDENTITY_POINTS)], mesh.points[list(IDENTITY_POINTS), :2])
        edits.append(FaceEdit(box, True, mix, strength, None, mesh.presence, change, ident / eye,
                              shaded))
        meshes.append(moved)
    return out, edits, meshes
