"""A dense displacement field from sparse landmark moves, applied with ``cv2.remap``.

Landmarks move by given displacements; a ring of anchor points outside the face (the face oval
grown by ANCHOR_RING) and the corners of the working crop stay still. The field is the inverse
of the piecewise-affine map of the Delaunay triangulation of the points before they move
(OpenCV's Subdiv2D; the same triangulation as scipy's Qhull, without the half second
`scipy.interpolate` takes to import in every `stylize` run): evaluated at an output pixel it
gives the displacement that brought its content there, and the pixel samples the input at
``p - d(p)``. ``untangle`` first keeps every triangle from folding over (a folded triangle shows
the same skin twice and tears a seam). The field is smoothed a little (no kinks along triangle
edges) and multiplied by a feathered mask of the face region that is exactly 0 outside it:
pixels outside the face region never move.
"""

from __future__ import annotations

import cv2
import numpy as np

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


# Subdiv2D starts from a triangle of three virtual vertices a few times its rectangle away; with
# the rectangle this many times the points' extent, those vertices are far enough that no
# triangle on the convex hull is lost to them (the result equals Qhull's Delaunay triangulation).
SUBDIV_MARGIN = 10_000
CHUNK = 1 << 20  # candidate pixels evaluated at once (bounded memory for big faces)
# The displacement field of a face crop wider than this is interpolated on a grid this many
# pixels across and resized up: the field is smooth (blurred next), and interpolating it at every
# pixel of a 1024 px face took about half a second, most of an edit's time.
FIELD_SIDE = 256


def delaunay(points: np.ndarray) -> np.ndarray:
    """(triangles, 3) indices into ``points`` (n, 2) of their Delaunay triangulation.

    Points that coincide in float32 are one vertex (the first of them)."""
    pts = np.asarray(points, np.float32)
    lo, hi = pts.min(0).astype(np.float64), pts.max(0).astype(np.float64)
    margin = SUBDIV_MARGIN * (float((hi - lo).max()) + 1.0)
    x0, y0 = np.floor(lo - margin - 1)
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(hi[0] + margin + 2 - x0),
                           int(hi[1] + margin + 2 - y0)))
    index: dict[tuple[float, float], int] = {}
    for i, (x, y) in enumerate(pts.tolist()):
        index.setdefault((x, y), i)
    subdiv.insert(list(index))
    corners = subdiv.getTriangleList().astype(np.float32).reshape(-1, 3, 2).tolist()
    # triangles touching Subdiv2D's three virtual outer vertices are not in the input: dropped
    tris = [[index.get((x, y), -1) for x, y in tri] for tri in corners]
    return np.array([t for t in tris if min(t) >= 0], np.int64).reshape(-1, 3)


def _covers_hull(points: np.ndarray, tris: np.ndarray) -> bool:
    u, v = points[tris[:, 1]] - points[tris[:, 0]], points[tris[:, 2]] - points[tris[:, 0]]
    area = 0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]).sum()
    hull = cv2.contourArea(cv2.convexHull(points.astype(np.float32)))
    return bool(abs(area - hull) <= 1e-4 * max(hull, 1.0))


