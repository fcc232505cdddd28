"""The functions every front end calls: analyze an image, stylize it for an emotion.

Models are loaded once per process through ``Models`` so a batch of photos reuses them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from moodshift.emotions import EMOTION_VAD, EMOTIONS, VAD, nearest_emotion, parse_emotion
from moodshift.errors import ModelMissingError, UserError
from moodshift.expression.base import ExpressionModel
from moodshift.faces.base import AgeGender, AgeGenderModel, Detection, FaceDetector
from moodshift.mood import measure_mood

if TYPE_CHECKING:
    from moodshift.style.palette import Palette

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class FaceResult:
    box: Box
    score: float
    expression: dict[str, float]
    age: float | None
    gender: str | None

    @property
    def top_emotion(self) -> str:
        return max(self.expression, key=self.expression.__getitem__)

    def to_json(self) -> dict[str, object]:
        return {"box": list(self.box), "score": round(self.score, 4),
                "expression": {k: round(v, 4) for k, v in self.expression.items()},
                "age": None if self.age is None else round(self.age, 1), "gender": self.gender}


@dataclass(frozen=True)
class Analysis:
    image: str
    faces: list[FaceResult]
    mood: VAD
    dominant_emotion: str

    def to_json(self) -> dict[str, object]:
        return {"image": self.image, "faces": [f.to_json() for f in self.faces],
                "mood": self.mood.to_json(), "dominant_emotion": self.dominant_emotion}


@dataclass(frozen=True)
class StylizeReport:
    input: str
    output: str
    emotion: str
    engine: str
    strength: float
    mood_before: VAD
    mood_after: VAD
    target_mood: VAD
    seconds: float
    faces_before: list[dict[str, float]] = field(default_factory=list)
    faces_after: list[dict[str, float]] = field(default_factory=list)

    def intent(self) -> dict[str, object]:
        """What the output was made to express, stored in the image file (imageio metadata)."""
        return {"tool": "stylize", "emotion": self.emotion, "target_vad": self.target_mood.to_json(),
                "engine": self.engine, "strength": round(self.strength, 4), "source": self.input}

    def to_json(self) -> dict[str, object]:
        def probs(rows: list[dict[str, float]]) -> list[dict[str, float]]:
            return [{k: round(v, 4) for k, v in r.items()} for r in rows]
        return {"input": self.input, "output": self.output, "emotion": self.emotion,
                "engine": self.engine, "strength": round(self.strength, 4),
                "mood_before": self.mood_before.to_json(), "mood_after": self.mood_after.to_json(),
                "target_mood": self.target_mood.to_json(), "seconds": round(self.seconds, 3),
                "faces_before": probs(self.faces_before), "faces_after": probs(self.faces_after)}


@dataclass
class Models:
    """The networks a run needs, each loaded on first use and then reused."""

    detector_name: str = "auto"
    expression_name: str = "auto"
    with_age_gender: bool = True

    @cached_property
    def detector(self) -> FaceDetector:
        from moodshift.faces.detect import load_detector
        return load_detector(self.detector_name)

    @cached_property
    def expression(self) -> ExpressionModel:
        from moodshift.expression.load import load_expression_model
        if self.expression_name != "auto":
            return load_expression_model(self.expression_name)
        try:  # moodshift's own model when it is installed, else face-api's
            return load_expression_model("moodshift")
        except ModelMissingError:
            return load_expression_model("faceapi")

    @cached_property
    def age_gender(self) -> AgeGenderModel | None:
        if not self.with_age_gender:
            return None
        try:
            from moodshift.faces.agegender import FaceApiAgeGender
            return FaceApiAgeGender()
        except ModelMissingError:
            return None


def _expression_rows(model: ExpressionModel, image: np.ndarray,
                     boxes: list[Box]) -> list[dict[str, float]]:
    if not boxes:
        return []
    probs = np.asarray(model.predict(image, boxes), dtype=np.float64)
    return [dict(zip(EMOTIONS, map(float, row))) for row in probs]


def analyze(image: np.ndarray, name: str, models: Models) -> Analysis:
    """Faces with expression, age and gender; the image's colour mood; the dominant emotion."""
    detections: list[Detection] = models.detector.detect(image)
    boxes = [d.box for d in detections]
    rows = _expression_rows(models.expression, image, boxes)
    ages: list[AgeGender | None] = [None] * len(boxes)
    if boxes and models.age_gender is not None:
        ages = list(models.age_gender.predict(image, boxes))
    faces = [FaceResult(d.box, d.score, row, a.age if a else None, a.gender if a else None)
             for d, row, a in zip(detections, rows, ages)]
    mood = measure_mood(image)
    return Analysis(name, faces, mood, dominant_emotion(faces, mood))


def dominant_emotion(faces: list[FaceResult], mood: VAD) -> str:
    """The largest face's most probable expression; with no face, the emotion nearest the mood."""
    if faces:
        largest = max(faces, key=lambda f: f.box[2] * f.box[3])
        return largest.top_emotion
    return nearest_emotion(mood)


