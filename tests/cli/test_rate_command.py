"""`moodshift rate serve|report` from the command line: bad databases and images, the report's
JSON, CSV, plots and text."""

from __future__ import annotations

import csv
import io
import json
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rate_data import INTENDED, make_images

from moodshift.cli import main
from moodshift.emotions import EMOTION_VAD
from moodshift.rate.db import (
    SCHEMA_VERSION,
    Rating,
    RatingStore,
)
from moodshift.rate.report import summarize
from moodshift.rate.stats import (
    krippendorff_alpha_interval,
)
from moodshift.rate.study import scan_images

# --- pictograms ---------------------------------------------------------------------------


# --- validation ----------------------------------------------------------------------------

# --- HTTP API ------------------------------------------------------------------------------


# --- database files the user gives ---------------------------------------------------------


# --- statistics and report -----------------------------------------------------------------


def seeded_db(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Three intent images + one plain image, rated by three raters with known values."""
    folder = tmp_path / "images"
    hashes = make_images(folder, with_plain=True)
    db = tmp_path / "ratings.db"
    store = RatingStore(db, create=True)
    store.register_images(scan_images(folder)[1])
    scores = {  # rater -> emotion -> (valence, arousal, dominance, label)
        "ann": {"happy": (9, 6, 7, "happy"), "sad": (2, 3, 3, "sad"), "angry": (3, 8, 6, "angry"),
                "plain": (5, 1, 5, "")},
        "bob": {"happy": (8, 7, 6, "happy"), "sad": (1, 2, 4, "sad"), "angry": (2, 9, 7, "fear")},
        "cy": {"happy": (7, 5, 6, "surprise"), "sad": (3, 4, 2, "")},
    }
    for rater, per in scores.items():
        for emotion, (v, a, d, label) in per.items():
            store.add_rating(Rating(rater, hashes[emotion], v, a, d, label or None))
    return db, hashes


def test_newer_schema_is_refused_by_report_and_serve(tmp_path: Path, capsys) -> None:
    db = tmp_path / "future.db"
    RatingStore(db, create=True)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    make_images(tmp_path / "images")
    for argv in (["rate", "report", "--db", str(db)],
                 ["rate", "serve", "--images", str(tmp_path / "images"), "--db", str(db),
                  "--port", "0"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(db) in err
        assert f"schema version {SCHEMA_VERSION + 1} is newer" in err


def test_bad_database_files(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 40)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    for db, message in ((tmp_path / "missing.db", "no such ratings database"),
                        (junk, "cannot use as a ratings database"),
                        (other, "not a moodshift ratings database")):
        assert main(["rate", "report", "--db", str(db)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"moodshift: error: {db}: {message}" or (message in err and str(db) in err)
    assert not (tmp_path / "missing.db").exists()


def test_serve_bad_images_fail_before_creating_database(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "images"
    make_images(folder)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    db = tmp_path / "r.db"
    assert main(["rate", "serve", "--images", str(folder), "--db", str(db), "--port", "0"]) == 2
    assert "broken.png" in capsys.readouterr().err and not db.exists()
    assert main(["rate", "serve", "--images", str(tmp_path / "none"), "--db", str(db)]) == 2
    assert "no such folder" in capsys.readouterr().err and not db.exists()
    assert main(["rate", "serve", "--images", str(tmp_path), "--db", str(db), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err and not db.exists()


def test_report_json_numbers(tmp_path: Path, capsys) -> None:
    db, hashes = seeded_db(tmp_path)
    assert main(["rate", "report", "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ratings"] == 9 and report["raters"] == {"ann": 4, "bob": 3, "cy": 2}
    by_name = {img["name"]: img for img in report["images"]}
    happy = by_name["happy.png"]
    assert happy["n"] == 3 and happy["tool"] == "stylize" and happy["intended_emotion"] == "happy"
    assert happy["mean"]["valence"] == pytest.approx(8.0)
    assert happy["sd"]["valence"] == pytest.approx(1.0)
    assert happy["rated_vad"]["valence"] == pytest.approx(0.75)
    assert happy["labels"] == {"happy": 2, "surprise": 1}
    assert happy["label_agreement"] == pytest.approx(2 / 3, abs=1e-4)
    plain = by_name["plain.jpg"]
    assert plain["intended_emotion"] is None and plain["n"] == 1 and plain["sd"]["valence"] is None
    # correlation over the three intent images: intended target_vad vs mean rating mapped to -1..1
    means = {"happy": (8, 6, 19 / 3), "sad": (2, 3, 3), "angry": (2.5, 8.5, 6.5)}
    for i, dim in enumerate(("valence", "arousal", "dominance")):
        x = [getattr(EMOTION_VAD[e], dim) for e in INTENDED]
        y = [(means[e][i] - 5) / 4 for e in INTENDED]
        assert report["correlation"][dim]["r"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-4)
        assert report["correlation"][dim]["n"] == 3
    agreement = {e["emotion"]: e for e in report["emotion_agreement"]}
    assert set(agreement) == set(INTENDED)
    assert agreement["angry"]["agreement"] == 0.5 and agreement["angry"]["rated_as"] == {
        "angry": 1, "fear": 1}
    assert agreement["sad"]["labelled"] == 2 and agreement["sad"]["agreement"] == 1.0
    alpha = report["inter_rater"]["alpha"]
    expected = krippendorff_alpha_interval([[9, 8, 7], [2, 1, 3], [3, 2]])
    assert alpha["valence"] == pytest.approx(expected, abs=1e-4) and alpha["valence"] > 0.8
    assert "Krippendorff" in report["inter_rater"]["method"]


def test_report_csv_plots_and_text(tmp_path: Path, capsys) -> None:
    db, hashes = seeded_db(tmp_path)
    out = tmp_path / "out"
    code = main(["rate", "report", "--db", str(db), "--csv", str(out / "images.csv"),
                 "--ratings-csv", str(out / "ratings.csv"), "--plots", str(out / "plots")])
    text = capsys.readouterr().out
    assert code == 0 and "9 rating(s) from 3 rater(s), 4 image(s)" in text
    assert "Krippendorff's alpha" in text
    table = list(csv.DictReader(io.StringIO((out / "images.csv").read_text())))
    assert len(table) == 4
    sad = next(r for r in table if r["name"] == "sad.png")
    assert sad["hash"] == hashes["sad"] and sad["n"] == "3"
    assert float(sad["valence_mean"]) == pytest.approx(2.0)
    assert float(sad["intended_valence"]) == pytest.approx(EMOTION_VAD["sad"].valence)
    raw = list(csv.DictReader(io.StringIO((out / "ratings.csv").read_text())))
    assert len(raw) == 9 and {r["rater"] for r in raw} == {"ann", "bob", "cy"}
    for name in ("intended_vs_rated.png", "emotion_agreement.png"):
        with Image.open(out / "plots" / name) as im:
            assert im.format == "PNG" and im.size[0] > 400


def test_report_on_empty_database(tmp_path: Path, capsys) -> None:
    db = tmp_path / "empty.db"
    RatingStore(db, create=True)
    assert main(["rate", "report", "--db", str(db)]) == 0
    assert "0 rating(s)" in capsys.readouterr().out
    report = summarize([], [], "x")
    assert report.to_json()["correlation"]["valence"]["r"] is None


def test_report_refuses_to_write_csv_over_the_database_or_an_image(tmp_path: Path,
                                                                    capsys) -> None:
    db, _ = seeded_db(tmp_path)
    image = tmp_path / "images" / "sad.png"
    before = {p: p.read_bytes() for p in (db, image)}
    for option in ("--csv", "--ratings-csv"):
        for target in (db, image):
            assert main(["rate", "report", "--db", str(db), option, str(target)]) == 2
            err = capsys.readouterr().err
            assert f"{target}: expected a file name ending in .csv" in err
    same = tmp_path / "out.csv"
    assert main(["rate", "report", "--db", str(db), "--csv", str(same),
                 "--ratings-csv", str(same)]) == 2
    assert "must be different files" in capsys.readouterr().err and not same.exists()
    csv_named_db = tmp_path / "ratings.csv"
    RatingStore(csv_named_db, create=True)
    assert main(["rate", "report", "--db", str(csv_named_db), "--csv", str(csv_named_db)]) == 2
    assert "refusing to overwrite the database" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (db, image)} == before


def test_serve_command_stops_cleanly_on_signal(tmp_path: Path) -> None:
    make_images(tmp_path / "images")
    db = tmp_path / "r.db"
    proc = subprocess.Popen([sys.executable, "-m", "moodshift", "rate", "serve", "--images",
                             str(tmp_path / "images"), "--db", str(db), "--port", "0"],
                            stderr=subprocess.PIPE, text=True,
                            # A shell running the tests in the background starts them with SIGINT
                            # ignored, and the child would inherit that: give it the default back.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = [proc.stderr.readline() for _ in range(2)]
        assert "3 image(s)" in lines[0], lines
        url = lines[1].split("open ", 1)[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:")  # localhost by default
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "stopped; 0 rating(s)" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
