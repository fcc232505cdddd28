"""The command table: every entry builds, and a command imports only its own module."""

from __future__ import annotations

import subprocess
import sys

from moodshift.cli import COMMANDS, build_parser


def test_every_command_in_the_table_builds_and_runs_a_function() -> None:
    parser = build_parser()
    for parent, name, module, _ in COMMANDS:
        if not module:
            continue
        words = [parent, name] if parent else [name]
        sub = parser._subparsers._group_actions[0].choices[words[0]]   # noqa: SLF001
        if parent:
            sub = sub._subparsers._group_actions[0].choices[name]      # noqa: SLF001
        assert callable(sub.get_default("func")), words


def test_analyze_and_stylize_start_without_training_code_or_torch() -> None:
    code = ("import sys; from moodshift.cli import build_parser; "
            "build_parser(['stylize', 'x.png', '--emotion', 'sad']); "
            "build_parser(['analyze', 'x.png']); "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith("
            "('moodshift.cli.train', 'moodshift.generate', 'moodshift.evolve'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_usage_errors_are_one_line_naming_the_problem_exit_2(capsys) -> None:
    import pytest

    from moodshift.cli import main

    cases = {("generate", "--generator", "nope", "-o", "x.png"): "invalid choice: 'nope'",
             ("stylize",): "required: images, --emotion",
             ("models", "pul"): "argument COMMAND: invalid choice: 'pul'",
             ("batch", "nope"): "argument TASK: invalid choice: 'nope'",
             ("evolve", "--target", "emotion:sad", "--iterations", "many", "--out", "o"):
                 "--iterations: invalid int value: 'many'"}
    for argv, problem in cases.items():
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        err = capsys.readouterr().err
        assert stop.value.code == 2, argv
        assert err.count("\n") == 1 and problem in err and "--help)" in err, err
    # an option the command does not have points to that command's help, not the top level's
    for argv, command in ((("analyze", "x.png", "--bogus"), "analyze"),
                          (("models", "list", "--bogus"), "models list"),
                          (("batch", "stylize", "src", "out", "--emotion", "sad", "--bogus"), "batch stylize")):
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        assert stop.value.code == 2
        assert capsys.readouterr().err == (f"moodshift {command}: error: unrecognized arguments: "
                                           f"--bogus (see moodshift {command} --help)\n")
