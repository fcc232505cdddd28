"""moodshift.batch on local processes and on Ray (local mode, one session for the module):
outputs and manifest, a corrupt image, resume, a killed worker, and equality with the
single-image commands (tests/cli/test_batch_command.py drives `moodshift batch` itself).

Ray starts once per module (several seconds, more on a loaded machine); every run uses tiny
generated images and at most 2 workers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import portrait_like
from PIL import Image
from probes import stylegan_pulled

from moodshift.batch import BatchConfig, run_batch
from moodshift.batch.worker import Processor
from moodshift.cli import main
from moodshift.errors import ModelMissingError, UserError

GOOD = ["a.png", "b.png", "c.jpg", "sub/d.png", "sub/deeper/e.png"]
BAD = "sub/broken.png"


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Five tiny portraits in nested folders and one corrupt PNG."""
    src = tmp_path_factory.mktemp("photos")
    for i, name in enumerate(GOOD):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(portrait_like(64, 80, seed=i)).save(src / name)
    (src / BAD).write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    return src


@pytest.fixture(scope="module")
def cli_stylized(photos: Path, tmp_path_factory) -> dict[str, dict]:
    """The single-image command's sad stylization of each good photo: source -> its JSON."""
    out = tmp_path_factory.mktemp("cli")
    found = {}
    for name in GOOD:
        target = out / name.replace("/", "_")
        target.mkdir()
        lines = []
        code = _main_capturing(["stylize", str(photos / name), "--emotion", "sad", "-o",
                                str(target), "--json"], lines)
        assert code == 0
        found[name] = json.loads(lines[0])
    return found


def _main_capturing(argv: list[str], lines: list[str]) -> int:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    lines.extend(buf.getvalue().splitlines())
    return code


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="Ray is the optional extra moodshift[ray]")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.slow)])
def where(request) -> str | None:
    """None: local processes; "auto": the module's Ray session."""
    if request.param == "ray":
        request.getfixturevalue("ray_session")
        return "auto"
    return None


@pytest.fixture(scope="module")
def stylized_runs(photos: Path, tmp_path_factory) -> dict[str, tuple[Path, object]]:
    return {}


def stylize_once(runs: dict, where: str | None, photos: Path, tmp_path_factory):
    """One batch stylize per runner, shared by the tests that read it."""
    key = where or "local"
    if key not in runs:
        out = tmp_path_factory.mktemp(f"batch-{key}")
        summary = run_batch(BatchConfig("stylize", str(photos), str(out), emotion="sad",
                                        ray=where, workers=2, batch_size=2))
        runs[key] = (out, summary)
    return runs[key]


def test_outputs_manifest_and_a_corrupt_image(where, photos, stylized_runs, tmp_path_factory,
                                               cli_stylized) -> None:
    out, summary = stylize_once(stylized_runs, where, photos, tmp_path_factory)
    assert (summary.done, summary.failed, summary.skipped) == (5, 1, 0)
    rows = {r["source"]: r for r in records(out)}
    assert sorted(rows) == sorted(GOOD + [BAD])
    bad = rows[BAD]
    assert bad["status"] == "failed" and bad["input"] == str(photos / BAD)
    assert bad["error"] == f"{photos / BAD}: not a recognised image format"
    for name in GOOD:
        row, cli = rows[name], cli_stylized[name]
        assert row["status"] == "ok" and row["error"] is None and row["worker"]
        assert row["output"] == str(out / Path(name).with_suffix(".sad.png"))
        # the single-image command's output, byte for byte, and its JSON apart from timings
        assert Path(row["output"]).read_bytes() == Path(cli["output"]).read_bytes()
        same = {k: v for k, v in row.items() if k in cli and k not in ("output", "seconds")}
        assert same == {k: v for k, v in cli.items() if k not in ("output", "seconds")}
        assert set(row) - set(cli) == {"status", "error", "worker", "source", "key"}
    assert not list(out.rglob(".*.part"))


