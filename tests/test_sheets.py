"""Grids and figures (moodshift.sheets)."""

from __future__ import annotations

import numpy as np


def test_image_grid_places_tiles_and_empty_cells() -> None:
    from moodshift.sheets import EMPTY_GREY, image_grid

    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    grid = np.asarray(image_grid([[red, None], [None, red]], 10))
    assert grid.shape == (2 * 12 + 2, 2 * 12 + 2, 3)   # 10 px tiles, 2 px gaps
    assert grid[7, 7].tolist() == [255, 0, 0] and grid[7, 19].tolist() == [EMPTY_GREY] * 3
    assert grid[19, 19].tolist() == [255, 0, 0] and grid[19, 7].tolist() == [EMPTY_GREY] * 3