def piecewise_linear(points: np.ndarray, values: np.ndarray, size: tuple[int, int],
                     triangles: np.ndarray | None = None) -> np.ndarray:
    """(h, w, k) values at every pixel (x, y) of a size (h, w) grid, interpolated linearly inside
    the Delaunay triangles of ``points`` (n, 2) carrying ``values`` (n, k); 0 outside their hull
    (what scipy's LinearNDInterpolator with fill_value 0 computes). ``triangles`` (t, 3): use
    these instead (where two overlap, the later one's values are kept)."""
    h, w = size
    pts = np.asarray(points, np.float64)
    vals = np.asarray(values, np.float64)
    tris = delaunay(pts) if triangles is None else np.asarray(triangles, np.int64)
    if triangles is None and (len(tris) == 0 or not _covers_hull(pts, tris)):
        # not seen in tests; Qhull as a net
        from scipy.interpolate import LinearNDInterpolator

        grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1).reshape(-1, 2)
        out = LinearNDInterpolator(pts, vals, fill_value=0.0)(grid)
        return np.nan_to_num(out).reshape(h, w, vals.shape[1])
    p = pts[tris]                                     # (t, 3, 2)
    edges = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], -1)   # (t, 2, 2), columns
    keep = np.abs(np.linalg.det(edges)) > 1e-12       # flat triangles cover no pixel
    tris, p, edges = tris[keep], p[keep], edges[keep]
    # barycentric coordinates as affine functions of (x, y): coef[t, v] . (x, y, 1)
    inv = np.linalg.inv(edges)                        # rows: b1, b2 per unit of (x, y) - p0
    b12 = np.concatenate([inv, -(inv @ p[:, 0, :, None])], 2)       # (t, 2, 3)
    coef = np.concatenate([np.array([0.0, 0.0, 1.0]) - b12.sum(1, keepdims=True), b12], 1)
    value_coef = np.einsum("tvk,tvc->tkc", vals[tris], coef)       # (t, k, 3)
    lo = np.maximum(np.floor(p.min(1)).astype(np.int64), 0)
    hi = np.minimum(np.ceil(p.max(1)).astype(np.int64), (w - 1, h - 1))
    bw, bh = np.maximum(hi - lo + 1, 0).T
    counts = bw * bh
    out = np.zeros((h, w, vals.shape[1]), np.float64)
    ends = np.cumsum(counts)
    first = 0
    while first < len(tris):  # triangles in chunks of about CHUNK candidate pixels
        last = max(int(np.searchsorted(ends, ends[first] - counts[first] + CHUNK, "right")),
                   first + 1)
        n = counts[first:last]
        tri = np.repeat(np.arange(first, last), n)
        offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        x = (lo[tri, 0] + offset % bw[tri]).astype(np.float64)
        y = (lo[tri, 1] + offset // bw[tri]).astype(np.float64)
        c = coef[tri]
        bary = c[:, :, 0] * x[:, None] + c[:, :, 1] * y[:, None] + c[:, :, 2]
        inside = (bary >= -1e-9).all(1)
        tri, x, y = tri[inside], x[inside], y[inside]
        v = value_coef[tri]
        out[y.astype(np.int64), x.astype(np.int64)] = (
            v[:, :, 0] * x[:, None] + v[:, :, 1] * y[:, None] + v[:, :, 2])
        first = last
    return out


def still_points(points: np.ndarray, crop: tuple[int, int, int, int]) -> np.ndarray:
    """The points that never move, in image pixels: the anchor ring and the crop's corners."""
    x0, y0, x1, y1 = crop
    corners = np.array([[x0, y0], [x1 - 1, y0], [x0, y1 - 1], [x1 - 1, y1 - 1]], np.float64)
    return np.concatenate([grown_oval(points, ANCHOR_RING), corners])


def signed_areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = points[tris[:, 0]], points[tris[:, 1]], points[tris[:, 2]]
    return 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])


# A triangle of the face's triangulation may shrink to this share of its area, never fold over:
# a folded triangle shows the same skin twice and tears a seam (brows lowered past their own
# lower edge, lips closed past each other).
MIN_AREA_RATIO = 0.02
UNTANGLE_ROUNDS = 60     # rounds of pulling toward the neighbours' moves
LAST_RESORT_ROUNDS = 20  # then halving what still folds, and finally stopping it
SLIVER = 0.05


def face_triangles(points: np.ndarray, crop: tuple[int, int, int, int]) -> np.ndarray:
    """The Delaunay triangles of the face's points followed by the still ring (indices into
    both): the triangulation the warp maps. Computed once per face and passed to ``untangle``
    and ``displacement_field``."""
    return delaunay(np.concatenate([points[:, :2], still_points(points, crop)]))


