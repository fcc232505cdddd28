"""Emotion styles: palette data, procedural styles, full-resolution engines, colour options and
the product rule that 'sad' lowers and 'happy' raises the measured colour valence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest
from PIL import Image

from moodshift.emotions import EMOTION_VAD, EMOTIONS
from moodshift.errors import UserError
from moodshift.mood import measure_mood
from moodshift.style import (
    emotion_mix,
    load_palette,
    procedural,
    render_contact_sheet,
    style_image_for,
    stylize_image,
)
from moodshift.style.color import Grade, apply_grade, blend, preserve_color, rgb_to_ycbcr
from moodshift.style.engines import fast
from moodshift.style.procedural import generate_style, recipe


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOODSHIFT_CACHE", str(folder))
        yield folder


def face(width: int, height: int, background: tuple[int, int, int], skin: tuple[int, int, int],
         seed: int = 0) -> np.ndarray:
    """Portrait-ish test picture: hair, a skin-toned oval face, eyes, mouth, shoulders, noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    img[:] = background
    cx, cy = width // 2, int(height * 0.45)
    ax, ay = int(width * 0.27), int(height * 0.33)
    cv2.ellipse(img, (cx, height), (int(width * 0.45), int(height * 0.3)), 0, 0, 360,
                (60, 70, 110), -1)
    cv2.ellipse(img, (cx, cy - ay // 4), (ax + 6, ay + 6), 0, 0, 360, (50, 35, 25), -1)
    cv2.ellipse(img, (cx, cy), (ax, ay), 0, 0, 360, skin, -1)
    for ex in (cx - ax // 2, cx + ax // 2):
        cv2.ellipse(img, (ex, cy - ay // 5), (ax // 6, ay // 12), 0, 0, 360, (35, 30, 30), -1)
    cv2.ellipse(img, (cx, cy + ay // 2), (ax // 3, ay // 10), 0, 0, 360, (150, 70, 70), -1)
    noisy = img.astype(np.float32) + rng.normal(0, 5, img.shape)
    return cv2.GaussianBlur(np.clip(noisy, 0, 255).astype(np.uint8), (3, 3), 0)


PORTRAITS = {
    "mid grey": face(160, 200, (120, 125, 120), (205, 160, 130)),
    "dark room": face(150, 150, (35, 35, 45), (150, 105, 85), seed=1),
    "bright studio": face(180, 160, (225, 225, 215), (235, 195, 170), seed=2),
    "green wall": face(140, 180, (70, 120, 80), (120, 85, 60), seed=3),
}


# ---- palette ---------------------------------------------------------------------------------

def test_default_palette_is_complete() -> None:
    palette = load_palette()
    assert set(palette.entries) == set(EMOTIONS)
    for emotion in EMOTIONS:
        entry = palette[emotion]
        assert entry.is_procedural and entry.engine == "arbitrary"
        assert 0.0 <= entry.strength <= 1.0
    assert palette["joy"] is palette["happy"]
    assert palette.to_json()["emotions"]["sad"]["grade"]["saturation"] < 1.0


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_override_merges_over_defaults(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "paint.png")
    user = write(tmp_path / "mine.toml", """
[sad]
strength = 0.5
[sad.grade]
saturation = 0.3
[joy]
style = "paint.png"
[fear]
engine = "multistyle26"
weights = { 3 = 1, 12 = 3 }
""")
    default, merged = load_palette(), load_palette(user)
    assert merged.sources[-1] == user
    sad = merged["sad"]
    assert sad.strength == 0.5 and sad.grade.saturation == 0.3
    assert sad.grade.brightness == default["sad"].grade.brightness  # untouched key kept
    assert merged["happy"].style == str((tmp_path / "paint.png").resolve())
    assert merged["fear"].weights is not None and merged["fear"].weights[12] == pytest.approx(0.75)
    assert merged["angry"] == default["angry"]


@pytest.mark.parametrize("text, expected", [
    ("[sadness]\nstrenght = 0.5\n", "'strenght'"),
    ("[grumpy]\nstrength = 0.5\n", "[grumpy]"),
    ("[sad.grade]\nbrightnes = 1\n", "'brightnes'"),
    ("[sad]\nstrength = 1.5\n", "[sad].strength"),
    ("[sad]\ntexture = -0.1\n", "[sad].texture"),
    ("[sad]\nengine = 'vgg'\n", "[sad].engine"),
    ("[sad]\ntone = 'loud'\n", "[sad].tone"),
    ("[sad]\nengine = 'multistyle26'\n", "sets no weights"),
    ("[sad]\nweights = { 30 = 1 }\n", "[sad].weights"),
    ("[sad]\nstyle = 'missing.jpg'\n", "no such image file"),
    ("[sad\nstrength = 1\n", "invalid TOML"),
])
def test_palette_errors_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(UserError) as err:
        load_palette(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_palette_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such palette file"):
        load_palette(tmp_path / "nope.toml")


def test_contact_sheet_layout() -> None:
    photo = PORTRAITS["mid grey"]
    sheet = render_contact_sheet(photo, load_palette(), lambda img, emotion: img, tile=64)
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    assert sheet.shape[1] > 7 * 64 and sheet.shape[0] > 2 * 64


# ---- procedural styles -----------------------------------------------------------------------

def test_procedural_styles_deterministic_and_distinct(private_cache: Path) -> None:
    procedural._MEMORY.clear()  # earlier tests may have filled it from another cache
    images = {e: style_image_for(e) for e in EMOTIONS}
    for img in images.values():
        assert img.shape == (procedural.DEFAULT_SIZE,) * 2 + (3,) and img.dtype == np.uint8
    for i, a in enumerate(EMOTIONS):
        for b in EMOTIONS[i + 1:]:
            assert np.abs(images[a].astype(int) - images[b]).mean() > 10, (a, b)
    again = generate_style(EMOTION_VAD["fear"], 256, seed=5)
    assert np.array_equal(again, generate_style(EMOTION_VAD["fear"], 256, seed=5))
    assert not np.array_equal(again, generate_style(EMOTION_VAD["fear"], 256, seed=6))
    procedural._MEMORY.clear()  # the disk cache gives back the very same pixels
    assert list((private_cache / "styles").glob("sad-*.png"))
    assert np.array_equal(style_image_for("sad"), images["sad"])


def test_recipe_follows_affect() -> None:
    happy, sad = recipe(EMOTION_VAD["happy"]), recipe(EMOTION_VAD["sad"])
    angry = recipe(EMOTION_VAD["angry"])
    assert happy.lightness > sad.lightness and happy.chroma > sad.chroma
    assert angry.strokes > sad.strokes and angry.length < sad.length and angry.jag > sad.jag
    happy_v = measure_mood(style_image_for("happy")).valence
    assert happy_v > measure_mood(style_image_for("sad")).valence


# ---- engines at full resolution --------------------------------------------------------------

@pytest.mark.parametrize("height, width", [(200, 300), (157, 201), (7, 5)])
def test_full_resolution_sizes(height: int, width: int, private_cache: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    fast._VECTOR_CACHE.clear()  # an earlier test module may hold the vector in memory only
    vec = fast.style_vector(style_image_for("angry"))
    assert vec.shape == (100,) and list((private_cache / "vectors").glob("*.npy"))
    assert fast.stylize_arbitrary(img, vec).shape == img.shape
    assert fast.stylize_multistyle(img, {4: 1.0}).shape == img.shape


def test_tiled_path_matches_size_and_roughly_the_full_render() -> None:
    img = PORTRAITS["mid grey"]
    vec = fast.style_vector(style_image_for("happy"))
    full = fast.stylize_arbitrary(img, vec)
    tiled = fast.stylize_arbitrary(img, vec, max_full_pixels=5000, tile=96)
    assert tiled.shape == img.shape
    assert np.abs(tiled.astype(int) - full).mean() < 30


def test_shape_rewrite_and_float_model_match_int8() -> None:
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort

    src = fast._model_file("arbitrary_transform.onnx").read_bytes()
    dynamic = fast.dynamic_transform_bytes(src)
    model = onnx.load_from_string(dynamic)
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (model.graph.input[0], model.graph.output[0])]
    assert dims == [[1, "height", "width", 3]] * 2
    int8 = ort.InferenceSession(dynamic, providers=["CPUExecutionProvider"])
    x = PORTRAITS["green wall"][:128, :128].astype(np.float32)[None] / 255.0
    vec = fast.style_vector(style_image_for("surprise")).reshape(1, 1, 1, 100)
    names = [i.name for i in int8.get_inputs()]
    ref = int8.run(None, {names[0]: x, names[1]: vec})[0][0]
    ours = fast.stylize_arbitrary(PORTRAITS["green wall"][:128, :128], vec) / np.float32(255)
    assert fast.arbitrary_precision() == "float32"
    # float32 drops the int8 activation rounding: the same picture within a few grey levels
    assert np.abs(ours - ref).mean() < 0.06
    assert np.corrcoef(ours.ravel(), ref.ravel())[0, 1] > 0.95


def test_int8_fallback_without_onnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    fast._transform_model.cache_clear()
    fast._session.cache_clear()
    try:
        assert fast.arbitrary_precision() == "int8"
        img = PORTRAITS["dark room"][:61, :83]
        out = fast.stylize_arbitrary(img, fast.style_vector(style_image_for("sad")))
        assert out.shape == img.shape
    finally:
        fast._transform_model.cache_clear()
        fast._session.cache_clear()


def test_full_resolution_is_sharper_than_upscaling() -> None:
    rng = np.random.default_rng(4)
    img = cv2.resize(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), (768, 576),
                     interpolation=cv2.INTER_NEAREST)
    vec = fast.style_vector(style_image_for("fear"))
    full = fast.stylize_arbitrary(img, vec)
    small = cv2.resize(img, (384, 288), interpolation=cv2.INTER_AREA)
    upscaled = cv2.resize(fast.stylize_arbitrary(small, vec), (768, 576),
                          interpolation=cv2.INTER_LANCZOS4)

    def detail(x: np.ndarray) -> float:
        grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(cv2.Laplacian(grey, cv2.CV_32F).var())

    assert detail(full) > 2 * detail(upscaled)


# ---- colour options and the stylize_image front door ----------------------------------------

def test_strength_zero_returns_input() -> None:
    img = PORTRAITS["dark room"]
    assert np.array_equal(stylize_image(img, "angry", strength=0.0), img)
    assert np.array_equal(blend(img, 255 - img, 0.0), img)
    assert np.array_equal(blend(img, 255 - img, 1.0), 255 - img)
    with pytest.raises(UserError):
        stylize_image(img, "angry", strength=1.5)


def test_texture_takes_the_strokes_away_and_keeps_the_grade(tmp_path: Path) -> None:
    from moodshift.style.color import finish

    img = PORTRAITS["bright studio"]
    none = load_palette(write(tmp_path / "clean.toml", "[sad]\ntexture = 0\n"))
    half = load_palette(write(tmp_path / "half.toml", "[sad]\ntexture = 0.5\n"))
    assert none["sad"].texture == 0.0 and load_palette()["sad"].texture == 1.0
    # no strokes: exactly the photo graded for sad at the palette's strength
    clean = stylize_image(img, "sad", none)
    assert np.array_equal(clean, finish(img, img, none["sad"].grade, none["sad"].strength))
    full = stylize_image(img, "sad", load_palette())
    halfway = stylize_image(img, "sad", half)
    assert 0 < np.abs(halfway.astype(int) - clean).mean() < np.abs(full.astype(int) - clean).mean()


def test_preserve_color_keeps_chroma() -> None:
    img = PORTRAITS["green wall"]
    out = stylize_image(img, "fear", strength=1.0, preserve_color=True)
    assert out.shape == img.shape
    chroma_in, chroma_out = rgb_to_ycbcr(img)[..., 1:], rgb_to_ycbcr(out)[..., 1:]
    assert np.abs(chroma_out - chroma_in).mean() < 2.0
    # without it the style's own colours come through
    plain = stylize_image(img, "fear", strength=1.0, preserve_color=False)
    assert np.abs(rgb_to_ycbcr(plain)[..., 1:] - chroma_in).mean() > 3.0
    direct = preserve_color(img, 255 - img)
    assert np.abs(rgb_to_ycbcr(direct)[..., 1:] - chroma_in).mean() < 2.0


def test_grade_directions() -> None:
    img = PORTRAITS["mid grey"]
    lighter = apply_grade(img, Grade(brightness=1.2))
    duller = apply_grade(img, Grade(saturation=0.3))
    assert lighter.mean() > img.mean()
    assert np.abs(rgb_to_ycbcr(duller)[..., 1:] - 128).mean() < np.abs(
        rgb_to_ycbcr(img)[..., 1:] - 128).mean()
    assert np.array_equal(apply_grade(img, Grade()), img)


@pytest.mark.parametrize("name", list(PORTRAITS))
def test_sad_lowers_and_happy_raises_valence(name: str) -> None:
    img = PORTRAITS[name]
    before = measure_mood(img).valence
    assert measure_mood(stylize_image(img, "sad")).valence < before - 0.02
    assert measure_mood(stylize_image(img, "happy")).valence > before + 0.02


def test_emotion_blends_and_multistyle_entries(tmp_path: Path) -> None:
    img = PORTRAITS["bright studio"]
    assert emotion_mix({"joy": 3, "sad": 1}) == {"happy": 0.75, "sad": 0.25}
    with pytest.raises(UserError):
        emotion_mix({"happy": -1})
    with pytest.raises(UserError):
        stylize_image(img, "bored")
    mixed = stylize_image(img, {"happy": 0.5, "surprise": 0.5})
    assert mixed.shape == img.shape
    user = write(tmp_path / "p.toml", "[happy]\nengine = 'multistyle26'\nweights = { 7 = 1 }\n"
                                      "[sad]\nengine = 'multistyle26'\nweights = { 2 = 1 }\n")
    palette = load_palette(user)
    assert stylize_image(img, "happy", palette).shape == img.shape
    assert stylize_image(img, {"happy": 1, "sad": 1}, palette).shape == img.shape
    assert stylize_image(img, "happy", style_image=style_image_for("fear")).shape == img.shape
