"""Small helpers shared by everything that draws text onto pictures."""

from __future__ import annotations

from PIL import ImageFont


def default_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font at a pixel size (no system fonts needed)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()
