"""Every model shipped in the package is listed, present, and checked against its sha256."""

from __future__ import annotations

import pytest

from moodshift.models import registry
from moodshift.models.store import sha256_file


def shipped() -> list[registry.ModelInfo]:
    return [m for m in registry.MODELS if m.source == registry.SHIPPED_SOURCE]


def test_every_shipped_file_exists_and_matches_its_digest() -> None:
    assert len(shipped()) >= 7
    for info in shipped():
        files = registry.shipped_files(info.name)
        assert files, info.name
        for path, digest in files:
            assert path.is_file(), path
            assert sha256_file(path) == digest, path


def test_verify_reports_a_shipped_file_with_another_digest_as_corrupt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.shipped_files

    def tampered(name: str):
        files = real(name)
        return [(p, "0" * 64) for p, _ in files] if name == "moodshift-gan" else files

    monkeypatch.setattr(registry, "shipped_files", tampered)
    states = {s.info.name: s.status for s in registry.status(check_sums=True)
              if s.info.source == registry.SHIPPED_SOURCE}
    assert states.pop("moodshift-gan") == "corrupt"
    assert set(states.values()) == {"ok"}
