"""Read an image: faces with expression, age and gender, its mood, its dominant emotion.

Models are loaded once per process through ``Models`` so a batch of photos reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from moodshift.emotions import EMOTIONS, VAD, nearest_emotion
from moodshift.errors import ModelMissingError
from moodshift.expression.base import ExpressionModel
from moodshift.faces.base import AgeGender, AgeGenderModel, Box, Detection, FaceDetector
from moodshift.mood import Mood, MoodModel, check_mood_model


@dataclass(frozen=True)
class FaceResult:
    box: Box
    score: float
    expression: dict[str, float]
    age: float | None
    gender: str | None
    detector: str = ""       # which detector (and pass) found the face

    @property
    def top_emotion(self) -> str:
        return max(self.expression, key=self.expression.__getitem__)

    def to_json(self) -> dict[str, object]:
        return {"box": list(self.box), "score": round(self.score, 4),
                "expression": {k: round(v, 4) for k, v in self.expression.items()},
                "age": None if self.age is None else round(self.age, 1), "gender": self.gender,
                "detector": self.detector}


@dataclass(frozen=True)
class Analysis:
    image: str
    faces: list[FaceResult]
    mood: VAD
    dominant_emotion: str

    def to_json(self) -> dict[str, object]:
        return {"image": self.image, "faces": [f.to_json() for f in self.faces],
                "mood": self.mood.to_json(), "dominant_emotion": self.dominant_emotion}


@dataclass
class Models:
    """The networks a run needs, each loaded on first use and then reused."""

    detector_name: str = "auto"
    expression_name: str = "auto"
    with_age_gender: bool = True
    mood_name: str = "auto"    # auto: human-rated if its backbone is pulled, else colour

    def __post_init__(self) -> None:
        check_mood_model(self.mood_name)

    @cached_property
    def mood(self) -> MoodModel:
        from moodshift.mood import load_mood_model
        return load_mood_model(self.mood_name)

    @cached_property
    def detector(self) -> FaceDetector:
        from moodshift.faces.detect import load_detector
        return load_detector(self.detector_name)

    @cached_property
    def expression(self) -> ExpressionModel:
        from moodshift.expression.load import load_expression_model
        return load_expression_model(self.expression_name)

    @cached_property
    def age_gender(self) -> AgeGenderModel | None:
        if not self.with_age_gender:
            return None
        try:
            from moodshift.faces.agegender import FaceApiAgeGender
            return FaceApiAgeGender()
        except ModelMissingError:
            return None


def expression_rows(model: ExpressionModel, image: np.ndarray,
                     boxes: list[Box]) -> list[dict[str, float]]:
    if not boxes:
        return []
    probs = np.asarray(model.predict(image, boxes), dtype=np.float64)
    return [dict(zip(EMOTIONS, map(float, row))) for row in probs]


def analyze(image: np.ndarray, name: str, models: Models) -> Analysis:
    """Faces with expression, age and gender; the image's mood; the dominant emotion."""
    detections: list[Detection] = models.detector.detect(image)
    boxes = [d.box for d in detections]
    rows = expression_rows(models.expression, image, boxes)
    ages: list[AgeGender | None] = [None] * len(boxes)
    if boxes and models.age_gender is not None:
        ages = list(models.age_gender.predict(image, boxes))
    faces = [FaceResult(d.box, d.score, row, a.age if a else None, a.gender if a else None,
                        d.source or models.detector.name)
             for d, row, a in zip(detections, rows, ages)]
    mood = models.mood.measure(image)
    return Analysis(name, faces, mood, dominant_emotion(faces, mood))


def dominant_emotion(faces: list[FaceResult], mood: VAD) -> str:
    """The largest face's most probable expression; with no face, the whole image's most
    probable emotion when the mood model has emotions, else the emotion nearest the mood."""
    if faces:
        largest = max(faces, key=lambda f: f.box[2] * f.box[3])
        return largest.top_emotion
    if isinstance(mood, Mood) and mood.emotions is not None:
        return str(mood.top_emotion())
    return nearest_emotion(mood)
