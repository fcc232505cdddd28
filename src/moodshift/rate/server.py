"""The rating web server: standard library only (http.server), a small JSON API and one page.

Routes
  GET  /                       the rating page
  GET  /api/next?rater=ID      {"image": {"hash", "url"} | null, "rated": n, "total": N}
  GET  /image/<sha256>         the image bytes (only images being rated)
  POST /api/rating             JSON {"rater", "image", "valence", "arousal", "dominance",
                               "emotion"} -> 201 {"ok": true, "rating": {...}}
Every error is a JSON object {"error": "field: problem"} with a 4xx status.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import mimetypes
import socket
import sqlite3
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from moodshift.errors import UserError
from moodshift.imageio import list_images, load_image, read_metadata
from moodshift.models.store import sha256_file
from moodshift.rate.db import (
    HASH_PATTERN,
    DuplicateRating,
    RatedImage,
    RatingError,
    RatingStore,
    check_rater,
    parse_rating,
    rater_order,
)
from moodshift.rate.page import render_page

MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class ServedImage:
    hash: str
    path: Path
    content_type: str


def scan_images(folder: str | Path) -> tuple[dict[str, ServedImage], list[RatedImage]]:
    """Hash, check and read the intent of every image in a folder (not recursive).

    A file that does not decode is an error: a study should not silently lose a stimulus.
    Identical files (same sha256) are served once.
    """
    root = Path(folder)
    if not root.exists():
        raise UserError(f"{root}: no such folder")
    if not root.is_dir():
        raise UserError(f"{root}: --images must be a folder of images")
    served: dict[str, ServedImage] = {}
    records: list[RatedImage] = []
    for path in list_images(root):
        load_image(path)  # raises InputFileError naming the file when it cannot be decoded
        digest = sha256_file(path)
        if digest in served:
            continue
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        served[digest] = ServedImage(digest, path, content_type)
        records.append(RatedImage(digest, path.name, read_metadata(path)))
    return served, records


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RatingServer(ThreadingHTTPServer):
    """Serves one set of images and stores ratings in one database."""

    daemon_threads = True  # a hung client must not keep Ctrl-C from stopping the server

    def __init__(self, address: tuple[str, int], store: RatingStore,
                 images: dict[str, ServedImage], quiet: bool = True) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.store = store
        self.images = images
        self.known = frozenset(images)
        self.quiet = quiet
        self.loopback = _is_loopback(address[0])
        self.page = render_page().encode("utf-8")
        super().__init__(address, RatingHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"


class RatingHandler(BaseHTTPRequestHandler):
    server: RatingServer
    server_version = "moodshift-rate"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, content_type: str,
              cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: object) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _host_allowed(self) -> bool:
        """On a loopback address, answer only requests addressed to this machine by name.

        A web page elsewhere could otherwise point its own domain at 127.0.0.1 (DNS rebinding)
        and post ratings through the rater's browser.
        """
        if not self.server.loopback:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.strip("[]") in ("localhost", "127.0.0.1", "::1"):
            return True
        self._error(403, f"Host: {host or '(missing)'} is not this machine; open "
                         f"{self.server.url} instead")
        return False

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    do_HEAD = do_GET

    def _answer(self, route) -> None:
        """Run one route; a database failure (locked past the busy timeout, disk full, file
        made read-only) becomes a JSON 503 instead of a dropped connection and a traceback."""
        if not self._host_allowed():
            return
        try:
            route()
        except sqlite3.Error as exc:
            sys.stderr.write(f"moodshift rate: database error: {exc}\n")
            self._error(503, f"database: {exc}; nothing was stored, try again")

    def _get(self) -> None:
        parts = urlsplit(self.path)
        if parts.path in ("/", "/index.html"):
            self._send(200, self.server.page, "text/html; charset=utf-8")
        elif parts.path == "/api/next":
            self._next(parse_qs(parts.query))
        elif parts.path.startswith("/image/"):
            self._image(parts.path[len("/image/"):])
        else:
            self._error(404, f"{parts.path}: no such page")

    def _next(self, query: dict[str, list[str]]) -> None:
        values = query.get("rater", [])
        try:
            rater = check_rater(values[0] if len(values) == 1 else None)
        except RatingError as exc:
            self._error(400, str(exc))
            return
        done = self.server.store.rated_by(rater) & self.server.known
        todo = [h for h in rater_order(rater, self.server.images) if h not in done]
        image = {"hash": todo[0], "url": f"/image/{todo[0]}"} if todo else None
        self._json(200, {"image": image, "rated": len(done), "total": len(self.server.known)})

    def _image(self, digest: str) -> None:
        entry = self.server.images.get(digest) if HASH_PATTERN.fullmatch(digest) else None
        if entry is None:
            self._error(404, "image: unknown image")
            return
        try:
            data = entry.path.read_bytes()
        except OSError:
            self._error(404, "image: file no longer readable on the server")
            return
        # Ratings are keyed by content hash: never show different bytes under a rated hash.
        if hashlib.sha256(data).hexdigest() != digest:
            self._error(410, f"image: {entry.path.name} changed on disk since the server "
                             "started; restart `moodshift rate serve`")
            return
        # Content-addressed URL: the bytes behind a hash never change.
        self._send(200, data, entry.content_type, cache="private, max-age=86400")

    def _post(self) -> None:
        if urlsplit(self.path).path != "/api/rating":
            self._error(404, f"{self.path}: no such endpoint")
            return
        # Requiring a JSON content type also stops plain cross-site form posts.
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._error(415, "body: Content-Type must be application/json")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(411, "body: Content-Length required")
            return
        if length < 0 or length > MAX_BODY_BYTES:
            # Read (a bounded amount of) what was sent so the client sees the reply rather than
            # a connection reset; then close, since the stream position is no longer known.
            if 0 < length <= 1 << 20:
                self.rfile.read(length)
            self.close_connection = True
            self._error(413, f"body: larger than {MAX_BODY_BYTES} bytes")
            return
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._error(400, "body: not valid JSON")
            return
        try:
            rating = parse_rating(payload, self.server.known)
            stored = self.server.store.add_rating(rating)
        except DuplicateRating as exc:
            self._error(409, str(exc))
            return
        except RatingError as exc:
            self._error(400, str(exc))
            return
        self._json(201, {"ok": True, "rating": stored.to_json()})


def make_server(images_dir: str | Path, db_path: str | Path, host: str = "127.0.0.1",
                port: int = 8000, quiet: bool = True) -> RatingServer:
    """Check the images, open (or create) the database and bind; nothing is served yet."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port}: must be between 0 and 65535")
    images, records = scan_images(images_dir)  # before the database: bad input creates no file
    store = RatingStore(db_path, create=True)
    store.register_images(records)
    try:
        return RatingServer((host, port), store, images, quiet=quiet)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot listen on {host}:{port} ({reason}); "
                        "choose another --port or --host") from None
