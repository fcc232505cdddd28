"""The SQLite store of SAM ratings: schema, versioning, validation and safe concurrent writes.

One connection per operation (sqlite3 connections must not cross threads), WAL journal so
readers never block the writer, and a busy timeout so several raters posting at the same moment
simply queue. The schema version lives in `PRAGMA user_version`; a database written by a newer
moodshift is refused rather than misread.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
RATER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
SAM_MIN, SAM_MAX = 1, 9
RATING_FIELDS = ("rater", "image", "valence", "arousal", "dominance", "emotion")

_EMOTION_LIST = ", ".join(f"'{e}'" for e in EMOTIONS)
_SCHEMA = f"""
CREATE TABLE images (
    hash TEXT PRIMARY KEY CHECK (length(hash) = 64),
    name TEXT NOT NULL,
    intent TEXT NOT NULL DEFAULT '{{}}',
    added_at TEXT NOT NULL
);
CREATE TABLE ratings (
    id INTEGER PRIMARY KEY,
    rater TEXT NOT NULL,
    image_hash TEXT NOT NULL REFERENCES images(hash),
    valence INTEGER NOT NULL CHECK (valence BETWEEN {SAM_MIN} AND {SAM_MAX}),
    arousal INTEGER NOT NULL CHECK (arousal BETWEEN {SAM_MIN} AND {SAM_MAX}),
    dominance INTEGER NOT NULL CHECK (dominance BETWEEN {SAM_MIN} AND {SAM_MAX}),
    emotion TEXT CHECK (emotion IS NULL OR emotion IN ({_EMOTION_LIST})),
    created_at TEXT NOT NULL,
    UNIQUE (rater, image_hash)
);
CREATE INDEX ratings_by_image ON ratings(image_hash);
"""


class RatingError(ValueError):
    """A rating request that cannot be stored; the message says which field and why."""


class DuplicateRating(RatingError):
    """This rater has already rated this image."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RatedImage:
    """An image known to the database: its content hash, file name and moodshift intent."""

    hash: str
    name: str
    intent: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"hash": self.hash, "name": self.name, "intent": self.intent}


@dataclass(frozen=True)
class Rating:
    """One rater's SAM judgement of one image (valence/arousal/dominance 1..9)."""

    rater: str
    image: str
    valence: int
    arousal: int
    dominance: int
    emotion: str | None = None
    created_at: str = ""

    def to_json(self) -> dict[str, object]:
        return {"rater": self.rater, "image": self.image, "valence": self.valence,
                "arousal": self.arousal, "dominance": self.dominance, "emotion": self.emotion,
                "created_at": self.created_at}


def check_rater(value: object) -> str:
    if not isinstance(value, str) or not RATER_PATTERN.fullmatch(value):
        raise RatingError("rater: must be 1-64 characters of letters, digits, '_', '.', '@' "
                          "or '-', starting with a letter or digit")
    return value


def parse_rating(payload: object, known_images: set[str] | frozenset[str]) -> Rating:
    """Validate a rating request (a decoded JSON object); raise RatingError naming the field."""
    if not isinstance(payload, dict):
        raise RatingError("body: expected a JSON object")
    unknown = sorted(set(payload) - set(RATING_FIELDS))
    if unknown:
        raise RatingError(f"{unknown[0]}: unknown field (expected {', '.join(RATING_FIELDS)})")
    rater = check_rater(payload.get("rater"))
    image = payload.get("image")
    if not isinstance(image, str) or not HASH_PATTERN.fullmatch(image):
        raise RatingError("image: must be a 64-character lowercase hex sha256")
    if image not in known_images:
        raise RatingError("image: unknown image (not one of the images being rated)")
    scores = {}
    for name in ("valence", "arousal", "dominance"):
        value = payload.get(name)
        # bool is an int subclass in Python: true/false must not pass as 1/0.
        if isinstance(value, bool) or not isinstance(value, int) \
                or not SAM_MIN <= value <= SAM_MAX:
            raise RatingError(f"{name}: must be an integer from {SAM_MIN} to {SAM_MAX}")
        scores[name] = value
    emotion = payload.get("emotion")
    if emotion == "":
        emotion = None
    if emotion is not None and emotion not in EMOTIONS:
        raise RatingError(f"emotion: must be empty or one of {', '.join(EMOTIONS)}")
    return Rating(rater=rater, image=image, emotion=emotion, **scores)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: autocommit, transactions only where written out explicitly.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def _is_moodshift_db(conn: sqlite3.Connection) -> bool:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {"images", "ratings"} <= tables


