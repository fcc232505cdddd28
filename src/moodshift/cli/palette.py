"""`moodshift palette show`: the palette's seven styles and a photo in each."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PHOTO = Path(__file__).parent.parent / "data" / "astronaut.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    psub = p.add_subparsers(dest="palette_command", required=True, metavar="COMMAND")
    ps = psub.add_parser("show", help="render the palette and a photo in all seven emotions")
    ps.add_argument("--photo", default=str(DEFAULT_PHOTO),
                    help="the photo shown in every emotion (default: the bundled astronaut)")
    ps.add_argument("--palette", type=Path, help="TOML override")
    ps.add_argument("-o", "--output", default="palette.png",
                    help="the sheet (default palette.png); missing parent folders are created")


def run(args: argparse.Namespace) -> int:
    from moodshift.imageio import load_image, save_image
    from moodshift.stylize import palette_sheet

    photo = load_image(args.photo)
    save_image(palette_sheet(photo, args.palette), args.output)
    print(f"wrote {args.output}")
    return 0
