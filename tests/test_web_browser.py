"""The web pages in a real headless browser (Debian's chromium driven by Playwright, never a
browser Playwright downloads): the studio (upload the bundled photo, see its faces, choose sad,
move the strength slider, compare, download and check the file), the portraits page from a
description, and the rating study (three images rated, rows in SQLite, the report).

Each page's screenshot goes to $MOODSHIFT_SCREENSHOTS (default: a temporary folder); the README's
pictures in docs/images/web/ are these, taken with that variable set to that folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.emotions import EMOTION_VAD
from moodshift.imageio import METADATA_KEY, save_image
from moodshift.style import load_palette
from moodshift.web.server import BackgroundServer
from moodshift.web.settings import WebSettings

CHROMIUM = os.environ.get("MOODSHIFT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHOTO = Path(str(resources.files("moodshift").joinpath("data", "astronaut.png")))


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
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("MOODSHIFT_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def studio():
    # warm: the models load before the pages ask (a cold first request can take long on a busy
    # machine)
    with BackgroundServer(WebSettings(port=0, pages=("studio", "portraits"))) as srv:
        yield srv


def wait_until(page, expression: str, timeout: float = 30_000) -> None:
    """Poll a JavaScript expression until it is true. (Playwright's wait_for_function polls with
    eval inside the page, which the pages' Content-Security-Policy rightly forbids.)"""
    for _ in range(int(timeout / 50)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"still false after {timeout / 1000:g} s: {expression}")


def no_errors(page) -> list[str]:
    """Collect the page's script errors (a CSP violation or a JS bug shows up here)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_studio_upload_faces_sad_strength_compare_download(browser, studio, shots) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    errors = no_errors(page)
    page.goto(studio.url + "studio")
    assert "nothing you upload is stored" in page.inner_text("#privacy")
    page.set_input_files("#file", str(PHOTO))
    page.wait_for_selector("#analysis", state="visible", timeout=60_000)
    assert page.locator(".facebox").count() == 1
    face = page.inner_text("#faces")
    assert face.startswith("Face 1: happy") and "age" in face and "female" in face
    assert "Mood: valence" in page.inner_text("#mood")
    page.check("input[name=mode][value=one]")
    page.select_option("#emotion", "sad")
    assert page.inner_text("#target-text") == "sad"
    # every strength starts on auto: nothing is sent and the library's defaults apply, as on
    # the command line (the palette's strength for sad, the fast engine sparing the face)
    assert page.is_checked("#strength-auto") and page.is_disabled("#strength")
    assert page.is_checked("#control-face_strength-auto")
    assert page.is_disabled("#control-face_strength")
    page.click("#go")
    page.wait_for_selector("#result", state="visible", timeout=60_000)
    with page.expect_download() as auto_download:
        page.click("#download-json")
    auto_report = json.loads(Path(auto_download.value.path()).read_text())
    assert auto_report["strength"] == load_palette()["sad"].strength
    assert auto_report["regions"]["face"] == 0.0
    page.uncheck("#strength-auto")
    page.focus("#strength")  # the keyboard moves the slider: 85% -> 60%
    for _ in range(25):
        page.keyboard.press("ArrowLeft")
    assert page.inner_text("#strength-out") == "60%"
    page.evaluate("document.getElementById('after-img').removeAttribute('src')")
    page.click("#go")
    wait_until(page, "document.getElementById('after-img').naturalWidth > 0", timeout=60_000)
    assert "valence" in page.inner_text("#shift-words")
    assert "Face 1 (expression judge): happy" in page.inner_text("#face-shift")
    assert page.locator("#chart svg rect").count() == 6
    page.fill("#compare-range", "30")
    assert "30%" in page.evaluate("document.getElementById('after-img').style.clipPath")
    assert page.evaluate("document.getElementById('divider').style.left") == "30%"
    page.screenshot(path=str(shots / "studio.png"), full_page=True)

    with page.expect_download() as png_download:
        page.click("#download-png")
    assert png_download.value.suggested_filename == "astronaut.sad.png"
    with Image.open(png_download.value.path()) as img:
        assert img.size == (512, 512)
        intent = json.loads(img.info[METADATA_KEY])
    assert intent["emotion"] == "sad" and intent["strength"] == 0.6
    with page.expect_download() as json_download:
        page.click("#download-json")
    report = json.loads(Path(json_download.value.path()).read_text())
    assert report["emotion"] == "sad" and "png_base64" not in report
    assert report["mood_after"]["valence"] < report["mood_before"]["valence"]

    # the valence-arousal pad, by keyboard: a blend of the emotions nearest the point
    page.check("input[name=mode][value=pad]")
    page.focus("#pad")
    for key in ("ArrowLeft",) * 12 + ("ArrowDown",) * 6:
        page.keyboard.press(key)
    target = page.inner_text("#target-text")
    assert target.startswith("sad:") or ",sad:" in target
    assert not errors, errors
    page.close()


def test_studio_optimize_job_progress_cancel_and_result(browser, studio) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = no_errors(page)
    page.goto(studio.url + "studio")
    page.click("button[data-example=astronaut]")
    page.wait_for_selector("#controls", state="visible", timeout=60_000)
    page.check("input[name=engine][value=optimize]")
    assert page.is_visible("#optimize-row")
    page.fill("#steps", "500")
    page.fill("#size", "64")
    page.click("#go")
    page.wait_for_selector("#cancel", state="visible", timeout=30_000)
    wait_until(page, "document.getElementById('style-progress').value > 0", timeout=60_000)
    page.click("#cancel")
    wait_until(page, "document.getElementById('style-status').textContent"
                     ".includes('cancelled')", timeout=60_000)
    assert page.is_hidden("#cancel") and page.is_hidden("#result")
    page.fill("#steps", "3")
    page.click("#go")
    page.wait_for_selector("#result", state="visible", timeout=60_000)
    assert "with the optimize engine" in page.inner_text("#style-status")
    assert not errors, errors
    page.close()


def test_studio_on_a_phone_screen(browser, studio, shots) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    errors = no_errors(page)
    page.goto(studio.url + "studio")
    page.click("button[data-example=astronaut]")
    page.wait_for_selector("#controls", state="visible", timeout=60_000)
    # nothing wider than the screen: no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "studio-phone.png"), full_page=False)
    assert not errors, errors
    page.close()


def test_portraits_from_a_description(browser, studio, shots) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors = no_errors(page)
    page.goto(studio.url + "portraits")
    page.fill("#text", "an elderly man, delighted to see his grandchildren "
                       "<img src=x onerror=window.pwned=1>")
    page.fill("#n", "3")
    page.select_option("#generator", "cgan")   # the fast one (tests/test_web_api.py: stylegan)
    assert page.is_checked("#strength-auto") and page.is_disabled("#strength")
    page.click("#go")
    page.wait_for_selector(".portraits figure", timeout=90_000)
    assert page.locator(".portraits figure").count() == 3
    wait_until(page, "[...document.querySelectorAll('.portraits img')]"
                           ".every(i => i.naturalWidth === 256)")
    reading = page.inner_text("#reading")
    assert "Read from the text: happy" in reading and "elderly" in reading and "male" in reading
    assert page.evaluate("window.pwned") is None  # the description never becomes markup
    assert page.locator("img[src=x]").count() == 0
    page.screenshot(path=str(shots / "portraits.png"), full_page=True)
    page.check("#same-person")
    page.click("#go")
    wait_until(page, "document.querySelectorAll('.portraits figure').length === 7",
                           timeout=90_000)
    emotions = page.eval_on_selector_all(".portraits figure", "fs => fs.map(f => f.dataset.emotion)")
    assert emotions == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert not errors, errors
    page.close()


# --- the rating study --------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path: Path):
    folder = tmp_path / "images"
    for i, emotion in enumerate(("happy", "sad", "fear")):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, :, i] = 220
        save_image(img, folder / f"{emotion}.png",
                   metadata={"tool": "generate", "emotion": emotion,
                             "target_vad": EMOTION_VAD[emotion].to_json()})
    settings = WebSettings(port=0, warm=False, pages=("ratings",), images=folder,
                           ratings_db=tmp_path / "ratings.db")
    with BackgroundServer(settings) as srv:
        srv.names = {h: img.path.name for h, img in srv.context.study.images.items()}
        yield srv, tmp_path / "ratings.db"


# The rater's answers, by the intended emotion in each image's file name.
ANSWERS = {"happy.png": (8, 6, 7, "happy"), "sad.png": (2, 3, 3, "sad"),
           "fear.png": (3, 8, 2, "")}


def _start(browser, url: str, rater: str):
    context = browser.new_context()  # its own localStorage: a separate rater's browser
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('[data-testid="valence-1"]', state="attached")
    page.fill("#rater", rater)
    page.click("#begin")
    return context, page


def _rate_shown(page, names: dict[str, str], answers: dict[str, tuple]) -> str:
    # the page shows the image (and enables Save) only once the new one has loaded
    wait_until(page, "document.getElementById('image').naturalWidth > 0 && "
                           "document.getElementById('image').style.visibility !== 'hidden'")
    shown = page.get_attribute("#image", "src").rsplit("/", 1)[1]
    v, a, d, label = answers[names[shown]]
    for dim, level in (("valence", v), ("arousal", a), ("dominance", d)):
        page.click(f'[data-testid="{dim}-{level}"]')
    if label:
        page.check(f'[data-testid="emotion-{label}"]')
    return shown


def _next_shown(page, shown: str) -> None:
    wait_until(page, f"document.getElementById('image').getAttribute('src') !== "
                           f"'/image/{shown}' || !document.getElementById('done').hidden")


def test_rate_three_images_then_the_report(browser, served, shots) -> None:
    srv, db = served
    context, page = _start(browser, srv.url, "tester_1")
    errors = no_errors(page)
    assert page.locator(".figures svg").count() == 27
    for i in range(3):
        wait_until(page, "document.getElementById('image').complete && "
                               "document.getElementById('image').naturalWidth > 0 && "
                               "document.getElementById('image').style.visibility !== 'hidden'")
        assert page.is_disabled("#submit")
        shown = _rate_shown(page, srv.names, ANSWERS)
        assert page.get_attribute('[aria-pressed="true"][data-dim="valence"]', "data-level") \
            == str(ANSWERS[srv.names[shown]][0])
        if i == 0:
            page.set_viewport_size({"width": 1000, "height": 1000})
            page.screenshot(path=str(shots / "ratings.png"), full_page=False)
        page.click("#submit")
        _next_shown(page, shown)
    page.wait_for_selector("#done", state="visible")
    assert "3 of 3 rated" in page.inner_text("#progress")

    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT rater, image_hash, valence, arousal, dominance, emotion "
                              "FROM ratings").fetchall()
    assert len(stored) == 3
    for rater, digest, v, a, d, emotion in stored:
        assert (rater, v, a, d, emotion or "") == ("tester_1", *ANSWERS[srv.names[digest]])

    page.click("#show-report")
    page.wait_for_selector("#report", state="visible")
    assert "3 rating(s) from 1 rater(s)" in page.inner_text("#report-summary")
    assert page.locator("#report-table tbody tr").count() == 3
    wait_until(page, "[...document.querySelectorAll('#plots img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    assert page.locator("#plots img").count() == 2
    page.locator("#report").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "ratings-report.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_two_raters_in_two_browsers_interleaved(browser, served) -> None:
    srv, db = served
    (ctx_a, a), (ctx_b, b) = _start(browser, srv.url, "ann"), _start(browser, srv.url, "bob")
    opposite = {k: (10 - v, 10 - ar, 10 - d, "") for k, (v, ar, d, _) in ANSWERS.items()}
    for _ in range(3):
        shown_a = _rate_shown(a, srv.names, ANSWERS)
        shown_b = _rate_shown(b, srv.names, opposite)
        a.click("#submit")  # both saves in flight together
        b.click("#submit")
        _next_shown(a, shown_a)
        _next_shown(b, shown_b)
    for page in (a, b):
        page.wait_for_selector("#done", state="visible")
    ctx_a.close()
    ctx_b.close()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT rater, image_hash, valence FROM ratings").fetchall()
    assert len(stored) == 6
    for rater, digest, v in stored:
        want = ANSWERS[srv.names[digest]][0]
        assert v == (want if rater == "ann" else 10 - want)


def test_bad_rater_id_and_image_hidden_until_it_loads(browser, served) -> None:
    srv, db = served
    page = browser.new_page()
    page.goto(srv.url)
    page.wait_for_selector('[data-testid="valence-1"]', state="attached")
    page.fill("#rater", "bad id!")
    page.click("#begin")
    assert "Rater id" in page.inner_text("#status")
    assert page.is_hidden("#rating")
    page.close()

    page = browser.new_page()
    held = []  # image requests the "network" has not answered yet
    page.route("**/image/*", lambda route: held.append(route))
    page.goto(srv.url)
    page.wait_for_selector('[data-testid="valence-1"]', state="attached")
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
    wait_until(page, "!document.getElementById('submit').disabled")
    page.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0