class RatingStore:
    """A ratings database file. Every method opens its own short-lived connection."""

    def __init__(self, path: str | Path, create: bool = False) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputFileError(self.path, "is a folder, expected a ratings database file")
        if not create and not self.path.exists():
            raise InputFileError(self.path, "no such ratings database")
        if create and not self.path.parent.is_dir():
            raise InputFileError(self.path, "its folder does not exist")
        self._open_and_check(create)

    def _open_and_check(self, create: bool) -> None:
        try:
            with closing(_connect(self.path)) as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise InputFileError(
                        self.path, f"ratings database schema version {version} is newer than "
                                   f"this moodshift supports ({SCHEMA_VERSION}); upgrade moodshift")
                if version == SCHEMA_VERSION and _is_moodshift_db(conn):
                    return
                if not create or conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise InputFileError(self.path, "not a moodshift ratings database")
                # WAL is a property of the file, kept once set; it cannot change in a transaction.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # Another process may have created the schema while we waited for the lock.
                    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as exc:
            raise InputFileError(self.path, f"cannot use as a ratings database ({exc})") from None

    def connection(self) -> sqlite3.Connection:
        conn = _connect(self.path)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def register_images(self, images: list[RatedImage]) -> None:
        """Record the images being served (first sighting wins; intent refreshed)."""
        with closing(self.connection()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            for img in images:
                conn.execute(
                    "INSERT INTO images (hash, name, intent, added_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(hash) DO UPDATE SET intent = excluded.intent",
                    (img.hash, img.name, json.dumps(img.intent, ensure_ascii=False), utc_now()))
            conn.execute("COMMIT")

    def add_rating(self, rating: Rating) -> Rating:
        """Store one rating (timestamped now, UTC); DuplicateRating if the rater did this one."""
        stamped = Rating(**{**rating.to_json(), "created_at": utc_now()})
        try:
            with closing(self.connection()) as conn:
                conn.execute(
                    "INSERT INTO ratings (rater, image_hash, valence, arousal, dominance, emotion,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (stamped.rater, stamped.image, stamped.valence, stamped.arousal,
                     stamped.dominance, stamped.emotion, stamped.created_at))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise DuplicateRating("image: this rater has already rated this image") from None
            raise RatingError(f"rating rejected by the database ({exc})") from None
        return stamped

    def rated_by(self, rater: str) -> set[str]:
        with closing(self.connection()) as conn:
            rows = conn.execute("SELECT image_hash FROM ratings WHERE rater = ?", (rater,))
            return {r[0] for r in rows}

    def images(self) -> list[RatedImage]:
        with closing(self.connection()) as conn:
            rows = conn.execute("SELECT hash, name, intent FROM images ORDER BY name, hash")
            return [RatedImage(r["hash"], r["name"], _load_intent(r["intent"])) for r in rows]

    def ratings(self) -> list[Rating]:
        with closing(self.connection()) as conn:
            rows = conn.execute("SELECT rater, image_hash, valence, arousal, dominance, emotion, "
                                "created_at FROM ratings ORDER BY id")
            return [Rating(r["rater"], r["image_hash"], r["valence"], r["arousal"],
                           r["dominance"], r["emotion"], r["created_at"]) for r in rows]

    def count(self) -> int:
        with closing(self.connection()) as conn:
            return int(conn.execute("SELECT count(*) FROM ratings").fetchone()[0])


def _load_intent(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def rater_order(rater: str, hashes: Iterator[str] | list[str] | Mapping[str, object]) -> list[str]:
    """A random-looking order of the images, fixed per rater.

    Seeding by rater means a page reload (or a second tab) shows the same next image instead of
    a different one, while different raters still see different orders.
    """
    return sorted(hashes, key=lambda h: hashlib.sha256(f"{rater}\0{h}".encode()).hexdigest())
