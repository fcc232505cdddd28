"""What one `moodshift serve` runs with: address, pages, limits, pool sizes. Validated here, so
the command line and tests share one set of checks."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from moodshift.errors import UserError

PAGES = ("studio", "portraits", "ratings")
MB = 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1                     # uvicorn worker processes, each with its own models
    pages: tuple[str, ...] = PAGES
    ratings_db: Path | None = None
    images: Path | None = None           # the folder of images being rated
    max_upload_bytes: int = 20 * MB      # a request body over this answers 413
    max_pixels: int = 16_000_000         # an image over this answers 413 (checked from its header)
    threads: int = 2                     # requests computing at once, per worker
    queue: int = 32                      # requests waiting for a thread before 503s start
    request_timeout: float = 120.0       # seconds a request may wait and compute
    body_timeout: float = 30.0           # seconds a client may take to send its request body
    header_timeout: float = 15.0         # seconds a connection may take to send its headers
    job_timeout: float = 900.0           # seconds an optimize job may run
    max_jobs: int = 2                    # optimize jobs running or queued, per worker
    warm: bool = True                    # load the models at start-up, not on the first request
    log: bool = False                    # log each request
    jobs_dir: Path | None = None         # shared by the workers; None: a temporary folder
    extra_hosts: tuple[str, ...] = field(default=())  # Host names accepted besides this address

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise UserError(f"--port {self.port}: must be between 0 and 65535")
        if not 1 <= self.workers <= 64:
            raise UserError(f"--workers {self.workers}: must be between 1 and 64")
        unknown = [p for p in self.pages if p not in PAGES]
        if unknown or not self.pages:
            raise UserError(f"pages {unknown or '(none)'}: choose among {', '.join(PAGES)}")
        if (self.ratings_db is None) != (self.images is None):
            raise UserError("--ratings-db and --images go together: the rating study needs "
                            "both the images to rate and the database for the ratings")
        if self.pages == ("ratings",) and self.images is None:
            raise UserError("the ratings page needs --images DIR and --ratings-db FILE")
        for name in ("max_upload_bytes", "max_pixels", "threads"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} {getattr(self, name)}: must be at least 1")
        if self.queue < 0 or self.max_jobs < 0:
            raise UserError("queue sizes must not be negative")
        for name in ("request_timeout", "body_timeout", "header_timeout", "job_timeout"):
            if not getattr(self, name) > 0:
                raise UserError(f"{name} {getattr(self, name)}: must be a positive number of "
                                "seconds")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def allowed_hosts(self) -> frozenset[str] | None:
        """Host header names answered; None: any (bound to a public address on purpose).

        On a loopback address only this machine's names are answered: a page elsewhere could
        otherwise point its own domain at 127.0.0.1 (DNS rebinding) and use the API through
        the user's browser.
        """
        if not self.loopback:
            return None
        return frozenset(LOOPBACK_NAMES) | frozenset(h.lower() for h in self.extra_hosts)

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/"

    def to_env(self) -> str:
        """JSON for the worker processes (uvicorn starts each from an import string)."""
        raw = asdict(self)
        return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in raw.items()})

    @classmethod
    def from_env(cls, text: str) -> WebSettings:
        raw = json.loads(text)
        paths = {f.name for f in fields(cls) if "Path" in str(f.type)}
        tuples = {"pages", "extra_hosts"}
        return cls(**{k: (Path(v) if k in paths and v is not None
                          else tuple(v) if k in tuples else v) for k, v in raw.items()})
