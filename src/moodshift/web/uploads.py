"""Turning an upload (or a bundled example) into an RGB array, judged by decoding, not by name.

The bytes go through moodshift's own loader (EXIF rotation, every colour mode, the first frame),
in memory: nothing a user sends is kept.
"""

from __future__ import annotations

import io
import re
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from moodshift.errors import UserError
from moodshift.web.errors import ApiError

EXAMPLES = {"astronaut": ("astronaut.png", "Astronaut portrait (NASA, public domain)")}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def example_bytes(name: str) -> bytes:
    if name not in EXAMPLES:
        raise ApiError(404, f"example {name[:40]!r}: no such example; choose one of "
                            f"{', '.join(EXAMPLES)}")
    return resources.files("moodshift").joinpath("data", EXAMPLES[name][0]).read_bytes()


def display_name(filename: str | None, fallback: str = "upload") -> str:
    """A file name safe to echo back (reports, download names): no path, no markup."""
    base = Path((filename or "").replace("\\", "/")).name
    clean = _SAFE_NAME.sub("_", base).strip(" .")[:80]
    return clean or fallback


def decode_image(data: bytes, name: str, max_pixels: int) -> np.ndarray:
    """RGB uint8 (H, W, 3); 415 when the bytes are not an image, 413 when it has too many
    pixels (read from the header, before any pixel is decoded)."""
    return _decode(data, name, max_pixels, with_alpha=False)[0]


def decode_image_with_alpha(data: bytes, name: str,
                            max_pixels: int) -> tuple[np.ndarray, np.ndarray | None]:
    """decode_image's RGB and the upload's alpha channel (None when it is fully opaque)."""
    return _decode(data, name, max_pixels, with_alpha=True)


def _decode(data: bytes, name: str, max_pixels: int,
            with_alpha: bool) -> tuple[np.ndarray, np.ndarray | None]:
    if not data:
        raise ApiError(400, "image: the upload is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(415, f"{name}: not an image moodshift can read (checked by "
                            "decoding; PNG, JPEG, WebP, BMP, GIF and TIFF work)") from None
    if width * height > max_pixels:
        raise ApiError(413, f"{name}: image is {width}x{height} = {width * height / 1e6:.1f} "
                            f"megapixels, over this server's {max_pixels / 1e6:g} MP limit")
    from moodshift.imageio import load_image_bytes, load_image_bytes_with_alpha

    try:
        if with_alpha:
            return load_image_bytes_with_alpha(data, "upload")
        return load_image_bytes(data, "upload"), None
    except UserError as exc:
        reason = str(exc).split(": ", 1)[-1]   # said of the upload's own name below
        raise ApiError(415, f"{name}: {reason}") from None
