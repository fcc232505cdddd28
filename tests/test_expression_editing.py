"""Expression editing and face-aware rendering on the bundled portrait and generated images."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT = ROOT / "examples" / "astronaut.png"


def _ready(*names: str) -> bool:
    from moodshift.models.registry import status
    ok = {s.info.name for s in status() if s.status == "ok"}
    return set(names) <= ok


needs_mesh_models = pytest.mark.skipif(not _ready("mediapipe-face-mesh", "faceapi-ssd"),
                                reason="face mesh / detector not pulled (moodshift models pull)")


def needs_mesh(test):
    return pytest.mark.models(needs_mesh_models(test))


@pytest.fixture(scope="module")
def astronaut():
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import load_image
    image = load_image(ASTRONAUT)
    box = max(load_detector().detect(image), key=lambda d: d.area).box
    return image, box


def test_learned_offsets_load_and_match_their_checksum(tmp_path: Path) -> None:
    from moodshift.models.store import sha256_file
    from moodshift.style.editing import offsets as off

    assert sha256_file(off.SHIPPED) == off.SHIPPED_SHA256
    loaded = off.load_offsets()
    assert loaded.neutral.shape == (468, 2)
    assert set(loaded.offsets) == set(EMOTIONS)
    # happy pulls the mouth corners up and out (y down, image-left corner 61, right 291)
    happy = loaded.offsets["happy"]
    assert happy[61, 1] < 0 and happy[291, 1] < 0
    # the expression ratio images: one per emotion, in their frame, neutral's is 1 everywhere
    assert set(loaded.shading) == set(EMOTIONS) and loaded.shading_frame is not None
    assert not loaded.shading["neutral"].any()
    assert all(np.abs(loaded.shading[e]).max() > 0.05 for e in EMOTIONS if e != "neutral")
    tampered = tmp_path / "offsets.safetensors"
    shutil.copy(off.SHIPPED, tampered)
    with tampered.open("r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\x00" * 8)
    from moodshift.models.store import load_verified_file
    with pytest.raises(UserError, match="checksum"):
        load_verified_file(tampered, off.SHIPPED_SHA256)


def test_ratio_images_hold_where_an_expression_darkens_the_face() -> None:
    from moodshift.style.editing import shading
    from moodshift.style.editing.offsets import load_offsets

    neutral_shape = load_offsets().neutral
    frame = shading.frame_of(neutral_shape)
    reference = shading.frame_points(neutral_shape, frame)
    points = neutral_shape * 40.0 + (80.0, 70.0)       # eye distance 40 px in a 160 px image
    brow_centre = points[9]                             # between the brows
    yy, xx = np.mgrid[0:160, 0:160]
    frown = np.hypot(xx - brow_centre[0], yy - brow_centre[1]) < 8
    rng = np.random.default_rng(0)

    def faces(darken: bool, light: float) -> list:
        out = []
        for _ in range(6):
            gray = np.full((160, 160), light) + rng.normal(0, 3, (160, 160))
            gray[frown] *= 0.6 if darken else 1.0
            out.append(shading.shape_free(gray.astype(np.uint8), points, reference))
        return out

    # the frowning faces are also lit brighter overall: the ratio keeps the frown, not the light
    ratios = shading.learn_ratios({"neutral": faces(False, 120.0), "angry": faces(True, 170.0)})
    at = np.round(shading.frame_points(neutral_shape[[9, 152]], frame)).astype(int)
    brow, chin = ratios["angry"][at[0, 1], at[0, 0]], ratios["angry"][at[1, 1], at[1, 0]]
    assert brow < -0.15 and abs(chin) < 0.03
    assert not ratios["neutral"].any()


def test_the_own_expressions_shading_is_taken_out_but_not_an_open_mouth_the_target_keeps() -> None:
    from moodshift.style.editing import expression as ex

    # a broad grin (fitted at 2.5 mean smiles) with its mouth open (0.5 of surprise's jaw drop)
    own = {"happy": 2.5, "surprise": 0.5}
    others = -ex.SHADING_CONTRAST * ex.SHADING_GAIN / 5  # each other expressive emotion's share
    sad = ex.shading_weights({"sad": 1.0}, own)      # sad closes the mouth: all of it goes
    assert sad == pytest.approx({"sad": ex.SHADING_GAIN, "angry": others, "disgust": others,
                                 "fear": others, "happy": others - ex.CANCEL_GAIN,
                                 "surprise": others - 0.5 * ex.CANCEL_GAIN})
    fear = ex.shading_weights({"fear": 1.0}, own)    # fear keeps it open: its dark stays
    assert fear == pytest.approx({"fear": ex.SHADING_GAIN, "angry": others, "disgust": others,
                                  "sad": others, "happy": others - ex.CANCEL_GAIN,
                                  "surprise": others})
    assert ex.shading_weights({"neutral": 1.0}, {}) == {"neutral": ex.SHADING_GAIN}


@needs_mesh
def test_shading_is_confined_to_the_face_and_scales_with_strength(astronaut) -> None:
    from moodshift.faces.mesh import load_face_mesh
    from moodshift.style.editing.expression import expression_shading
    from moodshift.style.editing.offsets import load_offsets

    image, box = astronaut
    points = load_face_mesh().landmarks(image, box).points[:, :2]
    eye = float(np.hypot(*(points[362] - points[133])))
    offsets = load_offsets()
    half = expression_shading(offsets, {"surprise": 1.0}, 0.5, points, image.shape[:2], eye)
    full = expression_shading(offsets, {"surprise": 1.0}, 1.0, points, image.shape[:2], eye)
    none = expression_shading(offsets, {"surprise": 1.0}, 0.0, points, image.shape[:2], eye)
    assert not none.any() and np.allclose(full, 2 * half, atol=1e-5)
    # surprise darkens the open mouth; nothing outside the mesh's bounding box changes
    mouth = np.round(points[[13, 14]].mean(0)).astype(int)
    assert full[mouth[1], mouth[0]] < -0.1
    x0, y0 = np.floor(points.min(0)).astype(int) - 2
    x1, y1 = np.ceil(points.max(0)).astype(int) + 2
    outside = np.ones(image.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert not full[outside].any()


@needs_mesh
def test_warp_keeps_background_pixels_and_zero_strength_returns_the_input(astronaut) -> None:
    from moodshift.faces.masks import grown_oval, polygon_mask
    from moodshift.faces.mesh import load_face_mesh
    from moodshift.style.editing.expression import edit_expressions
    from moodshift.style.editing.warp import MASK_RING

    image, box = astronaut
    same, edits, _ = edit_expressions(image, [box], {"surprise": 1.0}, 0.0)
    assert np.array_equal(same, image) and not edits[0].applied
    out, edits, _ = edit_expressions(image, [box], {"surprise": 1.0}, 1.0)
    assert edits[0].applied and edits[0].reason is None
    # the report says which ratio images shaded the face, and how strongly
    from moodshift.style.editing.expression import SHADING_GAIN
    assert edits[0].to_json()["ratio_images"]["surprise"] == pytest.approx(SHADING_GAIN)
    points = load_face_mesh().landmarks(image, box).points
    region = polygon_mask(image.shape[:2], [grown_oval(points, MASK_RING)], 0.0) > 0
    region = np.pad(region, 3, mode="edge")[3:-3, 3:-3]  # the polygon's anti-aliased edge
    grown = np.zeros_like(region)
    ys, xs = np.nonzero(region)
    grown[max(ys.min() - 3, 0):ys.max() + 4, max(xs.min() - 3, 0):xs.max() + 4] = True
    assert np.array_equal(out[~grown], image[~grown])
    assert np.abs(out[region].astype(int) - image[region]).mean() > 1.0
    assert edits[0].identity_distance is not None and edits[0].identity_distance < 0.05


@needs_mesh
def test_editing_toward_happy_raises_a_judges_happy_probability() -> None:
    if not _ready("faceapi-expression"):
        pytest.skip("face-api expression net not pulled")
    from moodshift.expression.load import load_expression_model
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import load_image
    from moodshift.style.editing.expression import edit_expressions

    image = load_image(ROOT / "examples" / "group.jpg")
    boxes = [d.box for d in load_detector().detect(image)]
    judge = load_expression_model("faceapi")
    happy = EMOTIONS.index("happy")
    before = judge.predict(image, boxes)[:, happy]
    face = int(np.argmin(before))  # the face that does not smile yet
    out, edits, _ = edit_expressions(image, [boxes[face]], {"happy": 1.0}, 1.0)
    after = judge.predict(out, [boxes[face]])[0, happy]
    assert edits[0].applied and after > before[face] + 0.3


@needs_mesh
def test_bad_inputs_are_skipped_with_a_reason(astronaut) -> None:
    from moodshift.style.editing.expression import edit_expressions

    image, (x, y, w, h) = astronaut
    tiny = image[::8, ::8].copy()
    _, [edit], _ = edit_expressions(tiny, [(x // 8, y // 8, w // 8, h // 8)], {"sad": 1.0}, 1.0)
    assert not edit.applied and "too small" in edit.reason
    cut = image[:, x + w // 2:].copy()  # half the face outside the frame
    _, [edit], _ = edit_expressions(cut, [(0, y, w - w // 2, h)], {"sad": 1.0}, 1.0)
    assert not edit.applied and edit.reason
    painting = np.full((200, 300, 3), 120, np.uint8)
    _, [edit], _ = edit_expressions(painting, [(50, 50, 100, 100)], {"sad": 1.0}, 1.0)
    assert not edit.applied and "mesh" in edit.reason
    grey = np.repeat(image.mean(2, keepdims=True).astype(np.uint8), 3, 2)
    out, [edit], _ = edit_expressions(grey, [(x, y, w, h)], {"angry": 1.0}, 1.0)
    assert edit.applied and out.shape == grey.shape


def _fake_mesh(wander: float, yaw: float = 0.0):
    """A face-mesh network whose points are the mean neutral face (eye distance 40 px) placed at
    the crop's centre plus ``wander`` times the crop's side: 0 settles at once, more never does
    (as a mesh stretched between two faces keeps moving). ``yaw``: the nose tip moved sideways
    until the mesh's yaw ratio is that."""
    from moodshift.faces.mesh import FaceMesh, Mesh
    from moodshift.style.editing.offsets import eye_centres, load_offsets

    shape = load_offsets().neutral.copy()
    right, left = eye_centres(shape)
    middle = (shape.min(0) + shape.max(0)) / 2  # the crop's centre is the points' box's
    shape = (shape - middle) * 40.0 / float(np.hypot(*(left - right)))
    cheek_r, cheek_l = shape[234, 0], shape[454, 0]
    shape[1, 0] = (cheek_r + cheek_l) / 2 + yaw * (cheek_l - cheek_r) / 2

    class Fake(FaceMesh):
        def __init__(self) -> None:
            pass

        def _run(self, image, centre, side, angle):
            where = np.asarray(centre) + (wander * side, 0.0)
            pts = np.concatenate([shape + where, np.zeros((len(shape), 1))], 1)
            return Mesh(pts.astype(np.float32), 1.0)

    return Fake()


