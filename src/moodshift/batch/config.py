"""What a batch run does, checked before any work starts (`BatchConfig.validate`)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from moodshift.errors import InputFileError, UserError

TASKS = ("analyze", "stylize", "generate")
MANIFEST = "manifest.jsonl"


def is_uri(path: str) -> bool:
    """A location with a scheme (s3://, gs://, file://...): only Ray Data reads those."""
    return "://" in path


@dataclass(frozen=True)
class BatchConfig:
    task: str                                   # analyze | stylize | generate
    src: str                                    # image file or folder (nested); generate: a text file
    out: str                                    # output folder, holds manifest.jsonl
    ray: str | None = None                      # None: local processes; auto | local | ADDRESS
    workers: int | None = None                  # None: one per CPU (Ray: the cluster's)
    batch_size: int = 4                         # items per task sent to a worker
    threads: int | None = None                  # compute threads per worker (None: CPUs / workers)
    resume: bool = False
    # analyze and stylize
    detector: str = "auto"
    expression_model: str = "auto"
    annotate: bool = False                      # analyze: write the labelled photo too
    emotion: str | None = None                  # stylize: target (auto, a name, a blend); generate: override
    strength: float | None = None
    preserve_color: bool = False
    style_image: Path | None = None
    palette: Path | None = None
    engine: str = "fast"
    engine_options: Mapping[str, object] = field(default_factory=dict)
    # generate
    seed: int = 0
    size: int = 256
    generator: str | None = None                # None: `moodshift generate`'s default (stylegan)

    def validate(self) -> None:
        """Raise a UserError (one line) for anything that would fail later; reads nothing big."""
        if self.task not in TASKS:
            raise UserError(f"unknown batch task {self.task!r}; valid: {', '.join(TASKS)}")
        for name in ("workers", "batch_size", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"--{name.replace('_', '-')} {value}: must be at least 1")
        if self.ray is not None:
            if not self.ray.strip():
                raise UserError("--ray: give auto, local or a cluster address (host:port)")
            from moodshift.batch.ray_import import import_ray

            import_ray()  # installed? (else: how to install it)
        if is_uri(self.src):
            if self.ray is None:
                raise UserError(f"{self.src}: reading from a URI needs --ray (Ray Data reads it)")
            if self.task == "generate":
                raise UserError(f"{self.src}: generate reads a local text file")
        elif not Path(self.src).exists():
            raise InputFileError(self.src, "no such file or folder")
        out = Path(self.out)
        if is_uri(self.out):
            raise UserError(f"{self.out}: the output folder must be a local (or mounted shared) "
                            "folder")
        if not is_uri(self.src) and Path(self.src).resolve() == out.resolve():
            raise UserError(f"{self.out}: the output folder must not be the source folder")
        from moodshift.imageio import check_writable_dir

        check_writable_dir(out)
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise UserError(f"--strength {self.strength}: must be between 0 and 1")
        if self.task == "analyze":
            self._refuse("analyze", emotion=self.emotion, strength=self.strength,
                         preserve_color=self.preserve_color or None, style_image=self.style_image,
                         palette=self.palette, engine_options=dict(self.engine_options) or None)
        if self.task == "stylize":
            self._validate_stylize()
        if self.task == "generate":
            self._refuse("generate", annotate=self.annotate or None,
                         preserve_color=self.preserve_color or None,
                         style_image=self.style_image, palette=self.palette,
                         engine_options=dict(self.engine_options) or None)
            if Path(self.src).is_dir():
                raise InputFileError(self.src, "generate takes a text file of descriptions, "
                                               "one per line")
            if self.emotion is not None:
                from moodshift.emotions import parse_emotion
                parse_emotion(self.emotion)
            self.portrait_request(None).check()
            from moodshift.generate.portraits import require_generator

            require_generator(self.portrait_request(None).generator)  # before workers start

    def _refuse(self, task: str, **given: object) -> None:
        for name, value in given.items():
            if value is not None:
                raise UserError(f"--{name.replace('_', '-')}: not an option of batch {task}")

    def _validate_stylize(self) -> None:
        self._refuse("stylize", annotate=self.annotate or None)
        if self.emotion is None:
            raise UserError("batch stylize needs --emotion (auto, an emotion or a blend)")
        # the single-image command's checks, on the request each worker will build
        self.style_request().check()

    def style_request(self):  # -> moodshift.stylize.StyleRequest
        """The stylize request of every item: palette and style image read here (a bad file
        fails before any worker starts)."""
        from moodshift.imageio import load_image
        from moodshift.style import load_palette
        from moodshift.stylize import StyleRequest

        style = load_image(self.style_image) if self.style_image is not None else None
        return StyleRequest(emotion=self.emotion or "auto", strength=self.strength,
                            preserve_color=self.preserve_color or None, style_image=style,
                            palette=load_palette(self.palette), engine=self.engine,
                            engine_options=dict(self.engine_options),
                            style_name=str(self.style_image))

    def portrait_request(self, emotion: str | None, age_group: str | None = None,
                         gender: str | None = None):  # -> PortraitRequest
        """generate: one portrait for a description read as emotion, age group and gender."""
        from moodshift.generate.portraits import PortraitRequest

        return PortraitRequest(emotion=emotion, age_group=age_group, gender=gender, n=1,
                               seed=self.seed, size=self.size, strength=self.strength,
                               generator=self.generator)

    # ------------------------------------------------------------------------------ derived
    @property
    def manifest(self) -> Path:
        return Path(self.out) / MANIFEST

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    def thread_count(self, workers: int) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // workers)

    def settings_hash(self) -> str:
        """What decides an item's result besides its content: part of each item's resume key.

        Where the work runs (Ray or not, workers, batch size, threads) is left out."""
        from moodshift import __version__

        def file_hash(path: Path | None) -> str | None:
            return None if path is None else hashlib.sha256(Path(path).read_bytes()).hexdigest()

        options = {k: (file_hash(Path(v)) if k in ("model", "vgg_weights") else v)
                   for k, v in sorted(self.engine_options.items())}
        settings = {"version": __version__, "task": self.task, "detector": self.detector,
                    "expression_model": self.expression_model, "annotate": self.annotate,
                    "emotion": self.emotion, "strength": self.strength,
                    "preserve_color": self.preserve_color, "engine": self.engine,
                    "engine_options": options, "style_image": file_hash(self.style_image),
                    "palette": file_hash(self.palette), "seed": self.seed, "size": self.size}
        if self.task == "generate":   # (only here: other tasks' resume keys stay as they were)
            from moodshift.generate.portraits import canonical_generator

            settings["generator"] = canonical_generator(self.generator)
        text = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
