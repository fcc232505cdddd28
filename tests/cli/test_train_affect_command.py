"""`moodshift train affect-generator` from the command line: bad values refused, nothing written."""

from __future__ import annotations

from pathlib import Path

from moodshift.cli import main


def test_cli_rejects_bad_values_without_outputs(capsys, tmp_path: Path) -> None:
    out = tmp_path / "never"
    code = main(["train", "affect-generator", "--target", "emotion", "--out", str(out),
                 "--steps", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "--steps" in err and err.count("\n") == 1
    code = main(["train", "affect-generator", "--target", "vad", "--out", str(out),
                 "--resume", str(tmp_path / "nope.pt")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.pt" in err
    assert not out.exists()