def test_a_mesh_that_has_not_settled_on_one_face_is_not_used_to_warp() -> None:
    from moodshift.faces.mesh import MAX_DRIFT
    from moodshift.style.editing.expression import edit_expressions

    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    box = (150, 90, 100, 120)
    settled, wandering = _fake_mesh(0.0), _fake_mesh(0.05)
    mesh = settled.landmarks(image, box)
    assert settled.drift(image, mesh) < 1e-3
    mesh = wandering.landmarks(image, box)
    assert wandering.drift(image, mesh) > MAX_DRIFT
    out, [edit], meshes = edit_expressions(image, [box], {"angry": 1.0}, 1.0,
                                           mesh_model=wandering)
    assert not edit.applied and "not settled" in edit.reason
    assert np.array_equal(out, image) and meshes == []
    out, [edit], _ = edit_expressions(image, [box], {"angry": 1.0}, 1.0, mesh_model=settled)
    assert edit.applied and not np.array_equal(out, image)


def test_a_turned_face_is_edited_and_a_profile_skipped() -> None:
    """LFW's portraits include faces turned by a third of a profile (yaw ratio 0.5-0.7): they are
    edited; a face turned further is skipped, with the reason."""
    from moodshift.style.editing.expression import edit_expressions

    image = np.random.default_rng(1).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    box = (150, 90, 100, 120)
    turned = _fake_mesh(0.0, yaw=0.6)
    assert turned.landmarks(image, box).yaw_ratio == pytest.approx(0.6, abs=0.01)
    out, [edit], _ = edit_expressions(image, [box], {"sad": 1.0}, 1.0, mesh_model=turned)
    assert edit.applied and not np.array_equal(out, image)
    out, [edit], _ = edit_expressions(image, [box], {"sad": 1.0}, 1.0,
                                      mesh_model=_fake_mesh(0.0, yaw=0.9))
    assert not edit.applied and "profile" in edit.reason and np.array_equal(out, image)


