"""`moodshift read-text` and `moodshift train text` from the command line: JSON lines, files,
one-line errors, cue tables, a tiny training run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from text_data import needs_model

from moodshift.cli import main
from moodshift.emotions import EMOTIONS
from moodshift.text.clean import load_cues
from moodshift.text.reader import read_texts

TINY = {
    "angry": ["a furious man yelling", "an angry woman shouting", "a livid boy"],
    "disgust": ["a disgusted face at the rotten food", "yuck, a gross smell", "revolted by filth"],
    "fear": ["a terrified girl", "a scared man trembling", "an afraid child hiding"],
    "happy": ["a smiling woman", "a laughing boy", "a joyful grandmother"],
    "sad": ["a crying child", "a heartbroken man", "a sad old woman in tears"],
    "surprise": ["an astonished man", "a surprised girl gasping", "a shocked woman"],
    "neutral": ["a man at a desk", "a woman on a bench", "a boy by a wall"],
}


def test_cli_lexicon_json_lines_and_file(tmp_path: Path, capsys) -> None:
    f = tmp_path / "texts.txt"
    f.write_text("a terrified little girl\n\nan old man, furious\n", encoding="utf-8")
    assert main(["read-text", "a woman laughing with joy", "--file", str(f), "--json",
                 "--backend", "lexicon"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["emotion"] for x in lines] == ["happy", "fear", "angry"]
    assert lines[2]["age_group"] == "elderly" and lines[2]["gender"] == "male"


def test_cli_errors(tmp_path: Path, capsys) -> None:
    assert main(["read-text", "--file", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err
    assert "missing.txt: file not found" in err and "Traceback" not in err
    assert main(["read-text", ""]) == 2
    assert "text 1 is empty" in capsys.readouterr().err
    assert main(["read-text"]) == 2
    (tmp_path / "empty.txt").write_text("\n\n")
    assert main(["read-text", "--file", str(tmp_path / "empty.txt")]) == 2
    assert "contains no text" in capsys.readouterr().err


def test_cli_bad_cues_and_head(tmp_path: Path, capsys) -> None:
    cues = tmp_path / "cues.toml"
    cues.write_text("[words]\nhappy = [\"glad\"]\ngleeful = [\"x\"]\n", encoding="utf-8")
    assert main(["read-text", "a glad man", "--backend", "lexicon", "--cues", str(cues)]) == 2
    assert "cues.toml: unknown emotion 'gleeful'" in capsys.readouterr().err
    cues.write_text("[words\n", encoding="utf-8")
    assert main(["read-text", "a glad man", "--backend", "lexicon", "--cues", str(cues)]) == 2
    assert "not a readable TOML cue lexicon" in capsys.readouterr().err
    cues.write_text("[words]\nhappy = [\"glad\"]\n", encoding="utf-8")
    assert main(["read-text", "a glad man", "--backend", "lexicon", "--cues", str(cues),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["emotion"] == "happy"
    assert main(["read-text", "a glad man", "--backend", "embedding", "--head",
                 str(tmp_path / "nothing.safetensors")]) == 2
    assert "nothing.json: classifier head config is missing" in capsys.readouterr().err


def test_bad_cue_tables(tmp_path: Path, capsys) -> None:
    cues = tmp_path / "cues.toml"
    for content, message in (('emoji = "x"\n', '[emoji] must be a table'),
                             ('[emoji]\n"x" = 5\n', '[emoji] must be a table'),
                             ('[words]\nhappy = ["="]\n', "[words] happy: '=' has no word")):
        cues.write_text(content, encoding="utf-8")
        load_cues.cache_clear()
        assert main(["read-text", "a glad man", "--backend", "lexicon", "--cues", str(cues)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_cli_bad_line_names_file_and_line(tmp_path: Path, capsys) -> None:
    f = tmp_path / "texts.txt"
    f.write_text("a happy man\n\n!!!\n", encoding="utf-8")
    assert main(["read-text", "--backend", "lexicon", "a sad girl", "--file", str(f)]) == 2
    assert f"{f}:3 ('!!!') has no words to read" in capsys.readouterr().err
    assert main(["read-text", "--backend", "lexicon", "--head", str(f), "a sad girl"]) == 2
    assert "--head is a classifier head for --backend embedding" in capsys.readouterr().err


@pytest.mark.slow
@needs_model
def test_train_text_tiny(tmp_path: Path, embedded, capsys) -> None:
    train, held = tmp_path / "train.tsv", tmp_path / "held.tsv"
    train.write_text("emotion\ttext\n" + "".join(f"{e}\t{t}\n" for e, ts in TINY.items()
                                                 for t in ts[:2]), encoding="utf-8")
    held.write_text("emotion\ttext\n" + "".join(f"{e}\t{ts[2]}\n" for e, ts in TINY.items()),
                    encoding="utf-8")
    out = tmp_path / "head"
    assert main(["train", "text", "--data", str(train), "--heldout", str(held), "--out", str(out),
                 "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    # 5 of 7 on this machine; chance is 1 of 7, so a broken fit or feature layout fails here
    assert report["heldout"][0]["accuracy"] >= 3 / 7
    for name in ("head.safetensors", "head.json", "report.json", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0
    assert "Held-out accuracy" in (out / "MODEL_CARD.md").read_text()
    r = read_texts(["a furious man"], backend="embedding", head=out / "head.safetensors")[0]
    assert r.emotion in EMOTIONS and sum(r.probabilities.values()) == pytest.approx(1.0)
    # a held-out file that repeats a training sentence is refused
    held.write_text("emotion\ttext\nangry\ta furious man yelling\n", encoding="utf-8")
    assert main(["train", "text", "--data", str(train), "--heldout", str(held), "--out",
                 str(out), "--no-progress"]) == 2
    assert "also in the training file" in capsys.readouterr().err
