"""The studio's API: analyze a photo, stylize it (fast and trained engines at once, optimize as
a background job), the bundled examples and what this server offers (/api/info)."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from moodshift.emotions import EMOTION_VAD, EMOTIONS
from moodshift.errors import UserError
from moodshift.style.options import ENGINES
from moodshift.web.context import WebContext, ctx
from moodshift.web.errors import ApiError
from moodshift.web.uploads import (
    EXAMPLES,
    decode_image,
    decode_image_with_alpha,
    display_name,
    example_bytes,
)

router = APIRouter(prefix="/api", tags=["studio"])

# Per-region and expression controls: offered when the library's StyleRequest has the field.
OPTIONAL_CONTROLS = ("expression", "face_strength", "person_strength", "background_strength")
OPTIMIZE_STEPS = (1, 500)
OPTIMIZE_SIZE = (64, 1024)
# multipart form fields: an uploaded file, a text, a number
Upload = Annotated[UploadFile | None, File(description="the photo (decoded to check it)")]
Text = Annotated[str | None, Form(description="a bundled example's name, instead of a file")]
Number = Annotated[float | None, Form()]


def style_controls() -> list[str]:
    from moodshift.stylize import StyleRequest

    names = {f.name for f in dataclasses.fields(StyleRequest)}
    return [c for c in OPTIONAL_CONTROLS if c in names]


@router.get("/info", summary="what this server offers: pages, emotions, engines, limits")
def info(request: Request) -> dict:
    from moodshift import __version__

    c = ctx(request)
    return {"version": __version__, "pages": list(c.settings.pages),
            "emotions": list(EMOTIONS),
            "emotion_vad": {e: v.to_json() for e, v in EMOTION_VAD.items()},
            "engines": list(ENGINES), "style_controls": style_controls(),
            "examples": [{"name": k, "title": t} for k, (_, t) in EXAMPLES.items()],
            "limits": {"max_upload_bytes": c.settings.max_upload_bytes,
                       "max_pixels": c.settings.max_pixels,
                       "request_timeout_s": c.settings.request_timeout},
            "stores_uploads": False}


@router.get("/examples/{name}", summary="a bundled example photo",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def example(name: str) -> Response:
    return Response(example_bytes(name), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


async def read_input(c: WebContext, image: UploadFile | None,
                     example: str | None) -> tuple[bytes, str]:
    if (image is None) == (example is None or example == ""):
        raise ApiError(400, "give one of: image (a file upload) or example (a bundled photo)")
    if image is not None:
        return await image.read(), display_name(image.filename)
    return example_bytes(example), f"{example}.png"


def _check_strength(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ApiError(400, f"{name} {value:g}: must be between 0 and 1")


def _style_request(emotion: str, strength: float | None, engine: str, preserve_color: bool,
                   controls: dict[str, float | None], engine_options: dict | None = None):
    """The library's request, checked by the library (unknown emotion, strength, engine...)."""
    from moodshift.stylize import StyleRequest

    offered = style_controls()
    extra = {}
    for name, value in controls.items():
        if value is None:
            continue
        if name not in offered:
            raise ApiError(400, f"{name}: this moodshift has no such control")
        _check_strength(name, value)
        extra[name] = value
    try:
        request = StyleRequest(emotion=emotion, strength=strength, engine=engine,
                               preserve_color=True if preserve_color else None,
                               engine_options=engine_options or {}, **extra)
        request.check()
    except UserError as exc:
        raise ApiError(400, str(exc)) from None
    return request


def stylize_png(data: bytes, name: str, request, c: WebContext) -> tuple[bytes, dict]:
    """Decode, stylize and measure (in a pool thread); the PNG carries the intent."""
    from moodshift.imageio import encode_image
    from moodshift.stylize import stylize

    image, alpha = decode_image_with_alpha(data, name, c.settings.max_pixels)
    try:
        styled, report = stylize(image, name, request, c.models)
    except UserError as exc:
        raise ApiError(400, str(exc)) from None
    png = encode_image(styled, "PNG", report.intent(), alpha)
    tag = report.emotion.replace(",", "+").replace(":", "")
    output = f"{Path(name).stem}.{tag}.png"
    return png, report.to_json() | {"output": output, "width": int(styled.shape[1]),
                                    "height": int(styled.shape[0])}


def with_png(png: bytes, report: dict) -> dict:
    return report | {"png_base64": base64.b64encode(png).decode("ascii")}


