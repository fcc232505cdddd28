"""Restyle a photo to express an emotion (or its own dominant one) and measure the shift."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from moodshift.analyze import Analysis, Models, analyze, expression_rows
from moodshift.emotions import EMOTIONS, VAD, EmotionMix
from moodshift.errors import UserError

if TYPE_CHECKING:
    from moodshift.style.palette import Palette


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
    face_edits: list[dict[str, object]] = field(default_factory=list)  # per face, see editing
    regions: dict[str, float] | None = None  # face / person / background style strengths

    def intent(self) -> dict[str, object]:
        """What the output was made to express, stored in the image file (imageio metadata).

        Edited faces are declared (which box, toward which emotion, how strongly), so a reader
        can tell an edited expression from a photographed one."""
        edited = [{"box": e["box"], "emotion": e["emotion"], "strength": e["strength"]}
                  for e in self.face_edits if e.get("applied")]
        return {"tool": "stylize", "emotion": self.emotion, "target_vad": self.target_mood.to_json(),
                "engine": self.engine, "strength": round(self.strength, 4), "source": self.input,
                "faces_edited": edited, "expression_edited": bool(edited)}

    def to_json(self) -> dict[str, object]:
        def probs(rows: list[dict[str, float]]) -> list[dict[str, float]]:
            return [{k: round(v, 4) for k, v in r.items()} for r in rows]
        return {"input": self.input, "output": self.output, "emotion": self.emotion,
                "engine": self.engine, "strength": round(self.strength, 4),
                "mood_before": self.mood_before.to_json(), "mood_after": self.mood_after.to_json(),
                "target_mood": self.target_mood.to_json(), "seconds": round(self.seconds, 3),
                "faces_before": probs(self.faces_before), "faces_after": probs(self.faces_after),
                "face_edits": self.face_edits, "regions": self.regions}


# The most pixels the style networks work on by default (a 6000x4000 photo; the loader accepts up
# to imageio.MAX_PIXELS). A larger image is styled at this working size, scaled back up and
# finished at full size; StyleRequest.max_pixels (`stylize --max-pixels`) raises or lowers it.
WORK_PIXELS = 24_000_000
MIN_WORK_PIXELS = 4096


@dataclass(frozen=True)
class StyleRequest:
    # auto (the photo's own), an emotion, or a blend; written forms such as "sad" or
    # "happy:0.7,sad:0.3" are parsed once, here
    emotion: EmotionMix | str = EmotionMix()
    strength: float | None = None      # None: the palette's
    preserve_color: bool | None = None
    style_image: np.ndarray | None = None
    palette: Palette | None = None     # None: the shipped default palette
    engine: str = "fast"               # fast | optimize | trained
    engine_options: Mapping[str, object] = field(default_factory=dict)  # steps, size, model...
    style_name: str = "style image"    # what to call style_image in messages (its file name)
    expression: float | str | None = None  # 0..1, "auto" (keep faces); None: 1 for a named target
    face_strength: float | None = None     # None: RegionStrengths' defaults
    person_strength: float | None = None
    background_strength: float | None = None
    max_pixels: int | None = WORK_PIXELS  # working size of the networks; None: every pixel

    def __post_init__(self) -> None:
        if isinstance(self.emotion, str):
            object.__setattr__(self, "emotion", EmotionMix.parse(self.emotion))

    @property
    def mix(self) -> EmotionMix:
        return EmotionMix.of(self.emotion)

    def expression_strength(self) -> float:
        """How far faces move toward the target: the request's number, 0 for "auto" (keep the
        faces), by default 1 for a named target and 0 when the target is the photo's own."""
        value = self.expression
        if value is None:
            return 0.0 if self.mix.is_auto else 1.0
        if isinstance(value, str):
            if value.strip().lower() == "auto":
                return 0.0
            try:
                value = float(value)
            except ValueError:
                raise UserError(f"--expression {value!r}: a number from 0 to 1, or auto") from None
        if isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
            raise UserError(f"--expression {value}: must be between 0 and 1")
        return float(value)

    def region_strengths(self):  # -> RegionStrengths (imported lazily: numpy/cv2 masks)
        from moodshift.style.editing.portrait import FACE_STRENGTH_BY_ENGINE, RegionStrengths

        given = {k: v for k, v in (("face", self.face_strength),
                                   ("person", self.person_strength),
                                   ("background", self.background_strength)) if v is not None}
        if "face" not in given and self.engine in FACE_STRENGTH_BY_ENGINE:
            given["face"] = FACE_STRENGTH_BY_ENGINE[self.engine]
        return RegionStrengths(**given)

    def check(self) -> None:
        """Refuse, before any work, what no image could make right: an unknown emotion, a
        strength outside 0..1, an option the engine does not take (rather than ignore it), a
        style image the engine cannot use."""
        from moodshift.style.options import ENGINE_OPTIONS, ENGINES

        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise UserError(f"--strength {self.strength}: must be between 0 and 1")
        self.expression_strength()
        self.region_strengths()
        cap = self.max_pixels
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int)
                                or cap < MIN_WORK_PIXELS):
            raise UserError(f"--max-pixels {cap}: must be a whole number, at least "
                            f"{MIN_WORK_PIXELS}")
        if self.engine not in ENGINES:
            raise UserError(f"unknown engine {self.engine!r}; valid: {', '.join(ENGINES)}")
        foreign = sorted(set(self.engine_options) - set(ENGINE_OPTIONS[self.engine]))
        if foreign:
            flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
            raise UserError(f"{flags}: not an option of --engine {self.engine}")
        if self.style_image is not None and self.engine == "optimize":
            from moodshift.style.engines.optimize_settings import MIN_STYLE_SIDE

            h, w = self.style_image.shape[:2]
            if min(h, w) < MIN_STYLE_SIDE:
                raise UserError(f"{self.style_name}: style image is too small ({w}x{h} px); the "
                                f"optimize engine needs at least {MIN_STYLE_SIDE} px on its "
                                "shorter side")