@needs_mesh
def test_the_mesh_settles_on_a_real_face(astronaut) -> None:
    from moodshift.faces.mesh import MAX_DRIFT, load_face_mesh

    image, box = astronaut
    mesh_net = load_face_mesh()
    assert mesh_net.drift(image, mesh_net.landmarks(image, box)) < MAX_DRIFT / 3


@needs_mesh
def test_several_faces_are_edited_each_in_place(astronaut) -> None:
    from moodshift.style.editing.expression import edit_expressions

    image, (x, y, w, h) = astronaut
    crop = image[max(y - h // 2, 0):y + 2 * h, max(x - w // 2, 0):x + 2 * w // 1]
    tiles = np.concatenate([crop] * 3, axis=1)
    step = crop.shape[1]
    ox, oy = x - max(x - w // 2, 0), y - max(y - h // 2, 0)
    boxes = [(ox + i * step, oy, w, h) for i in range(3)]
    out, edits, _ = edit_expressions(tiles, boxes, {"surprise": 1.0}, 1.0)
    assert [e.applied for e in edits] == [True, True, True]
    left, right = out[:, :step], out[:, 2 * step:]
    assert np.array_equal(left, right)  # same face, same edit, nothing leaks across


def test_region_strengths_are_checked() -> None:
    from moodshift.style.editing.portrait import RegionStrengths
    with pytest.raises(UserError, match="face-strength"):
        RegionStrengths(face=1.5)
    assert RegionStrengths(1.0, 1.0, 1.0).uniform


def test_without_a_person_matte_a_face_gets_its_own_strength_and_the_rest_the_background() -> None:
    """The selfie matte is optional (`models pull`); without it nothing may count as "person",
    least of all with a negative share that lets the scene's strokes onto the face."""
    from moodshift.faces.masks import portrait_masks
    from moodshift.style.editing.portrait import _ellipse_points

    oval = _ellipse_points((18, 14, 28, 36))     # the outline a face without a mesh gets
    masks = portrait_masks(np.zeros((64, 64, 3), np.uint8), [oval], None)
    assert masks.face[32, 32] == pytest.approx(1.0) and masks.face[2, 2] == 0.0
    assert masks.person.min() >= 0.0 and masks.person.max() == 0.0
    assert np.allclose(masks.face + masks.person + masks.background, 1.0)
    weights = masks.face * 0.0 + masks.person * 0.7 + masks.background * 1.0
    assert weights[32, 32] == pytest.approx(0.0) and weights[2, 2] == pytest.approx(1.0)


def test_the_whole_forehead_is_face_not_only_the_mesh_oval() -> None:
    """The mesh's oval stops partway up the forehead; the skin above it is face too (it got
    the person's strokes: a band of mosaic under the hairline). The chin is not moved."""
    from moodshift.faces.masks import FACE_OVAL, face_outline, portrait_masks
    from moodshift.style.editing.offsets import load_offsets

    shape = np.asarray(load_offsets().neutral)[:, :2]
    points = (shape - shape.min(0)) / np.ptp(shape, 0).max() * 120 + 40
    oval = points[list(FACE_OVAL)]
    height = float(np.ptp(oval[:, 1]))
    top, chin = points[10], points[152]
    masks = portrait_masks(np.zeros((200, 200, 3), np.uint8), [points], None)
    above = np.round(top - (0, 0.06 * height)).astype(int)     # above the oval, below the lift
    assert masks.face[above[1], above[0]] > 0.9
    lowest = face_outline(points)[:, 1].max()
    assert lowest == pytest.approx(chin[1] + 0.05 * (chin[1] - oval[:, 1].mean()), abs=2.0)


@needs_mesh
def test_thirty_faces_and_a_face_larger_than_the_frame_are_handled(astronaut) -> None:
    from moodshift.style.editing.expression import edit_expressions

    image, (x, y, w, h) = astronaut
    face = image[max(y - h // 4, 0):y + h + h // 4, max(x - w // 4, 0):x + w + w // 4]
    fh, fw = face.shape[:2]
    crowd = np.tile(face, (5, 6, 1))
    boxes = [(c * fw + w // 4, r * fh + h // 4, w, h) for r in range(5) for c in range(6)]
    out, edits, _ = edit_expressions(crowd, boxes, {"angry": 1.0}, 1.0)
    assert len(edits) == 30 and out.shape == crowd.shape
    assert all(e.applied or e.reason for e in edits)
    zoomed = image[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4]  # the box exceeds it
    out, [edit], _ = edit_expressions(zoomed, [(-w // 4, -h // 4, w, h)], {"sad": 1.0}, 1.0)
    assert out.shape == zoomed.shape and (edit.applied or edit.reason)


@pytest.mark.skipif(not _ready("mediapipe-face-mesh", "mediapipe-selfie"),
                    reason="face mesh / selfie matte not pulled (moodshift models pull)")
def test_loading_the_mesh_network_writes_nothing_on_stderr() -> None:
    """The LiteRT runtime's own "INFO: Created TensorFlow Lite XNNPACK delegate" line (written by
    C++ to fd 2) must not reach the user."""
    import subprocess
    import sys

    code = ("from moodshift.faces.mesh import FaceMesh; FaceMesh(); "
            "from moodshift.faces.masks import SelfieSegmenter; SelfieSegmenter()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == ""


@needs_mesh
def test_train_expression_offsets_writes_offsets_and_ratio_images(tmp_path: Path, capsys) -> None:
    import json

    from moodshift.cli import main
    from moodshift.style.editing.offsets import load_offsets

    data = tmp_path / "faces"
    data.mkdir()
    for name in ("astronaut.png", "group.jpg"):
        shutil.copy(ROOT / "examples" / name, data / name)
    (data / "labels.csv").write_text("image,emotion\nastronaut.png,neutral\ngroup.jpg,happy\n")
    out = tmp_path / "offsets.safetensors"
    assert main(["train", "expression-offsets", "--data", str(data), "-o", str(out),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["faces"]["neutral"] == 1 and summary["faces"]["happy"] == 1
    learned = load_offsets(str(out))
    assert set(learned.shading) == {"neutral", "happy"}
    assert learned.shading["happy"].shape == (64, 64) and learned.shading["happy"].any()
    # a folder of unlabelled files: one line, exit 2, nothing written
    (tmp_path / "empty").mkdir()
    again = tmp_path / "again.safetensors"
    assert main(["train", "expression-offsets", "--data", str(tmp_path / "empty"), "-o",
                 str(again)]) == 2
    assert not again.exists() and "no labelled faces" in capsys.readouterr().err


def _neutral_face_px(eye_px: float = 60.0) -> np.ndarray:
    """The shipped mean neutral mesh in pixels of a 400 px image (eye centres eye_px apart)."""
    from moodshift.style.editing.offsets import load_offsets
    return load_offsets().neutral * eye_px + 200.0


def _area_ratios(points: np.ndarray, moves: np.ndarray, crop, collapsible=()) -> np.ndarray:
    from moodshift.style.editing.warp import checked_triangles, signed_areas
    src, tris = checked_triangles(points, crop, collapsible)
    after = src.copy()
    after[:len(points)] += moves
    return signed_areas(after, tris) / signed_areas(src, tris)


def test_untangle_leaves_no_triangle_folded_and_keeps_moves_that_fold_nothing() -> None:
    from moodshift.faces.masks import LIPS_INNER
    from moodshift.style.editing.warp import MIN_AREA_RATIO, face_crop, untangle

    points = _neutral_face_px()
    crop = face_crop(points, (400, 400))
    rng = np.random.default_rng(0)
    wild = rng.normal(0.0, 6.0, points.shape)  # a tenth of the eye distance, every point its own way
    assert (_area_ratios(points, wild, crop) < 0).sum() > 50
    fixed = untangle(points, wild, crop, LIPS_INNER)
    ratios = _area_ratios(points, fixed, crop, LIPS_INNER)
    assert ratios.min() >= MIN_AREA_RATIO - 1e-9
    assert np.abs(fixed).mean() > 0.3 * np.abs(wild).mean()  # the moves are tamed, not dropped
    gentle = np.tile([1.5, -1.0], (len(points), 1))  # the face shifted as one
    assert np.array_equal(untangle(points, gentle, crop, LIPS_INNER), gentle)


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_each_prototype_as_warped_folds_no_lip_and_a_jaw_drop_leaves_the_upper_lip(
        emotion: str) -> None:
    from moodshift.faces.masks import LIPS_INNER
    from moodshift.style.editing.offsets import load_offsets
    from moodshift.style.editing.templates import LOWER_LIP, UPPER_LIP, emotion_displacement
    from moodshift.style.editing.warp import checked_triangles, face_crop, untangle

    neutral = load_offsets().neutral
    points = _neutral_face_px()
    crop = face_crop(points, (400, 400))
    moves = untangle(points, 60.0 * emotion_displacement({emotion: 1.0}, neutral, neutral),
                     crop, LIPS_INNER)
    _, tris = checked_triangles(points, crop, LIPS_INNER)
    on_lips = np.isin(tris, (*UPPER_LIP, *LOWER_LIP)).all(1)
    assert on_lips.sum() > 50
    assert _area_ratios(points, moves, crop, LIPS_INNER)[on_lips].min() > 0
    if emotion == "surprise":  # the jaw drops: the lower lip goes down, the upper lip stays
        assert moves[14, 1] > 10.0 and abs(moves[13, 1]) < 0.2 * moves[14, 1]


def test_hiding_teeth_never_paints_past_the_lips_colour() -> None:
    """An edit stronger than 1 (generated faces' disgust) hides teeth exactly as 1 does: the
    blend used to overshoot into blotchy dark red."""
    import cv2

    from moodshift.faces.masks import LIPS_OUTER
    from moodshift.style.editing import texture
    from moodshift.style.editing.offsets import load_offsets

    shape = np.asarray(load_offsets().neutral)[:, :2]
    points = (shape - shape.min(0)) / np.ptp(shape, 0).max() * 160 + 20
    image = np.full((200, 200, 3), 200, np.uint8)
    cv2.fillPoly(image, [np.round(points[list(LIPS_OUTER)]).astype(np.int32)], (170, 70, 75))
    mid = np.round((points[13] + points[14]) / 2).astype(int)
    image[mid[1] - 2:mid[1] + 3, mid[0] - 8:mid[0] + 9] = (245, 240, 230)   # teeth
    eye = 60.0
    once = texture.hide_teeth(image, points, eye, 1.0)
    assert np.abs(once.astype(int) - image.astype(int)).max() > 40     # the teeth were painted
    np.testing.assert_array_equal(texture.hide_teeth(image, points, eye, 1.75), once)


def test_hidden_teeth_become_lips_with_the_gaps_beside_them() -> None:
    """A grin asked to close: its teeth and the dark gaps beside them turn into lip-coloured
    lips (the teeth were painted one flat colour, which read as a grey moustache, and the gaps
    stayed), and nothing away from the mouth changes."""
    import cv2

    from moodshift.faces.masks import LIPS_OUTER, polygon_mask
    from moodshift.style.editing import texture
    from moodshift.style.editing.offsets import load_offsets

    shape = np.asarray(load_offsets().neutral)[:, :2]
    points = (shape - shape.min(0)) / np.ptp(shape, 0).max() * 160 + 20
    image = np.full((200, 200, 3), 200, np.uint8)
    cv2.fillPoly(image, [np.round(points[list(LIPS_OUTER)]).astype(np.int32)], (170, 70, 75))
    mid = np.round((points[13] + points[14]) / 2).astype(int)
    image[mid[1] - 3:mid[1] + 4, mid[0] - 14:mid[0] + 15] = (35, 20, 20)    # the dark gaps
    image[mid[1] - 2:mid[1] + 3, mid[0] - 8:mid[0] + 9] = (245, 240, 230)   # teeth
    out = texture.hide_teeth(image, points, 60.0, 1.0).astype(int)
    block = out[mid[1] - 3:mid[1] + 4, mid[0] - 14:mid[0] + 15]
    red = block[..., 0] - block[..., 1]
    assert red.mean() > 60 and block.max(axis=-1).min() > 90   # lip-red, no teeth, no dark gap
    lips = polygon_mask((200, 200), [points[list(LIPS_OUTER)]], 0.0) > 0.5
    away = cv2.dilate(lips.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    np.testing.assert_array_equal(out[away], image[away])


def test_disgust_holds_the_brows_still_where_anger_lowers_them() -> None:
    """Lowered brows are anger's (disgust lowered them twice as far as anger before)."""
    from moodshift.style.editing import expression as ex
    from moodshift.style.editing.offsets import load_offsets

    offsets, eye_px = load_offsets(), 60.0
    points = np.concatenate([_neutral_face_px(eye_px), np.zeros((468, 1))], 1)
    image = np.full((400, 400, 3), 128, np.uint8)
    brows = list(ex.BROW_POINTS)

    def brow_drop(emotion: str) -> float:
        _, moved, _ = ex.edit_face(image, points, {emotion: 1.0}, 1.0, offsets)
        return float(np.mean(moved[brows, 1] - points[brows, 1])) / eye_px

    assert abs(brow_drop("disgust")) < 0.005
    assert brow_drop("angry") > 0.02
    learned = ex.learned_offsets(offsets, "disgust")
    assert not learned[brows].any() and np.abs(learned).sum() > 0   # the rest still moves


def test_only_happy_carries_the_smiles_action_units() -> None:
    """Cheek raiser and lip corner puller (AU 6, 12) are the smile; readers named faces that
    other prototypes gave a trace of them happy."""
    from moodshift.style.editing.templates import PROTOTYPES

    assert {6, 12} <= set(PROTOTYPES["happy"])
    for emotion, units in PROTOTYPES.items():
        if emotion != "happy":
            assert not {6, 12} & {u for u, v in units.items() if v}, emotion
