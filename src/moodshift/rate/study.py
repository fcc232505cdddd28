"""A rating study: a folder of images (content-addressed) and the database their ratings go to.

What any front end needs to run the SAM study: which image a rater sees next, the bytes of an
image by its hash (refusing anything else, so no path ever comes from a request), and storing a
validated rating. The web app (moodshift.web) serves it over HTTP.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from moodshift.errors import UserError
from moodshift.imageio import list_images, load_image, read_metadata
from moodshift.models.store import sha256_file
from moodshift.rate.db import (
    HASH_PATTERN,
    RatedImage,
    Rating,
    RatingStore,
    check_rater,
    parse_rating,
    rater_order,
)


@dataclass(frozen=True)
class ServedImage:
    hash: str
    path: Path
    content_type: str


class ImageGone(LookupError):
    """The image is known but its file is unreadable or changed since the study started."""


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


@dataclass(frozen=True)
class NextImage:
    """What a rater does next: the hash of the image to rate (None when done) and progress."""

    hash: str | None
    rated: int
    total: int

    def to_json(self) -> dict[str, object]:
        image = None if self.hash is None else {"hash": self.hash, "url": f"/image/{self.hash}"}
        return {"image": image, "rated": self.rated, "total": self.total}


class RatingStudy:
    """The images being rated and the store their ratings go to."""

    def __init__(self, images: dict[str, ServedImage], store: RatingStore) -> None:
        self.images = images
        self.known = frozenset(images)
        self.store = store

    @classmethod
    def open(cls, images_dir: str | Path, db_path: str | Path) -> RatingStudy:
        """Check the images, then open (or create) the database and record the images.

        The images are checked first, so bad input creates no database file.
        """
        images, records = scan_images(images_dir)
        store = RatingStore(db_path, create=True)
        store.register_images(records)
        return cls(images, store)

    def next_for(self, rater: object) -> NextImage:
        """The rater's next unrated image in their own fixed order (RatingError for a bad id)."""
        rater = check_rater(rater)
        done = self.store.rated_by(rater) & self.known
        todo = [h for h in rater_order(rater, self.images) if h not in done]
        return NextImage(todo[0] if todo else None, len(done), len(self.known))

    def add(self, payload: object) -> Rating:
        """Validate and store one rating (RatingError / DuplicateRating name the problem)."""
        return self.store.add_rating(parse_rating(payload, self.known))

    def image_bytes(self, digest: str) -> tuple[bytes, ServedImage]:
        """The bytes of a served image by hash: KeyError for anything not being rated,
        ImageGone when its file changed or vanished (ratings are keyed by content)."""
        entry = self.images.get(digest) if HASH_PATTERN.fullmatch(digest) else None
        if entry is None:
            raise KeyError(digest)
        try:
            data = entry.path.read_bytes()
        except OSError:
            raise ImageGone("image: file no longer readable on the server") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ImageGone(f"image: {entry.path.name} changed on disk since the server "
                            "started; restart the server")
        return data, entry