def stylize(image: np.ndarray, name: str, request: StyleRequest, models: Models,
            before: Analysis | None = None) -> tuple[np.ndarray, StylizeReport]:
    """Restyle an image to express an emotion (or its own dominant one) and measure the shift.

    ``before``: the image's analysis when the caller has it already (one photo styled for
    several emotions is then detected and read once)."""
    from moodshift.style import load_palette, prepare_engine, stylize_image
    from moodshift.style.editing.render import render_faces

    request.check()
    started = time.perf_counter()
    palette = request.palette or load_palette()
    if request.strength != 0:  # the engine gets ready (compiles) while faces are read and edited
        prepare_engine(image.shape[:2], list(EMOTIONS) if request.mix.is_auto else
                       [e for e, _ in request.mix.weights], palette, request.style_image,
                       request.engine, request.max_pixels)
    before = before if before is not None else analyze(image, name, models)
    mix = request.mix.resolve(before.dominant_emotion)
    strength = (request.strength if request.strength is not None
                else sum(w * palette[e].strength for e, w in mix.weights))
    boxes = [f.box for f in before.faces]  # detected once; the edits keep every face in place
    styled, edits, regions = render_faces(
        image, boxes, mix.as_dict(), palette, strength,
        request.expression_strength(), request.region_strengths(),
        lambda img: stylize_image(img, mix, palette, strength=strength,
                                  preserve_color=request.preserve_color,
                                  style_image=request.style_image, engine=request.engine,
                                  engine_options=request.engine_options,
                                  max_pixels=request.max_pixels))
    after_rows = expression_rows(models.expression, styled, boxes)
    report = StylizeReport(
        input=name, output="", emotion=mix.label, engine=request.engine,
        strength=strength, mood_before=before.mood, mood_after=models.mood.measure(styled),
        target_mood=mix.vad, seconds=time.perf_counter() - started,
        faces_before=[f.expression for f in before.faces], faces_after=after_rows,
        face_edits=[e.to_json() for e in edits], regions=regions)
    return styled, report


def palette_sheet(photo: np.ndarray, palette_path: Path | None = None) -> np.ndarray:
    """The seven emotion styles above the photo restyled for each emotion."""
    from moodshift.style import load_palette, render_contact_sheet, stylize_image

    palette = load_palette(palette_path)
    return render_contact_sheet(photo, palette,
                                lambda img, emotion: stylize_image(img, emotion, palette))
