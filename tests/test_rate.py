"""SAM rating: pictograms, validation, the HTTP API (moodshift.web, served by uvicorn) with two
raters at once, the SQLite store and the report (statistics, CSV, plots, JSON), all on tiny
generated images."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rate_data import make_images

from moodshift.emotions import EMOTIONS
from moodshift.rate.db import (
    SCHEMA_VERSION,
    RatedImage,
    Rating,
    RatingError,
    RatingStore,
    parse_rating,
)
from moodshift.rate.report import intended_emotion
from moodshift.rate.sam import DIMENSIONS, LEVELS, manikin_svg
from moodshift.rate.stats import (
    krippendorff_alpha_interval,
    krippendorff_alpha_nominal,
    pearson,
    sam_to_unit,
)
from moodshift.web.server import BackgroundServer
from moodshift.web.settings import WebSettings


def rating_settings(tmp_path: Path, **extra) -> WebSettings:
    return WebSettings(port=0, pages=("ratings",), images=tmp_path / "images",
                       ratings_db=tmp_path / "ratings.db", warm=False, **extra)


@pytest.fixture
def server(tmp_path: Path):
    hashes = make_images(tmp_path / "images")
    with BackgroundServer(rating_settings(tmp_path)) as srv:
        srv.hashes = hashes
        srv.store = srv.context.study.store
        yield srv


def request(srv, path: str, payload: object = None, content_type: str = "application/json",
            raw: bytes | None = None) -> tuple[int, bytes, str]:
    data = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    req = urllib.request.Request(srv.url.rstrip("/") + path, data=data,
                                 headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def post_rating(srv, **fields) -> tuple[int, dict]:
    status, body, _ = request(srv, "/api/ratings", fields)
    return status, json.loads(body)


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT rater, image_hash, valence, arousal, dominance, emotion, "
                            "created_at FROM ratings ORDER BY id").fetchall()


# --- pictograms ---------------------------------------------------------------------------

def test_sam_figures_are_valid_distinct_svg() -> None:
    figures = {(d, level): manikin_svg(d, level) for d in DIMENSIONS for level in LEVELS}
    for svg in figures.values():
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 100 120"
    assert len(set(figures.values())) == 27  # every point of every scale looks different
    with pytest.raises(ValueError):
        manikin_svg("valence", 10)
    with pytest.raises(ValueError):
        manikin_svg("pleasure", 5)


# --- validation ----------------------------------------------------------------------------

GOOD = {"rater": "ann", "image": "a" * 64, "valence": 1, "arousal": 9, "dominance": 5,
        "emotion": "sad"}


@pytest.mark.parametrize("change, field", [
    ({"rater": ""}, "rater"), ({"rater": "a b"}, "rater"), ({"rater": "x" * 65}, "rater"),
    ({"rater": "-lead"}, "rater"), ({"image": "A" * 64}, "image"), ({"image": "b" * 64}, "image"),
    ({"valence": 0}, "valence"), ({"arousal": 10}, "arousal"), ({"dominance": "5"}, "dominance"),
    ({"valence": True}, "valence"), ({"arousal": 5.0}, "arousal"), ({"emotion": "joy"}, "emotion"),
    ({"extra": 1}, "extra"),
])
def test_parse_rating_rejects_each_bad_field(change: dict, field: str) -> None:
    with pytest.raises(RatingError, match=f"^{field}:"):
        parse_rating(GOOD | change, {"a" * 64})


def test_parse_rating_accepts_good_and_empty_emotion() -> None:
    assert parse_rating(GOOD, {"a" * 64}).emotion == "sad"
    assert parse_rating(GOOD | {"emotion": ""}, {"a" * 64}).emotion is None
    missing = {k: v for k, v in GOOD.items() if k != "dominance"}
    with pytest.raises(RatingError, match="^dominance:"):
        parse_rating(missing, {"a" * 64})


# --- HTTP API ------------------------------------------------------------------------------

def test_page_and_image_bytes(server, tmp_path: Path) -> None:
    status, body, ctype = request(server, "/")  # the ratings-only server opens on its page
    assert status == 200 and ctype.startswith("text/html") and b"Rater id" in body
    status, body, _ = request(server, "/api/ratings/sam")
    sam = json.loads(body)
    assert [d["name"] for d in sam["dimensions"]] == list(DIMENSIONS)
    assert sum(lv["svg"].count("<svg") for d in sam["dimensions"] for lv in d["levels"]) == 27
    assert sam["emotions"] == list(EMOTIONS)
    # only the ratings page: the studio and its API are not served by `rate serve`
    assert request(server, "/studio")[0] == 404
    assert request(server, "/api/generate", {"emotion": "sad"})[0] == 404
    digest = server.hashes["happy"]
    status, body, ctype = request(server, f"/image/{digest}")
    assert status == 200 and ctype == "image/png"
    assert body == (tmp_path / "images" / "happy.png").read_bytes()
    assert request(server, "/image/" + "0" * 64)[0] == 404
    assert request(server, "/image/../ratings.db")[0] == 404
    assert request(server, "/image/%2e%2e%2fratings.db")[0] == 404
    assert request(server, "/static/../../rate/db.py")[0] == 404
    status, body, ctype = request(server, "/nope")
    assert status == 404 and ctype == "application/json" and json.loads(body)["error"]


def test_foreign_host_header_and_changed_image_are_refused(server, tmp_path: Path) -> None:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/", headers={"Host": f"evil.example:{port}"})  # DNS rebinding
    reply = conn.getresponse()
    assert reply.status == 403 and "evil.example" in json.loads(reply.read())["error"]
    conn.close()
    assert request(server, "/")[0] == 200
    path = tmp_path / "images" / "sad.png"
    path.write_bytes(path.read_bytes() + b"changed")
    status, body, _ = request(server, f"/image/{server.hashes['sad']}")
    assert status == 410 and "sad.png changed on disk" in json.loads(body)["error"]


def test_api_stores_one_rating_and_rejects_bad_requests(server, tmp_path: Path) -> None:
    db = tmp_path / "ratings.db"
    status, body, _ = request(server, "/api/ratings/next?rater=ann")
    first = json.loads(body)
    assert status == 200 and first["rated"] == 0 and first["total"] == 3
    digest = first["image"]["hash"]
    assert digest in server.hashes.values()
    code, reply = post_rating(server, rater="ann", image=digest, valence=8, arousal=3,
                              dominance=6, emotion="happy")
    assert code == 201 and reply["ok"] and reply["rating"]["valence"] == 8
    [row] = rows(db)
    assert row[:6] == ("ann", digest, 8, 3, 6, "happy") and row[6].endswith("+00:00")
    # the rater now gets a different image; the duplicate is refused
    nxt = json.loads(request(server, "/api/ratings/next?rater=ann")[1])
    assert nxt["rated"] == 1 and nxt["image"]["hash"] != digest
    code, reply = post_rating(server, rater="ann", image=digest, valence=1, arousal=1,
                              dominance=1, emotion="")
    assert code == 409 and "already rated" in reply["error"]
    bad = [({"rater": "ann", "image": "f" * 64, "valence": 5, "arousal": 5, "dominance": 5},
            "image: unknown image"),
           ({"rater": "ann", "image": digest, "valence": 12, "arousal": 5, "dominance": 5},
            "valence:"),
           ({"rater": "<script>", "image": digest, "valence": 5, "arousal": 5, "dominance": 5},
            "rater:"),
           ({"rater": "ann", "image": "../ratings.db", "valence": 5, "arousal": 5,
             "dominance": 5}, "image: must be"),
           ({"rater": "ann", "image": digest, "valence": 5, "arousal": 5, "dominance": 5,
             "note": "<b>hi</b>"}, "note: unknown field"),
           ({"rater": "ann", "image": digest, "valence": True, "arousal": 5, "dominance": 5},
            "valence:")]
    for payload, message in bad:
        code, reply = post_rating(server, **payload)
        assert code == 400 and reply["error"].startswith(message)
    status, body, _ = request(server, "/api/ratings", raw=b"{not json")
    assert status == 400 and json.loads(body)["error"] == "body: not valid JSON"
    status, _, _ = request(server, "/api/ratings", raw=b"rater=ann",
                           content_type="application/x-www-form-urlencoded")
    assert status == 415
    status, _, _ = request(server, "/api/ratings", raw=b"x" * 5000)
    assert status == 413
    assert request(server, "/api/ratings/next?rater=")[0] == 400
    assert request(server, "/api/ratings/next?rater=%3Cb%3E")[0] == 400
    assert len(rows(db)) == 1  # nothing bad got in


def test_database_failure_is_a_json_503_not_a_dropped_connection(server, monkeypatch,
                                                                   capsys) -> None:
    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(server.store, "add_rating", locked)
    monkeypatch.setattr(server.store, "rated_by", locked)
    code, reply = post_rating(server, rater="ann", image=server.hashes["sad"], valence=2,
                              arousal=2, dominance=2, emotion="")
    assert code == 503 and reply["error"].startswith("database: database is locked")
    status, body, ctype = request(server, "/api/ratings/next?rater=ann")
    assert status == 503 and ctype == "application/json" and "locked" in json.loads(body)["error"]
    assert "Traceback" not in capsys.readouterr().err


def test_two_raters_at_once_each_rate_every_image(server, tmp_path: Path) -> None:
    barrier = threading.Barrier(2)
    results: dict[str, list[int]] = {"ann": [], "bob": []}

    def rate_all(rater: str, score: int) -> None:
        barrier.wait()
        while True:
            nxt = json.loads(request(server, f"/api/ratings/next?rater={rater}")[1])
            if nxt["image"] is None:
                break
            code, _ = post_rating(server, rater=rater, image=nxt["image"]["hash"],
                                  valence=score, arousal=score, dominance=score, emotion="")
            results[rater].append(code)

    threads = [threading.Thread(target=rate_all, args=(r, s)) for r, s in (("ann", 2), ("bob", 8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"ann": [201] * 3, "bob": [201] * 3}
    stored = rows(tmp_path / "ratings.db")
    assert len(stored) == 6
    for rater, score in (("ann", 2), ("bob", 8)):
        mine = [r for r in stored if r[0] == rater]
        assert {r[1] for r in mine} == set(server.hashes.values())
        assert all(r[2:5] == (score, score, score) and r[5] is None for r in mine)
    with sqlite3.connect(tmp_path / "ratings.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_store_survives_many_concurrent_writers(tmp_path: Path) -> None:
    store = RatingStore(tmp_path / "r.db", create=True)
    images = [RatedImage(f"{i:064x}", f"{i}.png") for i in range(20)]
    store.register_images(images)
    errors: list[BaseException] = []

    def worker(rater: str) -> None:
        try:
            for img in images:
                store.add_rating(Rating(rater, img.hash, 5, 5, 5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and store.count() == 80


# --- statistics and report -----------------------------------------------------------------

def test_krippendorff_alpha_matches_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units
    # with missing values: alpha nominal 0.743, interval 0.849.
    coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
              [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
              [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
              [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    units = [[v for v in unit if v is not None] for unit in zip(*coders)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha_interval(units) == pytest.approx(0.849, abs=5e-4)
    assert krippendorff_alpha_interval([[3, 3], [7, 7]]) == pytest.approx(1.0)
    assert krippendorff_alpha_interval([[5]]) is None


def test_pearson_and_sam_mapping() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=30), rng.normal(size=30)
    c = pearson(x, y)
    assert c.r == pytest.approx(np.corrcoef(x, y)[0, 1]) and c.ci95[0] < c.r < c.ci95[1]
    assert pearson([1, 2], [3, 4]).r is None
    assert [sam_to_unit(s) for s in (1, 5, 9)] == [-1.0, 0.0, 1.0]
    assert intended_emotion({"emotion": "happy:0.30,sad:0.70"}) == "sad"
    assert intended_emotion({"emotion": "joy"}) == "happy" and intended_emotion({}) is None
