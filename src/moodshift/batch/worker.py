"""One worker's side of a batch: load the models once, then turn each item into its output file
and manifest record, exactly as the single-image commands would."""

from __future__ import annotations

import os
import socket
import time

from moodshift.batch.config import BatchConfig
from moodshift.batch.items import Item, content_key
from moodshift.errors import UserError

# The JSON field that names the input in each task's single-image output.
INPUT_FIELD = {"analyze": "image", "stylize": "input", "generate": "description"}


def limit_threads(threads: int) -> None:
    """Give this worker `threads` compute threads (torch and the ONNX sessions it creates), so
    workers side by side do not oversubscribe the CPUs."""
    import torch

    from moodshift.generate.stylegan import generator as stylegan
    from moodshift.models import runtime
    from moodshift.style.engines import fast

    torch.set_num_threads(threads)
    # read when each ONNX session (or the OpenVINO generator) is created, i.e. after this call
    # in a fresh worker
    runtime.INTRA_OP_THREADS = threads
    fast.THREADS = threads
    stylegan.THREADS = threads


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    if isinstance(exc, UserError):
        return text[0] if text else type(exc).__name__
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Processor:
    """The models and settings of one task, loaded once per worker process."""

    def __init__(self, config: BatchConfig, settings: str, threads: int | None = None) -> None:
        self.config = config
        self.settings = settings
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.setup_error: str | None = None
        try:
            if threads is not None:
                limit_threads(threads)
            self._load()
        except Exception as exc:  # e.g. a model not pulled: the driver stops the batch with it
            # (raised here, it would kill the worker, and every retry would fail the same way)
            self.setup_error = one_line(exc) if isinstance(exc, UserError) else \
                f"a worker could not start: {one_line(exc)}"

    def _load(self) -> None:
        config = self.config
        if config.task == "generate":
            if config.portrait_request(None).generator == "stylegan":
                from moodshift.generate.stylegan.directions import load_directions
                from moodshift.generate.stylegan.generator import load_style_generator

                load_directions()
                load_style_generator().mean_style  # noqa: B018 (load now, as below)
            return
        from moodshift.analyze import Models

        self.models = Models(detector_name=config.detector,
                             expression_name=config.expression_model,
                             with_age_gender=config.task == "analyze")
        self.models.detector  # noqa: B018 (load now: the first item's time is its own)
        self.models.expression  # noqa: B018
        self.models.age_gender  # noqa: B018
        if config.task == "stylize":
            self.request = config.style_request()

    def process(self, item: Item, data: bytes, done_key: str | None = None) -> dict[str, object]:
        """The item's manifest record; a failure is recorded (one line), never raised."""
        started = time.perf_counter()
        if self.setup_error is not None:
            return {"source": item.source, "status": "fatal", "error": self.setup_error}
        key = content_key(data, self.settings)
        if done_key == key:
            return {"source": item.source, "key": key, "status": "skipped"}
        try:
            result = getattr(self, f"_{self.config.task}")(item, data)
            status, error = "ok", None
        except UserError as exc:
            result, status, error = {INPUT_FIELD[self.config.task]: item.input}, "failed", \
                one_line(exc)
        except Exception as exc:  # a bug on one image must not stop the other 999,999
            result, status, error = {INPUT_FIELD[self.config.task]: item.input}, "failed", \
                one_line(exc)
        return result | {"source": item.source, "key": key, "status": status, "error": error,
                         "seconds": round(time.perf_counter() - started, 3),
                         "worker": self.worker}

    # ---- the three tasks, each as its single-image command does it -----------------------
    def _analyze(self, item: Item, data: bytes) -> dict[str, object]:
        from moodshift.analyze import analyze
        from moodshift.annotate import annotate
        from moodshift.imageio import load_image_bytes, save_image

        image = load_image_bytes(data, item.input)
        result = analyze(image, item.input, self.models)
        if item.output is None:
            return result.to_json()
        save_image(annotate(image, result), item.output)
        return result.to_json() | {"output": item.output}

    def _stylize(self, item: Item, data: bytes) -> dict[str, object]:
        from moodshift.imageio import load_image_bytes_with_alpha, save_image
        from moodshift.stylize import stylize

        image, alpha = load_image_bytes_with_alpha(data, item.input)
        styled, report = stylize(image, item.input, self.request, self.models)
        target = str(item.output)
        if self.request.mix.is_auto:
            target = target.replace(".auto.png", f".{report.emotion}.png")
        save_image(styled, target, metadata=report.intent(), alpha=alpha)
        return report.to_json() | {"output": target}

    def _generate(self, item: Item, data: bytes) -> dict[str, object]:
        from moodshift.generate.portraits import generate_portraits, read_request
        from moodshift.imageio import save_image

        text = data.decode("utf-8")
        emotion, age, gender, reading = read_request(text, self.config.emotion)
        if emotion is None:
            raise UserError(f"{item.source}: no emotion read from the description")
        [portrait] = generate_portraits(self.config.portrait_request(emotion, age, gender))
        save_image(portrait.image, str(item.output), metadata=portrait.intent)
        return (portrait.intent | {"output": str(item.output), "size": self.config.size}
                | ({"text": reading} if reading else {}))
