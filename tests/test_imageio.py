"""Every kind of bad or unusual input either loads correctly or fails with one clear line."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.errors import InputFileError, UserError
from moodshift.imageio import load_image, load_image_with_alpha, save_image
from moodshift.outputs import plan_outputs


def _jpeg_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


@pytest.mark.parametrize("make, problem", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("hello, I am not a picture\n"), "not a recognised image"),
    (lambda p: p.write_bytes(_jpeg_bytes(Image.new("RGB", (64, 64), "red"))[:300]),
     "truncated or corrupt"),
])
def test_bad_files_raise_one_line_naming_the_file(tmp_path: Path, make, problem: str) -> None:
    path = tmp_path / "photo.jpg"
    make(path)
    with pytest.raises(InputFileError) as info:
        load_image(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (8000, 7000)).save(path)  # 56 MP of zeros: tiny file, huge bitmap
    assert path.stat().st_size < 2_000_000
    with pytest.raises(InputFileError, match="megapixels"):
        load_image(path)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(path)  # pure red in CMYK
    img = load_image(path)
    assert img.shape == (30, 40, 3) and img.dtype == np.uint8
    r, g, b = img[15, 20].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16)[None, :].repeat(8, axis=0)
    Image.fromarray(ramp).save(path)
    img = load_image(path)
    assert img.shape == (8, 64, 3)
    assert img[0, 0, 0] == 0 and img[0, -1, 0] == 255 and 120 < img[0, 32, 0] < 136


def test_palette_png_with_transparency_is_composited_on_white(tmp_path: Path) -> None:
    path = tmp_path / "pal.png"
    pal = Image.new("P", (10, 10), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.putpixel((5, 5), 1)
    pal.save(path, transparency=0)
    img = load_image(path)
    assert tuple(img[0, 0]) == (255, 255, 255) and tuple(img[5, 5]) == (255, 0, 0)


def test_alpha_is_returned_only_when_something_is_transparent(tmp_path: Path) -> None:
    rgba = np.full((8, 12, 4), 200, np.uint8)
    rgba[:, :, 3] = 255
    rgba[:, :3, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "cut.png")
    Image.fromarray(np.full((8, 12, 4), 255, np.uint8)).save(tmp_path / "opaque.png")
    img, alpha = load_image_with_alpha(tmp_path / "cut.png")
    assert img.shape == (8, 12, 3) and tuple(img[0, 0]) == (255, 255, 255)  # onto white
    assert alpha is not None and alpha[:, :3].max() == 0 and alpha[:, 3:].min() == 255
    assert load_image_with_alpha(tmp_path / "opaque.png")[1] is None


def test_a_transparent_colour_key_is_transparency_too(tmp_path: Path) -> None:
    rgb = np.full((6, 8, 3), 40, np.uint8)
    rgb[:, :2] = (0, 255, 0)
    Image.fromarray(rgb).save(tmp_path / "keyed.png", transparency=(0, 255, 0))
    img, alpha = load_image_with_alpha(tmp_path / "keyed.png")
    assert tuple(img[0, 0]) == (255, 255, 255) and tuple(img[0, 5]) == (40, 40, 40)
    assert alpha is not None and alpha[:, :2].max() == 0 and alpha[:, 2:].min() == 255


def test_soft_edges_come_back_without_a_white_fringe(tmp_path: Path) -> None:
    """An untouched picture saved with its own alpha gives back its colours where it was
    partly transparent (the white it was composited onto is taken out again)."""
    rgba = np.zeros((4, 64, 4), np.uint8)
    rgba[..., :3] = (200, 30, 60)
    rgba[..., 3] = np.linspace(0, 255, 64).astype(np.uint8)   # a feathered edge
    Image.fromarray(rgba).save(tmp_path / "soft.png")
    img, alpha = load_image_with_alpha(tmp_path / "soft.png")
    save_image(img, tmp_path / "back.png", alpha=alpha)
    back = np.asarray(Image.open(tmp_path / "back.png")).astype(int)
    visible = rgba[..., 3] >= 64
    assert np.abs(back[..., :3][visible] - rgba[..., :3][visible]).max() <= 2
    assert (back[..., 3] == rgba[..., 3]).all()


@pytest.mark.parametrize("suffix, mode", [(".png", "RGBA"), (".webp", "RGBA"), (".jpg", "RGB")])
def test_saved_alpha_makes_the_output_transparent_where_it_can(tmp_path: Path, suffix: str,
                                                               mode: str) -> None:
    img = np.zeros((6, 10, 3), np.uint8)
    alpha = np.full((3, 5), 255, np.uint8)  # a smaller alpha (a resized picture) is scaled
    alpha[:, 0] = 0
    path = tmp_path / f"out{suffix}"
    save_image(img, path, alpha=alpha)
    with Image.open(path) as saved:
        assert saved.mode == mode and saved.size == (10, 6)
        if mode == "RGBA":
            a = np.asarray(saved)[:, :, 3]
            assert a[:, 0].max() == 0 and a[:, -1].min() == 255


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.new("RGB", (60, 20), "blue").save(path, exif=exif)
    assert load_image(path).shape == (60, 20, 3)


def test_animated_gif_gives_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "lime", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, b = load_image(path)[8, 8].astype(int)
    assert r > 200 and g < 50 and b < 50


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "result.png"
    save_image(np.zeros((5, 7, 3), np.uint8), target)
    assert load_image(target).shape == (5, 7, 3)
    assert [p.name for p in target.parent.iterdir()] == ["result.png"]


def test_unwritable_output_location_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(UserError, match="file.txt"):
        save_image(np.zeros((4, 4, 3), np.uint8), blocker / "sub" / "out.png")


def test_output_planning_never_overwrites_an_input(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    with pytest.raises(UserError, match="overwrite an input"):
        plan_outputs([str(src)], str(src), "sad")
    assert plan_outputs([str(src)], str(tmp_path / "o"), "sad") == [str(tmp_path / "o" / "a.sad.png")]
    with pytest.raises(UserError, match="output folder"):
        plan_outputs([str(src), str(src)], str(tmp_path / "x.png"), "sad")


def test_an_output_name_that_is_no_image_file_is_refused_not_made_a_folder(tmp_path: Path
                                                                           ) -> None:
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    for name, problem in (("out.txt", "not an image file name"),
                          ("out.gif", "reads but does not write")):
        with pytest.raises(UserError, match=problem):
            plan_outputs([str(src)], str(tmp_path / name), "sad")
        assert not (tmp_path / name).exists()
    (tmp_path / "out.txt").mkdir()  # an existing folder keeps whatever name it has
    assert plan_outputs([str(src)], str(tmp_path / "out.txt"), "sad") == [
        str(tmp_path / "out.txt" / "a.sad.png")]
    # a new folder may have a dot in its name, and a trailing separator always means a folder
    for name in ("2024.06.01", "res_v0.3", "out.d/", "x.png/"):
        planned = plan_outputs([str(src)], str(tmp_path / "runs") + "/" + name, "sad")
        assert planned == [str(tmp_path / "runs" / name.rstrip("/") / "a.sad.png")]
    with pytest.raises(UserError, match="--annotate takes"):
        plan_outputs([str(src)], str(tmp_path / "boxes.json"), "annotated", option="--annotate")


def test_png_metadata_round_trips_and_other_files_have_none(tmp_path):
    from moodshift.imageio import read_metadata, save_image

    img = np.zeros((8, 8, 3), np.uint8)
    save_image(img, tmp_path / "a.png", metadata={"emotion": "sad", "target_vad": {"valence": -0.6}})
    save_image(img, tmp_path / "b.jpg", metadata={"emotion": "sad"})
    assert read_metadata(tmp_path / "a.png") == {"emotion": "sad", "target_vad": {"valence": -0.6}}
    assert read_metadata(tmp_path / "b.jpg") == {}


def test_metadata_of_an_unreadable_file_is_a_user_error(tmp_path):
    from moodshift.imageio import read_metadata

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(InputFileError, match="bad.png: cannot read image"):
        read_metadata(bad)
