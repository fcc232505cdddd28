"""The application factory: one FastAPI app with the studio, portraits and ratings pages, the
JSON API they use (OpenAPI docs at /docs), and the guards every request passes first."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from moodshift.errors import UserError
from moodshift.web.context import WebContext
from moodshift.web.errors import ApiError
from moodshift.web.jobs import JobStore
from moodshift.web.limits import BodyLimit, HostCheck, SecurityHeaders
from moodshift.web.pool import WorkPool
from moodshift.web.settings import WebSettings

log = logging.getLogger("moodshift.web")
STATIC = Path(str(resources.files("moodshift.web").joinpath("static")))
PAGE_FILES = {"studio": "studio.html", "portraits": "portraits.html", "ratings": "ratings.html"}
SETTINGS_ENV = "MOODSHIFT_WEB_SETTINGS"


MAX_MESSAGE = 300    # a message quoting a 100 kB field back is cut: the client sent it


def api_wording(message: str) -> str:
    """A library message as the API says it: one line, a leading command-line option name
    (--strength, --face-strength) as the request's field name, at most MAX_MESSAGE characters."""
    text = " ".join(str(message).split())
    # only a message's leading option is the field it is about ("--strength 2: ..."); options
    # elsewhere ("models pull --force") and quoted values stay as written
    text = re.sub(r"^--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "\u2026"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": api_wording(message)}, status_code=status,
                        headers=headers)


def _warm(c: WebContext) -> None:
    """Load the networks the pages use once, before the first request needs them."""
    import numpy as np

    if "studio" in c.settings.pages:
        from moodshift.stylize import StyleRequest, stylize

        image = np.full((96, 96, 3), 128, np.uint8)
        stylize(image, "warm-up", StyleRequest(emotion="sad"), c.models)
        _ = c.models.age_gender
    if "portraits" in c.settings.pages:
        from moodshift.generate.gan.generator import load_generator
        from moodshift.generate.stylegan.directions import load_directions
        from moodshift.generate.stylegan.generator import load_style_generator
        from moodshift.text import read_text

        read_text(["a calm person"])
        load_generator()
        # the default generator last: when it is not pulled, the warning says so and the
        # rest is warm
        load_directions()
        _ = load_style_generator().mean_style


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    study = None
    if settings.images is not None and "ratings" in settings.pages:
        from moodshift.rate.study import RatingStudy

        study = RatingStudy.open(settings.images, settings.ratings_db)
    own_jobs_dir = settings.jobs_dir is None
    jobs_dir = Path(tempfile.mkdtemp(prefix="moodshift-jobs-")) if own_jobs_dir \
        else settings.jobs_dir
    c = WebContext(settings=settings,
                   pool=WorkPool(settings.threads, settings.queue, settings.request_timeout),
                   jobs=JobStore(jobs_dir, settings.max_jobs), study=study)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.warm and settings.pages != ("ratings",):
            try:
                c.pool.submit(lambda: _warm(c)).result()
            except UserError as exc:  # e.g. a model not pulled: say so, serve the rest
                log.warning("moodshift serve: warm-up: %s", exc)
        yield
        c.pool.shutdown()
        c.jobs.shutdown(remove=own_jobs_dir)

    # /docs is moodshift's own offline page (FastAPI's default loads Swagger UI from a CDN).
    app = FastAPI(title="moodshift", version=_version(), lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="Read the emotion in a picture and restyle it to express an "
                              "emotion. Every error is a JSON object {\"error\": \"...\"}.")
    app.state.ctx = c

    from moodshift.web import api_ratings, api_studio, api_words

    app.include_router(api_studio.router)
    app.include_router(api_words.router)
    app.include_router(api_ratings.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def page(name: str):
        def serve_page() -> FileResponse:
            c.require_page(name)
            return FileResponse(STATIC / PAGE_FILES[name], headers={"Cache-Control": "no-cache"})
        return serve_page

    for name in PAGE_FILES:
        app.add_api_route(f"/{name}", page(name), include_in_schema=False)

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def home():
        first = settings.pages[0]
        return RedirectResponse(f"/{first}", status_code=307)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc, kind = tuple(first.get("loc", ())), first.get("type", "")
        where = ".".join(str(p) for p in loc if p not in ("body", "query", "form"))
        if kind == "json_invalid":
            return _error(400, f"body: invalid JSON at character {loc[-1] if loc else '?'}")
        if loc == ("body",) and kind in ("missing", "model_attributes_type", "dict_type"):
            return _error(400, "body: a JSON object is required")
        if "Expected UploadFile" in str(first.get("msg", "")):
            return _error(400, f"{where}: must be a file upload")
        return _error(400, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            shown = "".join(ch for ch in request.url.path if ch.isprintable())[:100]
            return _error(404, f"{shown}: no such page")
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error("moodshift serve: %s %s failed", request.method, request.url.path,
                  exc_info=exc)
        return _error(500, "internal error (see the server log)")

    # Outermost first: Host check, then the body's size and pace, then headers on every reply.
    guarded = SecurityHeaders(app)
    guarded = BodyLimit(guarded, settings.max_upload_bytes, settings.body_timeout)
    guarded = HostCheck(guarded, settings.allowed_hosts, settings.url)
    app.state.guarded = guarded
    return app


def _version() -> str:
    from moodshift import __version__

    return __version__


def guarded_app(settings: WebSettings):
    """The ASGI callable uvicorn serves: the app behind its guards."""
    return create_app(settings).state.guarded


def app_from_env():
    """Factory for uvicorn's worker processes (settings passed through the environment)."""
    return guarded_app(WebSettings.from_env(os.environ[SETTINGS_ENV]))

