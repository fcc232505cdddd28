"""A reproducible corpus of hostile image inputs, built from a few small seed pictures.

Every file is made here from numbers (no downloaded samples), so the same ``seed`` and ``n``
give the same corpus on any machine. Each ``Case`` says which class of hostility it belongs to
(``kind``); the harness reports per class. Classes:

* mutations of the seed files: ``byte_flip``, ``header_flip`` (first 64 bytes), ``truncate``,
  ``header_field`` (a format's width/height fields rewritten, checksums kept valid),
  ``wrong_suffix``, ``empty``;
* sizes: ``bomb_declared`` (a header claiming gigapixels), ``bomb_real`` (small files that
  really decode to more than the 50 MP limit), ``tiny`` (1x1 .. 4x4) and ``extreme_aspect``
  (3x100000, 65535x3);
* content: ``mode`` (16-bit, 32-bit int, float, CMYK, LAB, YCbCr, 1-bit, LA, palette with
  transparency...), ``animated`` (GIF, APNG, WebP), ``exif`` (orientations 1-8 and invalid
  ones, broken EXIF), ``text_chunk`` (huge tEXt/zTXt/iTXt, JPEG comments);
* the file system: ``directory``, ``symlink_loop``, ``dangling_link``, ``fifo``, ``device``,
  ``odd_name`` (spaces, unicode, newline, leading dash, 200 characters).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

SEED_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
                "TIFF": ".tif"}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Case:
    path: str
    kind: str
    note: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


# ---- seed pictures ---------------------------------------------------------------------------

def seed_images(seed: int = 0) -> dict[str, np.ndarray]:
    """Three small RGB pictures: a face-like oval, noise, and a smooth gradient."""
    rng = np.random.default_rng(seed)
    h, w = 80, 64
    yy, xx = np.mgrid[0:h, 0:w]
    face = np.empty((h, w, 3), np.float64)
    face[:] = (110, 120, 115)
    oval = ((xx - w / 2) / (w * 0.3)) ** 2 + ((yy - h * 0.45) / (h * 0.32)) ** 2 <= 1
    face[oval] = (205, 160, 130)
    face += rng.normal(0, 6, face.shape)
    noise = rng.integers(0, 256, (48, 48, 3))
    gy, gx = np.mgrid[0:30, 0:40]
    gradient = np.stack([gx * 6, gy * 8, 255 - gx * 3], axis=-1)
    return {name: np.clip(a, 0, 255).astype(np.uint8)
            for name, a in (("face", face), ("noise", noise), ("gradient", gradient))}


def encode(img: Image.Image | np.ndarray, fmt: str, **options: object) -> bytes:
    pil = Image.fromarray(img) if isinstance(img, np.ndarray) else img
    if fmt == "JPEG" and pil.mode not in ("RGB", "L", "CMYK"):
        pil = pil.convert("RGB")
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **options)
    return buf.getvalue()


# ---- format-aware header edits ---------------------------------------------------------------

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_with_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR says width x height (CRC recomputed, pixel data left as it was)."""
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width & 0xFFFFFFFF, height & 0xFFFFFFFF)
    return data[:8] + png_chunk(b"IHDR", bytes(ihdr)) + data[33:]