def test_resume_processes_only_what_was_left(where, photos, stylized_runs, tmp_path_factory,
                                             tmp_path) -> None:
    done, _ = stylize_once(stylized_runs, where, photos, tmp_path_factory)
    out = tmp_path / "out"
    shutil.copytree(done, out)
    # what an interrupted run leaves: two items recorded, a torn last line, a temporary file
    # of an atomic write that never got renamed, and no outputs for the rest
    kept = [r for r in records(done) if r["status"] == "ok"][:2]
    for r in records(done):
        if r not in kept and r.get("output"):
            Path(r["output"].replace(str(done), str(out))).unlink()
    kept = [r | {"output": r["output"].replace(str(done), str(out))} for r in kept]
    torn = json.dumps(records(done)[-1])[:40]
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept) + torn)
    (out / ".a.sad.png.x1y2.part").write_bytes(b"half")

    with pytest.raises(UserError, match="--resume"):
        run_batch(BatchConfig("stylize", str(photos), str(out), emotion="sad", ray=where))
    summary = run_batch(BatchConfig("stylize", str(photos), str(out), emotion="sad", ray=where,
                                    workers=1, resume=True))
    assert (summary.skipped, summary.done, summary.failed) == (2, 3, 1)
    rows = records(out)  # one valid line per item
    assert sorted(r["source"] for r in rows) == sorted(GOOD + [BAD])
    assert all(Path(r["output"]).is_file() for r in rows if r["status"] == "ok")
    assert [r for r in rows if r["source"] in {k["source"] for k in kept}] == kept  # not redone
    assert not list(out.rglob(".*.part"))


class CrashOnce(Processor):
    """Kills its worker process the first time it meets b.png (a marker file remembers)."""

    def process(self, item, data, done_key=None):
        marker = Path(self.config.out) / ".crashed"
        if item.source == "b.png" and not marker.exists():
            marker.write_text("once")
            os._exit(1)
        return super().process(item, data, done_key)


def test_a_killed_worker_is_replaced_and_its_items_retried(where, photos, tmp_path) -> None:
    if where is not None:  # Ray workers import this test module by value
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    summary = run_batch(BatchConfig("analyze", str(photos), str(tmp_path / "out"), ray=where,
                                    workers=1, batch_size=2), make=CrashOnce)
    assert (tmp_path / "out" / ".crashed").exists()
    assert (summary.done, summary.failed) == (5, 1)
    rows = {r["source"]: r for r in records(tmp_path / "out")}
    assert rows["b.png"]["status"] == "ok" and rows["b.png"]["faces"] is not None


class MissingModel(Processor):
    def _load(self):
        raise ModelMissingError("model faceapi-ssd is not in the cache: run `moodshift models pull`")


def test_a_worker_that_cannot_start_stops_the_batch(photos, tmp_path) -> None:
    with pytest.raises(UserError, match="run `moodshift models pull`"):
        run_batch(BatchConfig("analyze", str(photos), str(tmp_path / "out"), workers=1),
                  make=MissingModel)
    assert records(tmp_path / "out") == []


@pytest.mark.slow
def test_generate_from_descriptions_matches_the_command(tmp_path, capsys) -> None:
    lines = ["a joyful old man", "", "# a comment", "a young woman, heartbroken"]
    (tmp_path / "people.txt").write_text("\n".join(lines) + "\n")
    summary = run_batch(BatchConfig("generate", str(tmp_path / "people.txt"),
                                    str(tmp_path / "out"), workers=1, generator="cgan"))
    assert (summary.done, summary.failed) == (2, 0)
    rows = {r["source"]: r for r in records(tmp_path / "out")}
    assert sorted(rows) == ["people.txt:1", "people.txt:4"]
    row = rows["people.txt:4"]
    assert row["output"] == str(tmp_path / "out" / "line-00004.png")
    code = main(["generate", lines[3], "--generator", "cgan", "-o", str(tmp_path / "cli.png"),
                 "--json"])
    cli = json.loads(capsys.readouterr().out)
    assert code == 0
    assert Path(row["output"]).read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert {k: v for k, v in row.items() if k in cli and k != "output"} == \
        {k: v for k, v in cli.items() if k != "output"}


