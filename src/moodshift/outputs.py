"""Where each output goes: file, folder or stdout, never on top of an input."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from moodshift.errors import UserError
from moodshift.imageio import (
    IMAGE_SUFFIXES,
    OUTPUT_FORMATS,
    OUTPUT_TYPES,
    STDIO,
    check_writable_dir,
)


def refuse_overwriting(outputs: Sequence[str], inputs: Sequence[str]) -> None:
    """A UserError if an output path is one of the input files (through links too)."""
    # os.path.realpath, unlike Path.resolve on Python 3.11, does not raise on a symlink loop
    # (the loop is reported when the input is read)
    inputs_resolved = {os.path.realpath(i) for i in inputs if str(i) != STDIO}
    for path in outputs:
        if str(path) != STDIO and os.path.realpath(path) in inputs_resolved:
            raise UserError(f"{path}: refusing to overwrite an input image")


# Suffixes of files that are not images moodshift writes: `-o result.txt` is a mistake to
# refuse, not a folder to make (a folder named with another suffix, `runs/2024.06`, is fine).
NOT_AN_OUTPUT = {".txt", ".json", ".jsonl", ".csv", ".tsv", ".md", ".html", ".htm", ".xml",
                 ".yaml", ".yml", ".toml", ".log", ".pdf", ".svg", ".zip", ".gz", ".tar",
                 ".mp4", ".mov", ".avi", ".mkv", ".heic", ".heif", ".avif", ".jxl", ".ico",
                 ".psd", ".npy", ".npz", ".py"}


def plan_outputs(inputs: list[str], out: str | None, tag: str,
                 default_dir: str = "out", other_inputs: Sequence[str] = (),
                 option: str = "-o") -> list[str]:
    """One output path per input.

    ``out`` may be '-' (stdout, one input only), a file path with an image suffix (one input
    only), or a folder (created if needed) that receives ``<stem>.<tag>.png`` for each input.
    A name ending in a separator is a folder; ``-o result.txt`` or ``-o result.gif`` (a type
    moodshift does not write, NOT_AN_OUTPUT or a read-only image type) is refused rather than
    made a folder, unless that folder exists. ``option`` names the option in messages.
    No output may be an input, nor one of ``other_inputs`` (a style image, say).
    """
    if out == STDIO:
        if len(inputs) != 1:
            raise UserError("-o -: standard output takes exactly one input image")
        return [STDIO]
    target = Path(out or default_dir)
    folder = str(out or default_dir).endswith(("/", os.sep)) or target.is_dir()
    suffix = "" if folder else target.suffix.lower()
    if suffix in NOT_AN_OUTPUT or (suffix in IMAGE_SUFFIXES and suffix not in OUTPUT_FORMATS):
        kind = ("an image type moodshift reads but does not write" if suffix in IMAGE_SUFFIXES
                else "not an image file name")
        raise UserError(f"{target}: {kind}; {option} takes an image file ({OUTPUT_TYPES}), a "
                        "folder or - for standard output")
    if suffix in OUTPUT_FORMATS:
        if len(inputs) != 1:
            raise UserError(f"{target}: several inputs need an output folder, not a file name")
        check_writable_dir(target.parent if str(target.parent) else Path("."))
        planned = [str(target)]
    else:
        check_writable_dir(target)
        stems: dict[str, int] = {}
        planned = []
        for src in inputs:
            stem = "stdin" if src == STDIO else Path(src).stem
            n = stems.get(stem, 0)
            stems[stem] = n + 1
            suffix = f"-{n}" if n else ""
            planned.append(str(target / f"{stem}{suffix}.{tag}.png"))
    refuse_overwriting(planned, [*inputs, *other_inputs])
    return planned
