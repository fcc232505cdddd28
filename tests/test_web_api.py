"""The web app's JSON API through FastAPI's TestClient: every refusal (size, type, pixels, Host,
queue, time limit, bad fields) is the right status with a one-line JSON error, and the studio,
text and portrait endpoints answer with the CLI's JSON. Network-level behaviour (413 without a
reset, stalled and vanished clients, 64 clients at once) runs against uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from probes import stylegan_pulled

from moodshift.emotions import EMOTIONS
from moodshift.imageio import METADATA_KEY
from moodshift.web.app import create_app
from moodshift.web.errors import ApiError
from moodshift.web.pool import WorkPool
from moodshift.web.server import BackgroundServer
from moodshift.web.settings import WebSettings

LOCAL = "http://127.0.0.1"


def png_bytes(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client():
    app = create_app(WebSettings(warm=False, max_upload_bytes=256 * 1024, max_pixels=300_000))
    with TestClient(app.state.guarded, base_url=LOCAL) as c:
        c.ctx = app.state.ctx
        yield c


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert isinstance(message, str) and message and "\n" not in message
    return message


# --- refusals --------------------------------------------------------------------------------

def test_upload_over_the_size_limit_is_413(client) -> None:
    big = b"\x89PNG" + b"\0" * (300 * 1024)
    message = error_of(client.post("/api/analyze", files={"image": ("big.png", big)}), 413)
    assert "upload limit" in message


def test_content_that_is_not_an_image_is_415_whatever_its_name(client) -> None:
    for name, data in (("photo.png", b"<html>not a picture</html>"),
                       ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 40),  # a JPEG header, no image
                       ("notes.txt", b"hello")):
        message = error_of(client.post("/api/analyze", files={"image": (name, data)}), 415)
        assert message.startswith(name) and "not an image" in message
    # ...and a real image named .txt is read by its content
    assert client.post("/api/stylize", files={"image": ("x.txt", png_bytes())},
                       data={"strength": "0"}).status_code == 200


def test_image_over_the_pixel_limit_is_413_with_the_reason(client) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (600, 600), (90, 120, 150)).save(buf, format="PNG")
    data = buf.getvalue()  # a small file of 0.36 MP: over this server's 0.3 MP
    message = error_of(client.post("/api/analyze", files={"image": ("wide.png", data)}), 413)
    assert "600x600" in message and "0.3 MP limit" in message


def test_bad_fields_are_400_with_the_field_named(client) -> None:
    good = {"files": {"image": ("a.png", png_bytes())}}
    cases = [({"emotion": "smug"}, "emotion"), ({"strength": "1.5"}, "strength 1.5"),
             ({"strength": "lots"}, "strength"), ({"engine": "magic"}, "engine 'magic'"),
             ({"engine": "optimize"}, "/api/jobs"), ({"face_strength": "0.5"}, None)]
    for data, expected in cases:
        response = client.post("/api/stylize", data=data, **good)
        if expected is None:  # a control this library version does not have
            from moodshift.web.api_studio import style_controls
            if "face_strength" in style_controls():
                continue
            expected = "face_strength"
        assert expected in error_of(response, 400)
    assert "give one of" in error_of(client.post("/api/analyze"), 400)
    both = client.post("/api/analyze", data={"example": "astronaut"}, **good)
    assert "give one of" in error_of(both, 400)
    assert "no such example" in error_of(client.post("/api/analyze",
                                                     data={"example": "../etc/passwd"}), 404)
    assert "empty" in error_of(client.post("/api/analyze", files={"image": ("e.png", b"")}), 400)
    for payload, expected in (({"texts": []}, "texts"), ({"texts": ["   "]}, "text 1 is empty"),
                              ({"texts": ["x" * 2001]}, "2001 characters"),
                              ({"texts": ["fine"], "extra": 1}, "extra")):
        assert expected in error_of(client.post("/api/read-text", json=payload), 400)
    for payload, expected in (({"emotion": "sad", "n": 50}, "n"),
                              ({"emotion": "sad", "style": "/etc/passwd"}, "choose an emotion"),
                              ({"emotion": "sad", "size": 4096}, "size"),
                              ({}, "give a description")):
        assert expected in error_of(client.post("/api/generate", json=payload), 400)


def test_refusals_speak_of_fields_not_options_and_stay_short(client) -> None:
    good = {"files": {"image": ("a.png", png_bytes())}}
    said = error_of(client.post("/api/stylize", data={"strength": "-1"}, **good), 400)
    assert said.startswith("strength -1") and "--" not in said
    said = error_of(client.post("/api/stylize", data={"emotion": "x" * 100_000}, **good), 400)
    assert "unknown emotion" in said and len(said) <= 300
    said = error_of(client.post("/api/analyze", data={"image": "not a file"}), 400)
    assert said == "image: must be a file upload"
    json_type = {"Content-Type": "application/json"}
    said = error_of(client.post("/api/read-text", content=b'{"texts": [', headers=json_type), 400)
    assert said.startswith("body: invalid JSON at character")
    for body in (b"emotion=sad", b""):
        said = error_of(client.post("/api/generate", content=body, headers=json_type
                                    if body == b"" else {}), 400)
        assert said == "body: a JSON object is required", said
    said = error_of(client.post("/api/generate", json={"text": "a happy man " * 300}), 400)
    assert said.startswith("the description (") and "3600 characters" in said
    said = error_of(client.post("/api/generate", content=b'{"emotion": "sad", "strength": NaN}',
                                headers=json_type), 400)
    assert said.startswith("strength:") and "finite" in said, said
    schema = client.get("/openapi.json").json()
    fields = str(schema["components"]["schemas"])
    assert "expression_strength" not in fields      # offered only where it works


def test_foreign_host_header_is_refused(client) -> None:
    message = error_of(client.get("/api/info", headers={"host": "evil.example:8000"}), 403)
    assert "evil.example" in message
    assert client.get("/api/info", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/api/info", headers={"host": "[::1]:8000"}).status_code == 200


def test_unknown_routes_and_methods_are_json(client) -> None:
    assert "no such page" in error_of(client.get("/nope<script>"), 404)
    error_of(client.delete("/api/info"), 405)
    error_of(client.get("/api/jobs/" + "0" * 32), 404)
    error_of(client.get("/api/jobs/../../etc"), 404)


def test_full_queue_answers_503_with_retry_after(client) -> None:
    pool = client.ctx.pool
    saved = pool._pending
    pool._pending = pool.capacity  # every thread busy, every queue place taken
    try:
        response = client.post("/api/analyze", data={"example": "astronaut"})
    finally:
        pool._pending = saved
    assert "busy" in error_of(response, 503)
    assert int(response.headers["retry-after"]) >= 1


def test_pool_bounds_queue_and_time() -> None:
    async def scenario() -> None:
        pool = WorkPool(threads=1, queue=1, timeout=0.3)
        gate = threading.Event()
        first = asyncio.ensure_future(pool.run(gate.wait))
        second = asyncio.ensure_future(pool.run(lambda: "queued"))
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as full:
            await pool.run(lambda: "third")
        assert full.value.status == 503 and "Retry-After" in full.value.headers
        with pytest.raises(ApiError) as slow:
            await first  # still blocked after the 0.3 s limit
        assert slow.value.status == 503 and "0.3 s limit" in slow.value.message
        gate.set()
        with pytest.raises(ApiError):
            await second  # waited past the limit too (behind the blocked one)
        await asyncio.sleep(0.1)
        assert pool.pending == 0  # every slot came back
        assert await pool.run(lambda: 42) == 42
        pool.shutdown()

    asyncio.run(scenario())


# --- answers ---------------------------------------------------------------------------------

def test_info_pages_docs_and_security_headers(client) -> None:
    info = client.get("/api/info").json()
    assert info["emotions"] == list(EMOTIONS) and info["stores_uploads"] is False
    assert info["limits"]["max_upload_bytes"] == 256 * 1024
    for path in ("/studio", "/portraits", "/docs"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "<script>" not in page.text and "http" not in page.text.replace(
            "http-equiv", "")  # no inline script, nothing from another site
    assert client.get("/", follow_redirects=False).headers["location"] == "/studio"
    assert "/api/stylize" in client.get("/openapi.json").json()["paths"]
    assert client.get("/static/style.css").status_code == 200
    # the ratings page exists but this server runs no study: its API says so
    assert "no rating study" in error_of(client.get("/api/ratings/next?rater=a"), 404)


def test_analyze_and_stylize_mirror_the_cli_json(client, tmp_path: Path) -> None:
    from moodshift.analyze import Models, analyze
    from moodshift.imageio import load_image

    data = png_bytes(96, 80)
    analysis = client.post("/api/analyze", files={"image": ("a.png", data)}).json()
    photo = tmp_path / "a.png"
    photo.write_bytes(data)
    # the object `moodshift analyze --json` prints
    library = analyze(load_image(photo), "a.png", Models()).to_json()
    assert {k: v for k, v in analysis.items() if k not in ("width", "height")} == library
    assert (analysis["width"], analysis["height"]) == (96, 80)

    reply = client.post("/api/stylize", files={"image": ("a.png", data)},
                        data={"emotion": "sad", "strength": "0.6"})
    assert reply.status_code == 200
    report = reply.json()
    assert report["emotion"] == "sad" and report["strength"] == 0.6
    assert report["output"] == "a.sad.png" and report["engine"] == "fast"
    for key in ("mood_before", "mood_after", "target_mood", "faces_before", "faces_after"):
        assert key in report
    png = base64.b64decode(report["png_base64"])
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (96, 80)
        intent = json.loads(img.info[METADATA_KEY])
    assert intent["emotion"] == "sad" and intent["tool"] == "stylize"
    # a blend, as the pad sends it, with the one region strength the user set
    blend = client.post("/api/stylize", data={"example": "astronaut", "person_strength": "0.2",
                                              "emotion": "happy:0.62,surprise:0.38"}).json()
    assert blend["emotion"].startswith("happy:0.62")
    assert blend["regions"]["person"] == 0.2 and blend["regions"]["face"] == 0.0


def test_stylize_keeps_an_uploads_transparency_as_the_cli_does(client) -> None:
    rgba = np.asarray(Image.open(io.BytesIO(png_bytes(64, 48))).convert("RGBA")).copy()
    rgba[:, :16, 3] = 0  # a cut-out: the left quarter transparent
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    reply = client.post("/api/stylize", files={"image": ("cut.png", buf.getvalue())},
                        data={"emotion": "sad"})
    assert reply.status_code == 200
    with Image.open(io.BytesIO(base64.b64decode(reply.json()["png_base64"]))) as img:
        assert img.mode == "RGBA"
        alpha = np.asarray(img)[:, :, 3]
    assert alpha[:, :16].max() == 0 and alpha[:, 16:].min() == 255


def test_file_names_are_cleaned_before_they_are_echoed(client) -> None:
    name = '<img src=x onerror="alert(1)">/../../evil.png'
    report = client.post("/api/stylize", files={"image": (name, png_bytes())},
                         data={"strength": "0"}).json()
    assert "<" not in report["input"] and "/" not in report["input"]
    assert "<" not in report["output"]


def test_read_text_and_generate(client) -> None:
    readings = client.post("/api/read-text", json={
        "texts": ["an elderly man, furious", "<b>a happy girl</b>"], "backend": "lexicon"}).json()
    first, second = readings["readings"]
    assert first["emotion"] == "angry" and first["age_group"] == "elderly"
    assert second["text"] == "<b>a happy girl</b>"  # data, returned as given (pages escape it)
    result = client.post("/api/generate", json={"text": "a sad young woman", "n": 2,
                                                "size": 256, "styled": False,
                                                "generator": "cgan"}).json()
    assert result["emotion"] == "sad" and result["reading"]["gender"] == "female"
    assert len(result["portraits"]) == 2
    assert {p["emotion"] for p in result["portraits"]} == {"sad"}
    with Image.open(io.BytesIO(base64.b64decode(result["portraits"][0]["png_base64"]))) as img:
        assert img.size == (256, 256)
        assert json.loads(img.info[METADATA_KEY])["age_group"] == "young_adult"
    same = client.post("/api/generate", json={"emotion": "happy", "same_person": True,
                                              "styled": False, "generator": "cgan"}).json()
    assert [p["emotion"] for p in same["portraits"]] == list(EMOTIONS)
    assert len({p["seed"] for p in same["portraits"]}) == 1
    assert {p["generator"] for p in result["portraits"] + same["portraits"]} == {"gan"}


def test_generate_defaults_to_stylegan_and_says_when_it_is_not_pulled(client, tmp_path,
                                                                      monkeypatch) -> None:
    assert "valid: stylegan, cgan, gan, affect" in error_of(
        client.post("/api/generate", json={"emotion": "sad", "generator": "vae"}), 400)
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path / "empty"))
    for payload in ({"emotion": "sad"}, {"emotion": "sad", "generator": "stylegan"},
                    {"emotion": "sad", "same_person": True}):
        message = error_of(client.post("/api/generate", json=payload), 503)
        assert "MobileStyleGAN" in message and "run `moodshift models pull`" in message


@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not stylegan_pulled(),
                    reason="MobileStyleGAN not pulled (`moodshift models pull`)")
def test_generate_draws_steered_stylegan_faces_by_default(client) -> None:
    result = client.post("/api/generate", json={"emotion": "sad", "age": "elderly",
                                                "size": 256, "styled": False}).json()
    [portrait] = result["portraits"]
    assert portrait["generator"] == "stylegan" and portrait["age_group"] == "elderly"
    with Image.open(io.BytesIO(base64.b64decode(portrait["png_base64"]))) as img:
        assert img.size == (256, 256) and img.mode == "RGB"
        pixels = np.asarray(img)
    assert pixels.std() > 20   # a photo, not a flat or grey square
    assert np.abs(pixels[..., 0].astype(int) - pixels[..., 2]).mean() > 3   # in colour


def test_optimize_job_progress_result_and_cancel(client) -> None:
    started = client.post("/api/jobs", data={"example": "astronaut", "emotion": "sad",
                                             "steps": "3", "size": "64"})
    assert started.status_code == 202
    job = started.json()["id"]
    seen = set()
    for _ in range(600):
        state = client.get(f"/api/jobs/{job}").json()
        seen.add(state["state"])
        if state["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert state["state"] == "done", state
    result = client.get(f"/api/jobs/{job}/result").json()
    assert result["engine"] == "optimize" and result["emotion"] == "sad"
    assert base64.b64decode(result["png_base64"])[:4] == b"\x89PNG"
    long = client.post("/api/jobs", data={"example": "astronaut", "steps": "500",
                                          "size": "64"}).json()["id"]
    assert client.delete(f"/api/jobs/{long}").status_code == 200
    for _ in range(600):
        state = client.get(f"/api/jobs/{long}").json()
        if state["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert state["state"] == "cancelled"
    said = error_of(client.get(f"/api/jobs/{long}/result"), 409)
    assert said == "job: cancelled; it has no result"     # not "yet": none will come
    assert "steps" in error_of(client.post("/api/jobs", data={"example": "astronaut",
                                                              "steps": "0"}), 400)


# --- the real server -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live():
    settings = WebSettings(port=0, warm=False, max_upload_bytes=1024 * 1024, body_timeout=2.0,
                           header_timeout=1.0, pages=("studio",))
    with BackgroundServer(settings) as srv:
        yield srv


def raw_exchange(srv, payload: bytes, read_timeout: float = 10.0) -> bytes:
    with socket.create_connection(srv.server_address, timeout=read_timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_body_over_the_limit_gets_413_not_a_reset(live) -> None:
    body = b"x" * (3 * 1024 * 1024)
    head = (f"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            f"application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    reply = raw_exchange(live, head + body)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"error"' in reply and b"upload limit" in reply


def test_stalled_client_is_dropped_and_blocks_nobody(live, capfd) -> None:
    stalled = socket.create_connection(live.server_address, timeout=10)
    stalled.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
    slow_body = socket.create_connection(live.server_address, timeout=10)
    slow_body.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Length: 1000\r\n\r\nabc")
    started = time.perf_counter()
    with urllib.request.urlopen(live.url + "api/info", timeout=5) as resp:
        assert resp.status == 200
    assert time.perf_counter() - started < 2
    # the header deadline (1 s) closes the first; the body deadline (2 s) answers the second
    assert stalled.recv(100) == b""
    reply = slow_body.recv(1000)
    assert reply.startswith(b"HTTP/1.1 408"), reply
    stalled.close()
    slow_body.close()
    assert "Traceback" not in capfd.readouterr().err


def test_clients_that_hang_up_leave_no_traceback(live, capfd) -> None:
    data = png_bytes(64, 64)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--b--\r\n")
    head = (f"POST /api/stylize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data;"
            f" boundary=b\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    for cut in (len(head) // 2, len(head) + 10, len(head) + len(body)):
        with socket.create_connection(live.server_address, timeout=5) as sock:
            sock.sendall((head + body)[:cut])  # hang up mid-headers, mid-body, or mid-answer
    time.sleep(3)  # the stylize of the last one finishes with nobody to answer
    with urllib.request.urlopen(live.url + "api/info", timeout=5) as resp:
        assert resp.status == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err


def test_64_clients_at_once_are_all_answered(tmp_path: Path) -> None:
    from moodshift.models.store import sha256_file

    (tmp_path / "images").mkdir()
    hashes = []
    for i in range(4):
        path = tmp_path / "images" / f"{i}.png"
        path.write_bytes(png_bytes(16, 16, seed=i))
        hashes.append(sha256_file(path))
    settings = WebSettings(port=0, warm=False, pages=("ratings",), images=tmp_path / "images",
                           ratings_db=tmp_path / "r.db")
    barrier = threading.Barrier(64)

    def rate(i: int) -> int:
        payload = json.dumps({"rater": f"r{i}", "image": hashes[i % len(hashes)],
                              "valence": 1 + i % 9, "arousal": 5, "dominance": 5}).encode()
        req = urllib.request.Request(srv.url + "api/ratings", data=payload,
                                     headers={"Content-Type": "application/json"})
        barrier.wait()
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status

    with BackgroundServer(settings) as srv, ThreadPoolExecutor(64) as pool:
        codes = list(pool.map(rate, range(64)))
        assert codes == [201] * 64  # no reset, no refusal, no 5xx
        assert srv.context.study.store.count() == 64
        valences = sorted(r.valence for r in srv.context.study.store.ratings())
        assert valences == sorted(1 + i % 9 for i in range(64))  # none lost, none doubled