def test_generate_without_the_stylegan_files_stops_in_one_line(tmp_path, monkeypatch,
                                                               capsys) -> None:
    (tmp_path / "people.txt").write_text("a joyful old man\n")
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path / "empty"))
    for generator in (None, "stylegan"):   # the default is `moodshift generate`'s: stylegan
        with pytest.raises(ModelMissingError, match="run `moodshift models pull`"):
            BatchConfig("generate", str(tmp_path / "people.txt"), str(tmp_path / "out"),
                        generator=generator).validate()
    code = main(["batch", "generate", str(tmp_path / "people.txt"), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "moodshift models pull" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "manifest.jsonl").exists()
    with pytest.raises(UserError, match="valid: stylegan, cgan, gan, affect"):
        BatchConfig("generate", str(tmp_path / "people.txt"), str(tmp_path / "out"),
                    generator="vae").validate()


@pytest.mark.slow
@pytest.mark.models
@pytest.mark.skipif(not stylegan_pulled(),
                    reason="MobileStyleGAN not pulled (`moodshift models pull`)")
def test_generate_with_stylegan_matches_the_command(tmp_path, capsys) -> None:
    (tmp_path / "people.txt").write_text("a young woman, heartbroken\n")
    summary = run_batch(BatchConfig("generate", str(tmp_path / "people.txt"),
                                    str(tmp_path / "out"), workers=1, threads=1))
    assert (summary.done, summary.failed) == (1, 0)
    [row] = records(tmp_path / "out")
    assert row["generator"] == "stylegan"
    code = main(["generate", "a young woman, heartbroken", "-o", str(tmp_path / "cli.png"),
                 "--json"])
    cli = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {k: v for k, v in row.items() if k in cli and k != "output"} == \
        {k: v for k, v in cli.items() if k != "output"}
    batch_img = np.asarray(Image.open(row["output"]), np.int16)
    cli_img = np.asarray(Image.open(tmp_path / "cli.png"), np.int16)
    # the same face; OpenVINO with 1 thread vs all may round a few values differently
    assert batch_img.shape == cli_img.shape and np.abs(batch_img - cli_img).mean() < 1.0


def test_analyze_json_matches_the_command(photos, tmp_path, capsys) -> None:
    summary = run_batch(BatchConfig("analyze", str(photos / "a.png"), str(tmp_path / "out"),
                                    workers=1))
    assert (summary.items, summary.done) == (1, 1)
    [row] = records(tmp_path / "out")
    main(["analyze", str(photos / "a.png"), "--json"])
    cli = json.loads(capsys.readouterr().out)
    assert {k: row[k] for k in cli} == cli and row["source"] == "a.png"


@pytest.mark.parametrize("config, message", [
    (dict(task="stylize"), "needs --emotion"),
    (dict(task="stylize", emotion="sad", strength=1.5), "--strength 1.5"),
    (dict(task="stylize", emotion="gloomy"), "gloomy"),
    (dict(task="analyze", emotion="sad"), "--emotion: not an option of batch analyze"),
    (dict(task="stylize", emotion="sad", engine_options={"steps": 5}),
     "--steps: not an option of --engine fast"),
    (dict(task="stylize", emotion="sad", workers=0), "--workers 0"),
    (dict(task="analyze", src="s3://bucket/photos"), "needs --ray"),
    (dict(task="generate"), "text file"),
])
def test_config_refuses_bad_settings(photos, tmp_path, config, message) -> None:
    settings = {"src": str(photos), "out": str(tmp_path / "out")} | config
    with pytest.raises(UserError, match=message.replace("+", r"\+")):
        BatchConfig(**settings).validate()
    assert not (tmp_path / "out").exists()
