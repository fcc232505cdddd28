"""The items of a batch (images under SRC, or lines of a descriptions file) and where each one's
output goes; the same planning on the driver and in every worker."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from moodshift.batch.config import BatchConfig, is_uri
from moodshift.errors import InputFileError
from moodshift.imageio import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Item:
    source: str        # the item's name in the manifest: path relative to SRC, or "FILE:LINE"
    input: str         # the name the single-image command would be given (SRC joined with source)
    output: str | None  # the planned output file (stylize: ".auto." is replaced by the emotion)
    text: str | None = None  # generate: the description


def content_key(data: bytes, settings: str) -> str:
    """An item's resume key: its content hash and the run's settings hash."""
    return f"{hashlib.sha256(data).hexdigest()[:32]}-{settings}"


def output_tag(config: BatchConfig) -> str:
    if config.task == "analyze":
        return "annotated"
    from moodshift.emotions import EmotionMix

    # the single-image command's naming: <stem>.<emotion>.png, a blend as happy0.70+sad0.30
    return EmotionMix.parse(config.emotion or "auto").label.replace(",", "+").replace(":", "")


@dataclass(frozen=True)
class Plan:
    """Names outputs the same way on the driver and in the workers: <stem>.<tag>.png beside the
    source's relative folder, or <stem>.<ext>.<tag>.png where two sources share a stem."""

    config: BatchConfig
    tag: str
    clashing: frozenset[str]  # sources whose stem is shared with another in the same folder
    single: bool              # SRC is one file (decided on the driver: workers may not see SRC)

    def item(self, source: str) -> Item:
        config = self.config
        rel = PurePosixPath(source)
        input_name = config.src if self.single else _join(config.src, source)
        if config.task == "analyze" and not config.annotate:
            return Item(source, input_name, None)
        stem = rel.name if source in self.clashing else rel.stem
        output = Path(config.out).joinpath(*rel.parent.parts, f"{stem}.{self.tag}.png")
        return Item(source, input_name, str(output))


def _join(root: str, rel: str) -> str:
    if is_uri(root):
        return root.rstrip("/") + "/" + rel
    return str(Path(root) / rel)


def _clashes(sources: list[str]) -> frozenset[str]:
    stems = Counter((str(PurePosixPath(s).parent), PurePosixPath(s).stem) for s in sources)
    return frozenset(s for s in sources
                     if stems[(str(PurePosixPath(s).parent), PurePosixPath(s).stem)] > 1)


def list_sources(config: BatchConfig) -> list[str]:
    """The image paths under SRC relative to it, sorted ('/'-separated; hidden entries and the
    output folder are skipped), or the single file's name."""
    src = config.src
    if is_uri(src):
        return _list_uri(src)
    root = Path(src)
    if root.is_file():
        return [root.name]
    out = Path(config.out).resolve()
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (here / d).resolve() != out)
        found.extend((here / f).relative_to(root).as_posix() for f in files
                     if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise InputFileError(src, "folder contains no images "
                                  f"({', '.join(sorted(IMAGE_SUFFIXES))}), also in sub-folders")
    return sorted(found)


def _list_uri(uri: str) -> list[str]:
    import pyarrow.fs as pafs

    try:
        fs, root = pafs.FileSystem.from_uri(uri)
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.File:
            return [PurePosixPath(root).name]
        entries = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, ValueError) as exc:
        raise InputFileError(uri, f"cannot list ({str(exc).splitlines()[0]})") from None
    base = root.rstrip("/") + "/"
    found = sorted(e.path[len(base):] for e in entries if e.type == pafs.FileType.File
                   and PurePosixPath(e.path).suffix.lower() in IMAGE_SUFFIXES
                   and not any(p.startswith(".") for p in PurePosixPath(e.path[len(base):]).parts))
    if not found:
        raise InputFileError(uri, "no images found")
    return found


def plan(config: BatchConfig, sources: list[str]) -> Plan:
    generate = config.task == "generate"
    return Plan(config, "" if generate else output_tag(config),
                frozenset() if generate else _clashes(sources),
                not generate and not is_uri(config.src) and Path(config.src).is_file())


def read_descriptions(config: BatchConfig) -> list[Item]:
    """generate: one item per non-empty line ('#' starts a comment line); outputs are
    OUT/line-<number>.png."""
    path = Path(config.src)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputFileError(path, "not a UTF-8 text file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc})") from None
    items = [Item(f"{path.name}:{n}", line.strip(), str(Path(config.out) / f"line-{n:05d}.png"),
                  text=line.strip())
             for n, line in enumerate(lines, start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not items:
        raise InputFileError(path, "no descriptions (one per line)")
    return items