@router.post("/analyze", summary="faces (expression, age, gender) and the image's mood",
             description="The same JSON as `moodshift analyze --json`, plus width and height.")
async def analyze_image(request: Request, image: Upload = None, example: Text = None) -> dict:
    c = ctx(request)
    c.require_page("studio")
    data, name = await read_input(c, image, example)

    def work() -> dict:
        from moodshift.analyze import analyze

        img = decode_image(data, name, c.settings.max_pixels)
        result = analyze(img, name, c.models)
        return result.to_json() | {"width": int(img.shape[1]), "height": int(img.shape[0])}

    return await c.pool.run(work)


@router.post("/stylize", summary="restyle a photo for an emotion and measure the shift",
             description="The JSON of `moodshift stylize --json` plus the PNG (with its intent "
                         "metadata) as png_base64. Engines fast and trained answer at once; "
                         "for optimize use POST /api/jobs.")
async def stylize_image(request: Request, image: Upload = None, example: Text = None,
                        emotion: Annotated[str, Form()] = "auto", strength: Number = None,
                        engine: Annotated[str, Form()] = "fast",
                        preserve_color: Annotated[bool, Form()] = False,
                        expression: Number = None,
                        face_strength: Number = None, person_strength: Number = None,
                        background_strength: Number = None) -> dict:
    c = ctx(request)
    c.require_page("studio")
    if engine == "optimize":
        raise ApiError(400, "engine optimize runs as a background job: POST /api/jobs")
    style = _style_request(emotion, strength, engine, preserve_color, {
        "expression": expression, "face_strength": face_strength,
        "person_strength": person_strength,
        "background_strength": background_strength})
    data, name = await read_input(c, image, example)
    png, report = await c.pool.run(lambda: stylize_png(data, name, style, c))
    return with_png(png, report)


@router.post("/jobs", status_code=202, summary="start an optimize-engine stylize job",
             description="Answers at once with the job's state; poll GET /api/jobs/{id}, "
                         "cancel with DELETE, fetch GET /api/jobs/{id}/result when done.")
async def start_job(request: Request, image: Upload = None, example: Text = None,
                    emotion: Annotated[str, Form()] = "auto", strength: Number = None,
                    preserve_color: Annotated[bool, Form()] = False,
                    steps: Annotated[int, Form()] = 60,
                    size: Annotated[int, Form()] = 256) -> dict:
    c = ctx(request)
    c.require_page("studio")
    if not OPTIMIZE_STEPS[0] <= steps <= OPTIMIZE_STEPS[1]:
        raise ApiError(400, f"steps {steps}: must be between {OPTIMIZE_STEPS[0]} and "
                            f"{OPTIMIZE_STEPS[1]}")
    if not OPTIMIZE_SIZE[0] <= size <= OPTIMIZE_SIZE[1]:
        raise ApiError(400, f"size {size}: must be between {OPTIMIZE_SIZE[0]} and "
                            f"{OPTIMIZE_SIZE[1]}")
    # MobileNet is the backbone that works offline; the time limit ends a run that is too slow.
    options = {"steps": steps, "size": size, "backbone": "mobilenet",
               "time_budget": c.settings.job_timeout}
    style = _style_request(emotion, strength, "optimize", preserve_color, {}, options)
    data, name = await read_input(c, image, example)
    decode_image(data, name, c.settings.max_pixels)  # a bad upload fails now, not in the job

    def work(progress) -> tuple[bytes, dict]:
        from moodshift.style.engines.optimize import STEP_LISTENER

        token = STEP_LISTENER.set(lambda done, total: progress(done / max(1, total)))
        try:
            return stylize_png(data, name, style, c)
        finally:
            STEP_LISTENER.reset(token)

    return c.jobs.submit(work, f"{name}: {emotion}, optimize {steps} steps at {size} px")


@router.get("/jobs/{job_id}", summary="a job's state and progress (0..1)")
def job_state(job_id: str, request: Request) -> dict:
    return ctx(request).jobs.state(job_id)


@router.delete("/jobs/{job_id}", summary="cancel a job (it stops at its next step)")
def cancel_job(job_id: str, request: Request) -> dict:
    return ctx(request).jobs.cancel(job_id)


@router.get("/jobs/{job_id}/result", summary="a finished job's report and PNG")
def job_result(job_id: str, request: Request) -> dict:
    png, report = ctx(request).jobs.result(job_id)
    return with_png(png, report)
