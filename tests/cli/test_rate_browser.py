"""The rating page in a real headless browser (Debian's chromium driven by Playwright): enter a
rater id, rate three images by clicking SAM figures, then check the database and the report."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from moodshift.cli import main
from moodshift.emotions import EMOTION_VAD
from moodshift.imageio import save_image
from moodshift.rate.server import make_server

CHROMIUM = os.environ.get("MOODSHIFT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return f"no chromium browser at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Debian's chromium, never a browser downloaded by Playwright.
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def served(tmp_path: Path):
    folder = tmp_path / "images"
    for i, emotion in enumerate(("happy", "sad", "fear")):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, :, i] = 220
        save_image(img, folder / f"{emotion}.png",
                   metadata={"tool": "generate", "emotion": emotion,
                             "target_vad": EMOTION_VAD[emotion].to_json()})
    srv = make_server(folder, tmp_path / "ratings.db", port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield srv, tmp_path / "ratings.db"
    srv.shutdown()
    srv.server_close()


# The rater's answers, by the intended emotion in each image's file name.
ANSWERS = {"happy.png": (8, 6, 7, "happy"), "sad.png": (2, 3, 3, "sad"),
           "fear.png": (3, 8, 2, "")}


def test_rate_three_images_in_browser(browser, served, capsys) -> None:
    srv, db = served
    names = {h: img.path.name for h, img in srv.images.items()}
    page = browser.new_page()
    page.goto(srv.url)
    assert page.locator("svg").count() == 27
    page.fill("#rater", "tester_1")
    page.click("#begin")
    for _ in range(3):
        page.wait_for_function("document.getElementById('image').complete && "
                               "document.getElementById('image').naturalWidth > 0 && "
                               "document.getElementById('image').style.visibility !== 'hidden'")
        assert page.is_disabled("#submit")
        shown = page.get_attribute("#image", "src").rsplit("/", 1)[1]
        v, a, d, label = ANSWERS[names[shown]]
        page.click(f'[data-testid="valence-{v}"]')
        page.click(f'[data-testid="arousal-{a}"]')
        assert page.is_disabled("#submit")  # dominance still missing
        page.click(f'[data-testid="dominance-{d}"]')
        assert page.get_attribute(f'[data-testid="valence-{v}"]', "aria-pressed") == "true"
        if label:
            page.check(f'[data-testid="emotion-{label}"]')
        page.click("#submit")
        page.wait_for_function(f"document.getElementById('image').getAttribute('src') !== "
                               f"'/image/{shown}' || !document.getElementById('done').hidden")
    page.wait_for_selector("#done", state="visible")
    assert "3 of 3 rated" in page.inner_text("#progress")
    page.close()

    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT rater, image_hash, valence, arousal, dominance, emotion "
                              "FROM ratings").fetchall()
    assert len(stored) == 3
    for rater, digest, v, a, d, emotion in stored:
        want = ANSWERS[names[digest]]
        assert (rater, v, a, d, emotion or "") == ("tester_1", *want)

    assert main(["rate", "report", "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ratings"] == 3 and report["raters"] == {"tester_1": 3}
    by_name = {img["name"]: img for img in report["images"]}
    assert by_name["happy.png"]["mean"]["valence"] == 8.0
    assert by_name["fear.png"]["labels"] == {}
    assert report["correlation"]["valence"]["n"] == 3
    assert report["correlation"]["valence"]["r"] > 0.9  # ratings above follow the intent
    agreement = {e["emotion"]: e["agreement"] for e in report["emotion_agreement"]}
    assert agreement == {"fear": None, "happy": 1.0, "sad": 1.0}


def _start(browser, url: str, rater: str):
    context = browser.new_context()  # its own localStorage: a separate rater's browser
    page = context.new_page()
    page.goto(url)
    page.fill("#rater", rater)
    page.click("#begin")
    return context, page


def _rate_shown(page, names: dict[str, str], answers: dict[str, tuple]) -> str:
    # the page shows the image (and enables Save) only once the new one has loaded
    page.wait_for_function("document.getElementById('image').naturalWidth > 0 && "
                           "document.getElementById('image').style.visibility !== 'hidden'")
    shown = page.get_attribute("#image", "src").rsplit("/", 1)[1]
    v, a, d, _ = answers[names[shown]]
    for dim, level in (("valence", v), ("arousal", a), ("dominance", d)):
        page.click(f'[data-testid="{dim}-{level}"]')
    return shown


def test_two_raters_in_two_browsers_interleaved(browser, served) -> None:
    srv, db = served
    names = {h: img.path.name for h, img in srv.images.items()}
    (ctx_a, a), (ctx_b, b) = _start(browser, srv.url, "ann"), _start(browser, srv.url, "bob")
    opposite = {k: (10 - v, 10 - ar, 10 - d, "") for k, (v, ar, d, _) in ANSWERS.items()}
    for _ in range(3):
        shown_a = _rate_shown(a, names, ANSWERS)
        shown_b = _rate_shown(b, names, opposite)
        a.click("#submit")  # both saves in flight together
        b.click("#submit")
        for page, shown in ((a, shown_a), (b, shown_b)):
            page.wait_for_function(f"document.getElementById('image').getAttribute('src') !== "
                                   f"'/image/{shown}' || !document.getElementById('done').hidden")
    for page in (a, b):
        page.wait_for_selector("#done", state="visible")
    ctx_a.close()
    ctx_b.close()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT rater, image_hash, valence FROM ratings").fetchall()
    assert len(stored) == 6
    for rater, digest, v in stored:
        want = ANSWERS[names[digest]][0]
        assert v == (want if rater == "ann" else 10 - want)


def test_browser_shows_validation_error_for_bad_rater_id(browser, served) -> None:
    srv, db = served
    page = browser.new_page()
    page.goto(srv.url)
    page.fill("#rater", "bad id!")
    page.click("#begin")
    assert "Rater id" in page.inner_text("#status")
    assert page.is_hidden("#rating")
    page.close()


def test_image_hidden_and_save_disabled_until_the_image_loads(browser, served) -> None:
    srv, db = served
    page = browser.new_page()
    held = []  # image requests the "network" has not answered yet
    page.route("**/image/*", lambda route: held.append(route))
    page.goto(srv.url)
    page.fill("#rater", "slow_net")
    page.click("#begin")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the page never asked for an image"
    for dim in ("valence", "arousal", "dominance"):
        page.click(f'[data-testid="{dim}-5"]')
    # all three scales chosen, but the image is not on screen yet: nothing to rate
    assert page.is_disabled("#submit")
    assert page.evaluate("document.getElementById('image').style.visibility") == "hidden"
    held.pop().continue_()
    page.wait_for_function("!document.getElementById('submit').disabled")
    assert page.evaluate("document.getElementById('image').style.visibility") == ""
    page.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
