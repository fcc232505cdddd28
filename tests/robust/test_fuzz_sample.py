"""A fast sample of the fuzz corpus (`make fuzz` runs all of it): one or two files of every
hostile kind through load, analyze and stylize in-process; only one-line UserErrors or
results, inputs unchanged, and no output left by a failed stylize."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from moodshift.errors import UserError
from moodshift.fuzzing import build_corpus
from moodshift.fuzzing.harness import fingerprint
from moodshift.fuzzing.run import cli_sample
from moodshift.fuzzing.worker import Targets

EVERY_KIND = {"valid", "wrong_suffix", "empty", "bomb_declared", "tiny",
              "extreme_aspect", "mode", "animated", "exif", "text_chunk", "directory",
              "symlink_loop", "dangling_link", "fifo", "device", "odd_name", "byte_flip",
              "header_flip", "truncate", "header_field"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list:
    return build_corpus(tmp_path_factory.mktemp("corpus"), n=400, seed=7, heavy=False)


def test_corpus_is_reproducible_and_covers_every_kind(corpus, tmp_path: Path) -> None:
    kinds = Counter(c.kind for c in corpus)
    assert len(corpus) >= 400 and set(kinds) >= EVERY_KIND - {"fifo", "device"}
    again = build_corpus(tmp_path / "again", n=400, seed=7, heavy=False)
    first = [(Path(c.path).name, c.kind, fingerprint(c.path)) for c in corpus[:60]]
    second = [(Path(c.path).name, c.kind, fingerprint(c.path)) for c in again[:60]]
    assert first == second


def test_a_sample_of_every_kind_fails_cleanly_or_succeeds(corpus, tmp_path: Path) -> None:
    targets = Targets()
    styled_kinds: set[str] = set()
    for i, case in enumerate(cli_sample(corpus, len({c.kind for c in corpus}))):
        before = fingerprint(case.path)
        try:
            targets.run("load", case.path, None, None)
        except UserError as exc:
            assert "\n" not in str(exc).strip(), (case, exc)
            assert fingerprint(case.path) == before
            continue
        targets.run("analyze", case.path, None, None)
        # stylize one decodable file per kind, keeping it fast (extreme shapes: test_tiny_images)
        if case.kind in styled_kinds or case.kind == "extreme_aspect":
            continue
        styled_kinds.add(case.kind)
        out = tmp_path / f"{i}" / "styled.png"
        try:
            targets.run("stylize", case.path, str(out), 65_536)
        except UserError:
            assert not out.parent.exists() or not any(out.parent.iterdir())
        else:
            assert [p.name for p in out.parent.iterdir()] == ["styled.png"]
        assert fingerprint(case.path) == before, case
    assert len(styled_kinds) >= 6


def test_the_upload_and_batch_decoder_refuses_the_same_files(corpus) -> None:
    """The web studio's uploads and the batch runner decode bytes (imageio.load_image_bytes):
    every regular file of the corpus gets the same answer there as from load_image."""
    from moodshift.imageio import load_image, load_image_bytes

    for case in corpus:
        path = Path(case.path)
        if path.is_symlink() or not path.is_file():
            continue
        try:
            expected = load_image(path).shape
        except UserError:
            expected = None
        try:
            got = load_image_bytes(path.read_bytes(), path.name).shape
        except UserError as exc:
            assert "\n" not in str(exc).strip()
            got = None
        assert got == expected, case