def png_insert(data: bytes, chunk: bytes) -> bytes:
    """Insert a chunk right after IHDR."""
    return data[:33] + chunk + data[33:]


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        i = out.find(marker)
        if i >= 0:
            out[i + 5:i + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
            break
    return bytes(out)


def gif_with_size(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    out[6:10] = struct.pack("<HH", width & 0xFFFF, height & 0xFFFF)
    return bytes(out)


def bmp_with_size(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    out[18:26] = struct.pack("<ii", max(min(width, 2**31 - 1), -2**31),
                             max(min(height, 2**31 - 1), -2**31))
    return bytes(out)


def with_size(data: bytes, fmt: str, width: int, height: int) -> bytes | None:
    edit: dict[str, Callable[[bytes, int, int], bytes]] = {
        "PNG": png_with_size, "JPEG": jpeg_with_size, "GIF": gif_with_size,
        "BMP": bmp_with_size}
    return edit[fmt](data, width, height) if fmt in edit else None


# ---- the builders ----------------------------------------------------------------------------

class _Writer:
    """Writes files into the corpus folder and records their cases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cases: list[Case] = []
        self.count = 0

    def name(self, kind: str, suffix: str) -> Path:
        self.count += 1
        return self.folder / f"{self.count:05d}-{kind}{suffix}"

    def bytes(self, kind: str, suffix: str, data: bytes, note: str = "") -> None:
        path = self.name(kind, suffix)
        path.write_bytes(data)
        self.cases.append(Case(str(path), kind, note))

    def add(self, path: Path, kind: str, note: str = "") -> None:
        self.cases.append(Case(str(path), kind, note))


def _seed_files(seed: int) -> list[tuple[str, str, bytes]]:
    """(format, seed picture name, encoded bytes) for every seed picture and format."""
    out = []
    for name, img in seed_images(seed).items():
        for fmt in SEED_FORMATS:
            out.append((fmt, name, encode(img, fmt)))
    return out


def _mutations(w: _Writer, seeds: list[tuple[str, str, bytes]], rng: np.random.Generator,
               n: int) -> None:
    """n mutated copies of the seed files: byte flips, header flips, truncations, fields."""
    sizes = [(0, 0), (0, 10), (10, 0), (1, 1), (65535, 65535), (2**31 - 1, 1), (1, 2**31 - 1),
             (2**32 - 1, 2**32 - 1), (-5, 10), (7, 3), (100000, 100000)]
    kinds = ["byte_flip"] * 5 + ["header_flip"] * 2 + ["truncate"] * 3 + ["header_field"]
    for i in range(n):
        fmt, name, data = seeds[i % len(seeds)]
        suffix = SEED_FORMATS[fmt]
        kind = kinds[int(rng.integers(len(kinds)))]
        buf = bytearray(data)
        if kind == "byte_flip":
            for _ in range(int(rng.integers(1, 9))):
                pos = int(rng.integers(min(8, len(buf) - 1), len(buf)))
                buf[pos] ^= int(rng.integers(1, 256))
            note = f"{name} {fmt}"
        elif kind == "header_flip":
            for _ in range(int(rng.integers(1, 5))):
                pos = int(rng.integers(0, min(64, len(buf))))
                buf[pos] = int(rng.integers(0, 256))
            note = f"{name} {fmt}"
        elif kind == "truncate":
            cut = int(rng.integers(1, len(buf)))
            buf = buf[:cut]
            note = f"{name} {fmt} cut at {cut}/{len(data)}"
        else:
            width, height = sizes[int(rng.integers(len(sizes)))]
            edited = with_size(data, fmt, width, height)
            if edited is None:  # no field edit for this format: flip a header byte instead
                pos = int(rng.integers(0, min(32, len(buf))))
                buf[pos] ^= 0xFF
                kind, note = "header_flip", f"{name} {fmt}"
            else:
                buf = bytearray(edited)
                note = f"{name} {fmt} claims {width}x{height}"
        w.bytes(kind, suffix, bytes(buf), note)


def _whole_files(w: _Writer, seeds: list[tuple[str, str, bytes]]) -> None:
    """Valid files under the wrong suffix, and empty files."""
    suffixes = list(SEED_FORMATS.values()) + [".txt", "", ".PNG", ".jpeg"]
    for k, (fmt, name, data) in enumerate(seeds):
        wrong = [s for s in suffixes if s != SEED_FORMATS[fmt]]
        w.bytes("wrong_suffix", wrong[k % len(wrong)], data, f"{name} {fmt}")
    for suffix in (".png", ".jpg", ".gif", ".webp"):
        w.bytes("empty", suffix, b"", "0 bytes")
    w.bytes("empty", ".png", b"\x89PNG\r\n\x1a\n", "signature only")
    w.bytes("empty", ".jpg", b"\xff\xd8\xff\xd9", "SOI + EOI")


def _bombs(w: _Writer, heavy: bool) -> None:
    face = seed_images()["face"]
    png, jpg = encode(face, "PNG"), encode(face, "JPEG")
    for width, height in ((100000, 100000), (60000, 60000), (50001, 1000), (8000, 7000)):
        w.bytes("bomb_declared", ".png", png_with_size(png, width, height), f"{width}x{height}")
    for width, height in ((65000, 65000), (8000, 7000), (7000, 7000), (65535, 1)):
        w.bytes("bomb_declared", ".jpg", jpeg_with_size(jpg, width, height),
                f"{width}x{height}")
    w.bytes("bomb_declared", ".gif", gif_with_size(encode(face, "GIF"), 65535, 65535),
            "65535x65535")
    w.bytes("bomb_declared", ".bmp", bmp_with_size(encode(face, "BMP"), 100000, -100000),
            "100000x-100000")
    if not heavy:
        return
    # Real bombs: tiny files that decode to more pixels than the loader accepts.
    for width, height, mode in ((8000, 7000, "L"), (10000, 10000, "1"), (12000, 5000, "L")):
        w.bytes("bomb_real", ".png", encode(Image.new(mode, (width, height), 0), "PNG"),
                f"{width}x{height} {mode} zeros")
    raw = zlib.compress(b"\x00" * (20000 * 3 + 1) * 64, 9)  # 64 rows of a 20000x20000 RGB PNG
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    w.bytes("bomb_real", ".png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b""), "20000x20000, 64 rows of data")


def _shapes(w: _Writer, rng: np.random.Generator) -> None:
    for height, width in ((1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (4, 4), (1, 40), (40, 1),
                          (5, 5)):
        img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        for fmt in ("PNG", "JPEG", "GIF"):
            w.bytes("tiny", SEED_FORMATS[fmt], encode(img, fmt), f"{width}x{height} {fmt}")
    for height, width in ((3, 100000), (100000, 3), (65535, 3), (3, 65535), (1, 60000)):
        img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        w.bytes("extreme_aspect", ".png", encode(img, "PNG"), f"{width}x{height}")
    w.bytes("extreme_aspect", ".jpg", encode(np.full((8, 60000, 3), 90, np.uint8), "JPEG"),
            "60000x8 JPEG")


def _modes(w: _Writer) -> None:
    face = seed_images()["face"]
    rgb = Image.fromarray(face)
    grey = np.asarray(rgb.convert("L"), np.uint16) * 257
    w.bytes("mode", ".png", encode(Image.fromarray(grey.astype("<u2")), "PNG"), "16-bit grey PNG")
    w.bytes("mode", ".tif", encode(Image.fromarray(grey.astype(np.int32) * 1000), "TIFF"),
            "32-bit int TIFF")
    for values, note in ((grey.astype(np.float32) / 65535.0, "float 0..1"),
                         (np.full(grey.shape, np.float32(3.5)), "float constant"),
                         (np.where(grey > 30000, np.inf, -np.inf).astype(np.float32), "float inf"),
                         (np.full(grey.shape, np.nan, np.float32), "float NaN")):
        w.bytes("mode", ".tif", encode(Image.fromarray(values), "TIFF"), note)
    w.bytes("mode", ".jpg", encode(rgb.convert("CMYK"), "JPEG"), "CMYK JPEG")
    w.bytes("mode", ".tif", encode(rgb.convert("CMYK"), "TIFF"), "CMYK TIFF")
    w.bytes("mode", ".tif", encode(rgb.convert("LAB"), "TIFF"), "LAB TIFF")
    w.bytes("mode", ".jpg", encode(rgb.convert("YCbCr"), "JPEG"), "YCbCr JPEG")
    w.bytes("mode", ".tif", encode(rgb.convert("YCbCr"), "TIFF"), "YCbCr TIFF")
    w.bytes("mode", ".png", encode(rgb.convert("1"), "PNG"), "1-bit PNG")
    w.bytes("mode", ".bmp", encode(rgb.convert("1"), "BMP"), "1-bit BMP")
    w.bytes("mode", ".png", encode(rgb.convert("LA"), "PNG"), "grey + alpha")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray((np.arange(face.shape[1]) * 4 % 256).astype(np.uint8)[None]
                                  .repeat(face.shape[0], 0)))
    w.bytes("mode", ".png", encode(rgba, "PNG"), "RGBA varying alpha")
    w.bytes("mode", ".webp", encode(rgba, "WEBP"), "RGBA WebP")
    w.bytes("mode", ".png", encode(Image.new("RGBA", (20, 20), (0, 0, 0, 0)), "PNG"),
            "fully transparent")
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    w.bytes("mode", ".png", encode(pal, "PNG", transparency=0), "palette, index 0 transparent")
    w.bytes("mode", ".gif", encode(pal, "GIF", transparency=3), "GIF palette transparency")
    pal_alpha = rgba.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    w.bytes("mode", ".png", encode(pal_alpha, "PNG", transparency=bytes(range(0, 256, 32))),
            "palette with tRNS alpha table")
    rgb16 = (np.asarray(rgb, np.uint16) * 257).astype(">u2")
    ihdr = struct.pack(">IIBBBBB", rgb16.shape[1], rgb16.shape[0], 16, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + row.tobytes() for row in rgb16)
    w.bytes("mode", ".png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""),
            "48-bit RGB PNG")


def _animated(w: _Writer) -> None:
    frames = [Image.fromarray(np.full((30, 40, 3), c, np.uint8)) for c in (20, 120, 220)]
    for fmt, suffix in (("GIF", ".gif"), ("PNG", ".png"), ("WEBP", ".webp")):
        buf = io.BytesIO()
        frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:], duration=50,
                       loop=0)
        w.bytes("animated", suffix, buf.getvalue(), f"3-frame {fmt}")
        data = buf.getvalue()
        w.bytes("animated", suffix, data[: len(data) * 2 // 3], f"3-frame {fmt}, cut")
    big_second = [frames[0], Image.fromarray(np.zeros((300, 20, 3), np.uint8))]
    buf = io.BytesIO()
    big_second[0].save(buf, format="GIF", save_all=True, append_images=big_second[1:])
    w.bytes("animated", ".gif", buf.getvalue(), "frames of different sizes")


def _exif(w: _Writer) -> None:
    face = Image.fromarray(seed_images()["face"])
    for orientation in (1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 255, 65535):
        exif = Image.Exif()
        exif[0x0112] = orientation
        for fmt, suffix in (("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")):
            w.bytes("exif", suffix, encode(face, fmt, exif=exif.tobytes()),
                    f"orientation {orientation} {fmt}")
    for blob, note in ((b"Exif\x00\x00" + b"\xff" * 40, "garbage EXIF"),
                       (b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", "EXIF with 65535 tags"),
                       (b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", "EXIF offset past the end")):
        w.bytes("exif", ".jpg", encode(face, "JPEG", exif=blob), note)


def _text_chunks(w: _Writer, heavy: bool) -> None:
    png = encode(seed_images()["gradient"], "PNG")
    w.bytes("text_chunk", ".png", png_insert(png, png_chunk(b"tEXt", b"Comment\x00"
                                                            + b"A" * 8_000_000)), "8 MB tEXt")
    bomb = zlib.compress(b"\x00" * (100_000_000 if heavy else 2_000_000), 9)
    w.bytes("text_chunk", ".png", png_insert(png, png_chunk(b"zTXt", b"Comment\x00\x00" + bomb)),
            "zTXt inflating to 100 MB" if heavy else "zTXt inflating to 2 MB")
    w.bytes("text_chunk", ".png", png_insert(png, png_chunk(
        b"iTXt", b"moodshift\x00\x01\x00\x00\x00" + bomb)), "compressed iTXt, 100 MB")
    w.bytes("text_chunk", ".png", png_insert(png, png_chunk(b"iCCP", b"p\x00\x00" + bomb)),
            "iCCP profile inflating to 100 MB")
    many = b"".join(png_chunk(b"tEXt", b"k%d\x00v" % i) for i in range(20000))
    w.bytes("text_chunk", ".png", png_insert(png, many), "20000 text chunks")
    jpg = encode(seed_images()["gradient"], "JPEG")
    comments = b"".join(b"\xff\xfe\xff\xff" + b"C" * 65533 for _ in range(60))
    w.bytes("text_chunk", ".jpg", jpg[:2] + comments + jpg[2:], "60 x 64 KB comments")


def _file_system(w: _Writer, sample: bytes) -> None:
    d = w.name("directory", ".png")
    d.mkdir()
    (d / "inside.png").write_bytes(sample)
    w.add(d, "directory", "a folder named like an image")
    a, b = w.name("symlink_loop", ".png"), w.name("symlink_loop", ".jpg")
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    w.add(a, "symlink_loop", "a -> b -> a")
    selfloop = w.name("symlink_loop", ".png")
    selfloop.symlink_to(selfloop.name)
    w.add(selfloop, "symlink_loop", "points at itself")
    dangling = w.name("dangling_link", ".png")
    dangling.symlink_to("does-not-exist.png")
    w.add(dangling, "dangling_link")
    if hasattr(os, "mkfifo"):
        fifo = w.name("fifo", ".png")
        os.mkfifo(fifo)
        w.add(fifo, "fifo", "nothing ever writes to it")
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        if os.path.exists(device):
            link = w.name("device", ".jpg")
            link.symlink_to(device)
            w.add(link, "device", device)
    for odd in ("with space.png", "ünïcødé-😀.png", "new\nline.png", "-leading-dash.png",
                "x" * 196 + ".png", "percent%20and:colon.png", "..png", ".hidden.png",
                "tab\there.jpg", "quote'\"s.png"):
        path = w.folder / f"{w.count + 1:05d}-{odd}" if not odd.startswith("-") else \
            w.folder / odd
        w.count += 1
        path.write_bytes(sample)
        w.add(path, "odd_name", repr(odd))


def build_corpus(folder: str | Path, n: int = 2000, seed: int = 0,
                 heavy: bool = True) -> list[Case]:
    """Write at least n hostile inputs into folder (created, must be empty) and return them.

    heavy=False leaves out the real decompression bombs and makes the compressed text chunks
    small (building those takes ~10 s). A manifest (manifest.json: one entry per case) is
    written beside the files."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root}: corpus folder is not empty")
    rng = np.random.default_rng(seed)
    w = _Writer(root)
    seeds = _seed_files(seed)
    for fmt, name, data in seeds:
        w.bytes("valid", SEED_FORMATS[fmt], data, f"{name} {fmt} (unchanged seed)")
    _whole_files(w, seeds)
    _bombs(w, heavy)
    _shapes(w, rng)
    _modes(w)
    _animated(w)
    _exif(w)
    _text_chunks(w, heavy)
    _file_system(w, seeds[0][2])
    _mutations(w, seeds, rng, max(0, n - len(w.cases)))
    (root / MANIFEST).write_text(json.dumps([c.to_json() for c in w.cases], indent=0) + "\n")
    return w.cases


def load_manifest(folder: str | Path) -> list[Case]:
    return [Case(**c) for c in json.loads((Path(folder) / MANIFEST).read_text())]
