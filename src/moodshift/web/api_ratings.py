"""The SAM rating study: the next image for a rater, the image bytes (by content hash only),
storing a rating, and the report with its plots. Validation is the rating store's
(moodshift.rate.db): unknown fields, out-of-range scores, bad rater ids and unknown images are
refused with a message naming the field; a second rating of one image by one rater is a 409."""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from moodshift.rate.db import DuplicateRating, RatingError
from moodshift.web.context import WebContext, ctx
from moodshift.web.errors import ApiError

router = APIRouter(tags=["ratings"])
MAX_RATING_BYTES = 4096
PLOTS = ("intended_vs_rated.png", "emotion_agreement.png")
_plot_lock = threading.Lock()  # matplotlib's pyplot is not thread-safe


def _study(c: WebContext):
    c.require_page("ratings")
    if c.study is None:
        raise ApiError(404, "no rating study on this server (start it with --images DIR "
                            "--ratings-db FILE)")
    return c.study


def _database_error(exc: sqlite3.Error) -> ApiError:
    print(f"moodshift serve: database error: {exc}", file=sys.stderr)
    return ApiError(503, f"database: {exc}; nothing was stored, try again",
                    {"Retry-After": "2"})


@router.get("/api/ratings/sam", summary="the Self-Assessment Manikin figures and scale anchors")
def sam_figures(request: Request) -> dict:
    from moodshift.emotions import EMOTIONS
    from moodshift.rate.sam import ANCHORS, DIMENSIONS, LEVELS, manikin_svg

    _study(ctx(request))
    return {"dimensions": [{"name": d, "low": ANCHORS[d][0], "high": ANCHORS[d][1],
                            "levels": [{"level": lv, "svg": manikin_svg(d, lv)} for lv in LEVELS]}
                           for d in DIMENSIONS],
            "emotions": list(EMOTIONS)}


@router.get("/api/ratings/next", summary="the rater's next image and their progress")
def next_image(request: Request, rater: str = "") -> dict:
    study = _study(ctx(request))
    try:
        return study.next_for(rater).to_json()
    except RatingError as exc:
        raise ApiError(400, str(exc)) from None
    except sqlite3.Error as exc:
        raise _database_error(exc) from None


@router.post("/api/ratings", status_code=201, summary="store one rating",
             description='JSON {"rater", "image" (sha256), "valence", "arousal", "dominance" '
                         '(1..9), "emotion" (optional)}; 409 when this rater already rated it.')
async def add_rating(request: Request) -> dict:
    study = _study(ctx(request))
    # Requiring a JSON content type also stops plain cross-site form posts.
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "body: Content-Type must be application/json")
    raw = await request.body()
    if len(raw) > MAX_RATING_BYTES:
        raise ApiError(413, f"body: larger than {MAX_RATING_BYTES} bytes")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "body: not valid JSON") from None
    try:
        stored = study.add(payload)
    except DuplicateRating as exc:
        raise ApiError(409, str(exc)) from None
    except RatingError as exc:
        raise ApiError(400, str(exc)) from None
    except sqlite3.Error as exc:
        raise _database_error(exc) from None
    return {"ok": True, "rating": stored.to_json()}


@router.get("/image/{digest}", summary="an image being rated, by its sha256",
            response_class=Response)
def image(digest: str, request: Request) -> Response:
    from moodshift.rate.study import ImageGone

    study = _study(ctx(request))
    try:
        data, entry = study.image_bytes(digest)
    except KeyError:
        raise ApiError(404, "image: unknown image") from None
    except ImageGone as exc:
        raise ApiError(410, str(exc)) from None
    # Content-addressed URL: the bytes behind a hash never change.
    return Response(data, media_type=entry.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


def _report(study):
    from moodshift.rate.report import summarize

    return summarize(study.store.images(), study.store.ratings(), study.store.path.name)


@router.get("/api/ratings/report", summary="intended vs rated: correlations, agreement, alpha",
            description="The JSON of `moodshift rate report --json`.")
async def report(request: Request) -> dict:
    c = ctx(request)
    study = _study(c)
    try:
        return await c.pool.run(lambda: _report(study).to_json())
    except sqlite3.Error as exc:
        raise _database_error(exc) from None


@router.get("/api/ratings/plots/{name}", summary="the report's figures as PNG",
            response_class=Response)
async def plot(name: str, request: Request) -> Response:
    from moodshift.rate.report import write_plots

    c = ctx(request)
    study = _study(c)
    if name not in PLOTS:
        raise ApiError(404, f"plot: choose one of {', '.join(PLOTS)}")

    def work() -> bytes:
        rep = _report(study)
        with _plot_lock, tempfile.TemporaryDirectory(prefix="moodshift-plots-") as folder:
            write_plots(rep, Path(folder))
            return (Path(folder) / name).read_bytes()

    try:
        data = await c.pool.run(work)
    except sqlite3.Error as exc:
        raise _database_error(exc) from None
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})
