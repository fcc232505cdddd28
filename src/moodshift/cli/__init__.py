"""The `moodshift` command: argument parsing and printing only; the work is in the library.

Each command is a module of this package with ``add_arguments(parser)`` and ``run(args) -> int``
(parse, call one library function, print). ``COMMANDS`` lists them; a new command is one line
there. A command's module is imported only when that command (or a full ``--help`` listing of
its group) is asked for, so ``analyze`` and ``stylize`` start without the training code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from moodshift import __version__
from moodshift.errors import INTERRUPTED, UserError, count_interrupts, interrupted

# (parent, name, module in moodshift.cli or "" for a group of subcommands, one-line summary);
# parent "" is the top level. Order is the order of `moodshift --help`.
COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("", "analyze", "analyze", "faces, expressions, age, gender and image mood"),
    ("", "stylize", "stylize", "restyle images to express an emotion"),
    ("", "models", "models", "pull, list and verify pretrained networks"),
    ("", "palette", "palette", "the emotion palette"),
    ("", "train", "", "train moodshift's own models"),
    ("", "eval", "", "evaluate models on labelled data"),
    ("", "read-text", "read_text", "emotion, age group and gender from a description"),
    ("", "generate", "generate",
     "generate portraits for an emotion, age and gender, then style them"),
    ("", "evolve", "evolve", "synthesise images for an emotion target by MAP-Elites (pyribs)"),
    ("", "rate", "rate", "Self-Assessment Manikin ratings: web page and report"),
    ("", "serve", "serve", "the web studio: analyze, stylize, portraits and ratings in a browser"),
    ("", "batch", "batch", "analyze, stylize or generate whole folders (local processes or Ray)"),
    ("train", "style", "train_style", "train a per-emotion feed-forward style network (Johnson)"),
    ("train", "gan", "train_gan", "train the conditional portrait GAN"),
    ("train", "directions", "train_directions",
     "fit emotion/age/gender directions in MobileStyleGAN's style space"),
    ("train", "affect-generator", "train_affect",
     "train a generator against the frozen emotion classifier / mood model"),
    ("train", "text", "train_text",
     "train the read-text classifier head on moodshift's labelled sentences"),
    ("train", "expression", "train_expression", "train an expression classifier"),
    ("train", "mood", "train_mood", "fit the human-rated mood model (valence, arousal, emotions)"),
    ("train", "expression-offsets", "train_expression_offsets",
     "learn per-emotion face-mesh offsets from labelled faces (expression editing)"),
    ("eval", "gan", "eval_gan",
     "emotion agreement, diversity and FID-style distance of generated faces"),
    ("eval", "expression", "eval_expression", "accuracy of an expression classifier"),
    ("eval", "mood", "eval_mood", "agreement of a mood model with human ratings (ratings.csv)"),
    ("eval", "stylize", "eval_stylize",
     "does a stylised portrait express the target? (independent face judges)"),
)


def _wanted(words: list[str] | None, parent: str, name: str) -> bool:
    """Whether a command's options are needed to parse these words (None: build them all)."""
    if words is None:
        return True
    path = [w for w in words if not w.startswith("-")][:2]
    return path[:2] == [parent, name] if parent else path[:1] == [name]


DESCRIPTION = ("Read the emotion in pictures and text, restyle photos and generate portraits "
               "that express a chosen emotion, and measure the shift with independent judges.")


class OneLineErrors(argparse.ArgumentParser):
    """A parser whose usage errors are one line (the problem and where to read the options),
    exit code 2, like every other bad input; its subcommands' parsers are of this class too."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(words: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser, or with words, one whose only built commands are those words name."""
    parser = OneLineErrors(prog="moodshift", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"moodshift {__version__}")
    groups = {"": parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for parent, name, module, summary in COMMANDS:
        sub = groups[parent].add_parser(name, help=summary)
        if not module:
            groups[name] = sub.add_subparsers(dest=f"{name}_command", required=True,
                                              metavar="COMMAND")
        elif _wanted(words, parent, name):
            mod = importlib.import_module(f"moodshift.cli.{module}")
            mod.add_arguments(sub)
            sub.set_defaults(func=mod.run)
    return parser


def parser_of(parser: argparse.ArgumentParser,
              args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command the parsed words chose, e.g. `batch stylize`'s."""
    while True:
        subs = next((a for a in parser._actions  # noqa: SLF001 - argparse keeps them only here
                     if isinstance(a, argparse._SubParsersAction)), None)  # noqa: SLF001
        chosen = getattr(args, subs.dest, None) if subs else None
        if chosen is None or chosen not in subs.choices:
            return parser
        parser = subs.choices[chosen]


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    restore = count_interrupts()
    try:
        parser = build_parser(words)
        args, unknown = parser.parse_known_args(words)
        if unknown:  # named by the command they were given to, with that command's help
            parser_of(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"moodshift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("moodshift: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        from moodshift.cli.common import silence_stdout

        silence_stdout()
        return 0
    except Exception as exc:
        if interrupted(exc):  # a Ctrl-C inside an extension module's import
            print("moodshift: interrupted", file=sys.stderr)
            return INTERRUPTED
        raise
    finally:
        restore()


if __name__ == "__main__":
    sys.exit(main())
