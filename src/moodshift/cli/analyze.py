"""`moodshift analyze`: faces, expressions, age, gender and the image's mood."""

from __future__ import annotations

import argparse

from moodshift.cli.common import add_model_options, for_each_image, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", help="image files, folders, or - for stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--annotate", metavar="OUT", help="write the photo with labelled boxes")
    add_model_options(p)


def run(args: argparse.Namespace) -> int:
    from moodshift.analyze import Models, analyze
    from moodshift.annotate import annotate
    from moodshift.imageio import expand_inputs, load_image, read_metadata, save_image
    from moodshift.outputs import plan_outputs

    models = Models(detector_name=args.detector, expression_name=args.expression_model,
                    mood_name=args.mood_model)
    inputs = expand_inputs(args.images)
    annotated = dict(zip(inputs, plan_outputs(
        inputs, args.annotate, "annotated", option="--annotate"))) if args.annotate else {}

    def work(path: str) -> None:
        image = load_image(path)
        result = analyze(image, path, models)
        if path in annotated:
            save_image(annotate(image, result), annotated[path])
        intent = read_metadata(path) if path != "-" else {}
        edited = intent.get("faces_edited")
        if args.json:
            print_json(result.to_json() | ({"faces_edited": edited} if edited else {}))
            return
        if edited:
            print(f"{path}: made by moodshift stylize: {len(edited)} face(s) edited toward "
                  f"{intent.get('emotion')} (the expression is not as photographed)")
        m = result.mood
        print(f"{path}: {len(result.faces)} face(s), dominant {result.dominant_emotion}, "
              f"mood V {m.valence:+.2f} A {m.arousal:+.2f} D {m.dominance:+.2f}")
        for f in result.faces:
            extra = "" if f.age is None else f", age {f.age:.0f}, {f.gender}"
            print(f"  face {f.box}: {f.top_emotion} {f.expression[f.top_emotion]:.0%}{extra}"
                  f" [{f.detector}]")

    return for_each_image(inputs, work)