def checked_triangles(points: np.ndarray, crop: tuple[int, int, int, int],
                      collapsible: tuple[int, ...] = (), triangles: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(points and the still ring, the triangles ``untangle`` keeps from folding)."""
    src = np.concatenate([points[:, :2], still_points(points, crop)])
    tris = face_triangles(points, crop) if triangles is None else triangles
    area = np.abs(signed_areas(src, tris))
    keep = (area > SLIVER * np.median(area)) & ~np.isin(tris, collapsible).all(1)
    return src, tris[keep]


def untangle(points: np.ndarray, moves: np.ndarray, crop: tuple[int, int, int, int],
             collapsible: tuple[int, ...] = (), triangles: np.ndarray | None = None
             ) -> np.ndarray:
    """``moves`` (n, 2) of ``points`` changed where they would fold the warp over: the points
    of every triangle (of the Delaunay triangulation of the points and the still ring) that
    would shrink below MIN_AREA_RATIO of its area or flip are moved toward their neighbours'
    moves, and after half the rounds also shortened, until none does; the rest are kept.
    Left free: triangles between ``collapsible`` points only (a mouth's opening, repainted
    anyway) and slivers under SLIVER of the median triangle's area (pressed lips: their
    orientation is noise, and they cover no visible skin until a jaw drop opens them)."""
    n = len(points)
    src, tris = checked_triangles(points, crop, collapsible, triangles)
    before = signed_areas(src, tris)
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    degree = np.bincount(edges[:, 0], minlength=len(src)).astype(np.float64)
    out = np.concatenate([np.asarray(moves, np.float64), np.zeros((len(src) - n, 2))])
    for round_ in range(UNTANGLE_ROUNDS + LAST_RESORT_ROUNDS):
        bad = signed_areas(src + out, tris) / before < MIN_AREA_RATIO
        if not bad.any():
            break
        verts = np.unique(tris[bad])
        verts = verts[verts < n]
        if round_ < UNTANGLE_ROUNDS:
            mean = np.zeros_like(out)
            np.add.at(mean, edges[:, 0], out[edges[:, 1]])
            mean /= np.maximum(degree, 1.0)[:, None]
            out[verts] = 0.5 * out[verts] + 0.5 * mean[verts]
            if round_ >= UNTANGLE_ROUNDS // 2:
                out[verts] *= 0.9
        else:  # a last resort that always ends: halve, and finally stop, what still folds
            last = round_ == UNTANGLE_ROUNDS + LAST_RESORT_ROUNDS - 1
            out[verts] *= 0.0 if last else 0.5
    return out[:n]


def displacement_field(points: np.ndarray, moves: np.ndarray, crop: tuple[int, int, int, int],
                       smooth: float, triangles: np.ndarray | None = None) -> np.ndarray:
    """(h, w, 2) displacement at each output pixel of the crop, 0 outside the face region.
    The field is the inverse of the piecewise-affine map of the points' (and the still ring's)
    Delaunay triangulation; ``untangle`` the moves first so that no triangle folds over."""
    x0, y0, x1, y1 = crop
    size = (y1 - y0, x1 - x0)
    src = np.concatenate([points[:, :2], still_points(points, crop)]) - (x0, y0)
    values = np.concatenate([moves, np.zeros((len(src) - len(points), 2))])
    tris = face_triangles(points, crop) if triangles is None else triangles
    step = max(1.0, max(size) / FIELD_SIDE)
    if step == 1.0:
        field = piecewise_linear(src + values, values, size, tris).astype(np.float32)
    else:
        # grid node (i, j) sits at crop pixel (j * step, i * step); values stay in crop pixels
        small = (int(np.ceil((size[0] - 1) / step)) + 1, int(np.ceil((size[1] - 1) / step)) + 1)
        coarse = piecewise_linear((src + values) / step, values, small, tris).astype(np.float32)
        yy, xx = np.mgrid[0:size[0], 0:size[1]].astype(np.float32) / np.float32(step)
        field = cv2.remap(coarse, xx, yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
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
