"""Inputs that are not regular image files: one line each, naming the real problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moodshift.errors import InputFileError
from moodshift.imageio import load_image


def test_symlink_loop_is_reported_as_a_loop(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(InputFileError, match="symlink loop"):
        load_image(a)


def test_missing_file_is_still_no_such_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_image(tmp_path / "gone.png")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="not a regular file"):
        load_image(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_is_refused() -> None:
    with pytest.raises(InputFileError, match="not a regular file"):
        load_image("/dev/zero")


def test_stylize_of_a_symlink_loop_is_one_line(capsys, tmp_path: Path) -> None:
    from moodshift.cli import main

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.symlink_to(b)
    b.symlink_to(a)
    code = main(["stylize", str(a), "--emotion", "sad", "-o", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2 and err == f"moodshift: error: {a}: symlink loop\n"


@pytest.mark.parametrize("key, value", [("style", "loop.png"), ("model", "loop.onnx"),
                                        ("style", "~no-such-user-here/x.png")])
def test_palette_paths_that_cannot_resolve_are_user_errors(tmp_path: Path, key: str,
                                                           value: str) -> None:
    from moodshift.errors import UserError
    from moodshift.style.palette import load_palette

    for name in ("loop.png", "loop.onnx"):
        (tmp_path / name).symlink_to(name)
    palette = tmp_path / "palette.toml"
    palette.write_text(f'[sad]\n{key} = "{value}"\n')
    with pytest.raises(UserError, match=f"no such {'image' if key == 'style' else 'model'} file"):
        load_palette(palette)
