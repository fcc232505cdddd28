"""What several commands share: JSON lines, the per-image loop, the model options."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Callable

from moodshift.errors import INTERRUPTED, UserError, interrupted
from moodshift.faces.detect import DETECTORS


def print_json(obj: object, stream=None) -> None:
    print(json.dumps(obj, ensure_ascii=False), file=stream or sys.stdout, flush=True)


def for_each_image(paths: list[str], work: Callable[[str], None]) -> int:
    """Run work on each input; a bad file is reported on one line and the rest still run.

    Exit code 2 if any input was refused; 1 if one failed unexpectedly (a bug: its line says so,
    and MOODSHIFT_DEBUG=1 re-raises it with the traceback)."""
    import os

    from moodshift.imageio import expand_inputs

    failures = crashes = 0
    for path in expand_inputs(paths):
        try:
            work(path)
        except UserError as exc:
            print(f"moodshift: error: {exc}", file=sys.stderr)
            failures += 1
        except BrokenPipeError:
            # the reader of stdout went away (`| head`): stop quietly, not as a bug per file,
            # keeping what the files before said
            silence_stdout()
            break
        except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the others
            if interrupted(exc):
                raise KeyboardInterrupt from exc
            if os.environ.get("MOODSHIFT_DEBUG"):
                raise
            reason = str(exc).splitlines()[0][:200] if str(exc) else ""
            print(f"moodshift: error: {path}: unexpected {type(exc).__name__}: {reason} "
                  "(a bug: please report it; MOODSHIFT_DEBUG=1 shows the traceback)",
                  file=sys.stderr)
            crashes += 1
    return 1 if crashes else 2 if failures else 0


def say_text_note(args: argparse.Namespace, reading: dict[str, object] | None) -> None:
    """`generate`: the text reader's caveat ("no emotion words ...") on stderr when the emotion
    it read is the one drawn: a description it could not read should not pass in silence."""
    chose = args.emotion is None and not getattr(args, "emotions", None) and not args.grid
    if reading and reading.get("note") and chose:
        print(f"moodshift: note: {args.text!r}: {reading['note']} "
              f"(read as {reading.get('emotion')}; --emotion chooses one)", file=sys.stderr)


def style_files(args: argparse.Namespace) -> list[str]:
    """`generate`: the painting `--style` names, when it names a file: an input no output may
    replace."""
    from pathlib import Path

    return [args.style] if args.style is not None and Path(args.style).is_file() else []


def silence_stdout() -> None:
    """Point stdout at nothing once its reader has gone, so the interpreter's final flush does
    not raise BrokenPipeError again on the way out."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector", default="auto", choices=DETECTORS,
                   help="face detector (auto: face-api SSD if pulled, else Haar)")
    p.add_argument("--expression-model", default="auto",
                   help="expression model: auto, moodshift, faceapi, fer or a checkpoint path")
    p.add_argument("--mood-model", default="auto",
                   help="image mood: auto (human-rated if pulled), default, oasis-only, "
                        "emotion6-only, colour (colour affect) or a trained heads file")


def say_interrupted(how_to_resume: str) -> int:
    """The one line on stderr an interrupted command ends with, and its exit code (130)."""
    print(f"moodshift: interrupted; {how_to_resume}", file=sys.stderr, flush=True)
    return INTERRUPTED


def log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def log_to_stdout(message: str) -> None:
    print(message, flush=True)


def command_line(words: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                 args: argparse.Namespace) -> str:
    """The command that reproduces a training run, for its model card: ``words`` and every
    option the user set to something other than its default, in the parser's order (output
    switches such as --json and --no-progress left out)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parts = words.split()
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "json", "no_progress"):
            continue
        value = getattr(args, action.dest, None)
        if value is None or value == action.default or value == []:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") \
            else action.option_strings[0]
        if value is True and action.nargs == 0:
            parts.append(flag)
        else:
            parts += [flag, *(str(v) for v in (value if isinstance(value, list) else [value]))]
    return " ".join(shlex.quote(p) for p in parts)
