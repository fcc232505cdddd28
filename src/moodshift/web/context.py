"""What the routes share in one worker: settings, the models (loaded once), the pool, the jobs,
the rating study. Stored on app.state; routes reach it through `ctx(request)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from moodshift.web.errors import ApiError
from moodshift.web.jobs import JobStore
from moodshift.web.pool import WorkPool
from moodshift.web.settings import WebSettings

if TYPE_CHECKING:
    from moodshift.analyze import Models
    from moodshift.rate.study import RatingStudy


@dataclass
class WebContext:
    settings: WebSettings
    pool: WorkPool
    jobs: JobStore
    study: RatingStudy | None = None
    _models: Models | None = field(default=None, repr=False)

    @property
    def models(self) -> Models:
        if self._models is None:
            from moodshift.analyze import Models

            self._models = Models()
        return self._models

    def require_page(self, page: str) -> None:
        if page not in self.settings.pages:
            raise ApiError(404, f"the {page} page is not served here (moodshift serve serves "
                                "every page; rate serve only the ratings)")


def ctx(request: Request) -> WebContext:
    return request.app.state.ctx