def parse_emotion_request(text: str) -> str | dict[str, float]:
    """'auto', one emotion, or a blend written 'happy:0.7,surprise:0.3' (weights normalised)."""
    text = text.strip()
    if text.lower() == "auto":
        return "auto"
    if ":" not in text and "," not in text:
        return parse_emotion(text)
    from moodshift.style import emotion_mix

    raw: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition(":")
        try:
            raw[name] = raw.get(name, 0.0) + (float(weight) if weight else 1.0)
        except ValueError:
            raise UserError(f"emotion blend {text!r}: weight {weight!r} is not a number") from None
    return emotion_mix(raw)  # canonical names, checked and normalised weights


def emotion_label(emotion: str | dict[str, float]) -> str:
    if isinstance(emotion, str):
        return emotion
    if len(emotion) == 1:
        return next(iter(emotion))
    return ",".join(f"{k}:{v:.2f}" for k, v in sorted(emotion.items(), key=lambda kv: -kv[1]))


def target_vad(emotion: str | dict[str, float]) -> VAD:
    """The target's coordinates; a blend's is the weighted mean of its emotions'."""
    mix = {emotion: 1.0} if isinstance(emotion, str) else emotion
    return VAD(*(sum(w * getattr(EMOTION_VAD[e], f) for e, w in mix.items())
                 for f in ("valence", "arousal", "dominance")))


@dataclass(frozen=True)
class StyleRequest:
    emotion: str = "auto"              # auto, an emotion, or a blend "happy:0.7,sad:0.3"
    strength: float | None = None      # None: the palette's
    preserve_color: bool | None = None
    style_image: np.ndarray | None = None
    palette: Palette | None = None     # None: the shipped default palette
    engine: str = "fast"               # fast | optimize | trained
    engine_options: Mapping[str, object] = field(default_factory=dict)  # steps, size, model...
    style_name: str = "style image"    # what to call style_image in messages (its file name)

    def check(self) -> None:
        """Refuse, before any work, what no image could make right: an unknown emotion, a
        strength outside 0..1, an option the engine does not take (rather than ignore it), a
        style image the engine cannot use."""
        from moodshift.style.options import ENGINE_OPTIONS, ENGINES

        parse_emotion_request(self.emotion)
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise UserError(f"--strength {self.strength}: must be between 0 and 1")
        if self.engine not in ENGINES:
            raise UserError(f"unknown engine {self.engine!r}; valid: {', '.join(ENGINES)}")
        foreign = sorted(set(self.engine_options) - set(ENGINE_OPTIONS[self.engine]))
        if foreign:
            flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
            raise UserError(f"{flags}: not an option of --engine {self.engine}")
        if self.style_image is not None and self.engine == "optimize":
            from moodshift.style.optimize_settings import MIN_STYLE_SIDE

            h, w = self.style_image.shape[:2]
            if min(h, w) < MIN_STYLE_SIDE:
                raise UserError(f"{self.style_name}: style image is too small ({w}x{h} px); the "
                                f"optimize engine needs at least {MIN_STYLE_SIDE} px on its "
                                "shorter side")


def stylize(image: np.ndarray, name: str, request: StyleRequest,
            models: Models) -> tuple[np.ndarray, StylizeReport]:
    """Restyle an image to express an emotion (or its own dominant one) and measure the shift."""
    from moodshift.style import emotion_mix, load_palette, stylize_image

    request.check()
    started = time.perf_counter()
    palette = request.palette or load_palette()
    before = analyze(image, name, models)
    wanted = parse_emotion_request(request.emotion)
    emotion = before.dominant_emotion if wanted == "auto" else wanted
    mix = emotion_mix(emotion)
    strength = (request.strength if request.strength is not None
                else sum(w * palette[e].strength for e, w in mix.items()))
    styled = stylize_image(image, mix, palette, strength=strength,
                           preserve_color=request.preserve_color,
                           style_image=request.style_image, engine=request.engine,
                           engine_options=request.engine_options)
    boxes = [f.box for f in before.faces]  # geometry is unchanged: re-read the same faces
    after_rows = _expression_rows(models.expression, styled, boxes)
    report = StylizeReport(
        input=name, output="", emotion=emotion_label(emotion), engine=request.engine,
        strength=strength, mood_before=before.mood, mood_after=measure_mood(styled),
        target_mood=target_vad(emotion), seconds=time.perf_counter() - started,
        faces_before=[f.expression for f in before.faces], faces_after=after_rows)
    return styled, report


def palette_sheet(photo: np.ndarray, palette_path: Path | None = None) -> np.ndarray:
    """The seven emotion styles above the photo restyled for each emotion."""
    from moodshift.style import load_palette, render_contact_sheet, stylize_image

    palette = load_palette(palette_path)
    return render_contact_sheet(photo, palette,
                                lambda img, emotion: stylize_image(img, emotion, palette))
