"""Portraits for an emotion, age group and gender: generate, enlarge, style (`moodshift generate`).

The library side of the command (and of the web studio's /api/generate and `batch generate`):
``read_request`` turns a description plus explicit choices into what to draw,
``generate_portraits`` draws the faces with the chosen generator (by default the steered
MobileStyleGAN of moodshift.generate.stylegan; the conditional GAN or the affect generator on
request), enlarges and styles them, and returns each image with the intent it was made to
express (stored in the PNG by the caller, read back by ``moodshift rate report``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTION_VAD, EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.gan.generator import check_truncation
from moodshift.generate.request import MAX_N, Portrait, read_request  # noqa: F401 (re-exported)
from moodshift.seeds import check_seed

GENERATORS = ("gan", "affect")
# Every generator `generate`, the web studio and `batch generate` accept; "cgan" names "gan".
GENERATOR_CHOICES = ("stylegan", "cgan", *GENERATORS)
DEFAULT_GENERATOR = "stylegan"
# the MobileStyleGAN's sides (moodshift.generate.stylegan: its native size, and the smallest
# it draws), kept here so the command line can say them without loading the generator
STYLEGAN_MIN_SIZE, STYLEGAN_MAX_SIZE = 64, 1024
# Latent codes are scaled by this before generation (truncation trick): measured on the shipped
# generator it raises the share of faces read as the requested emotion (MODEL_CARD.md; chosen
# on eval seed 1 among 1, 0.7, 0.5, 0.3; the reported figures use seed 0).
DEFAULT_TRUNCATION = 0.5
MIN_SIZE, MAX_SIZE = 256, 2048


@dataclass(frozen=True)
class PortraitRequest:
    emotion: str | None                     # None only for a grid (it draws every emotion)
    age_group: str | None = None
    gender: str | None = None
    n: int = 1
    seed: int = 0
    generator: str = DEFAULT_GENERATOR      # stylegan | gan (= cgan) | affect
    model: Path | None = None               # gan, affect: None for the shipped generator
    truncation: float | None = None         # gan, stylegan; None: the generator's default
    size: int = 256                         # output side in pixels
    styled: bool = True
    style_emotion: str | None = None        # None: the requested emotion's palette style
    style_image: np.ndarray | None = field(default=None, repr=False)
    style_label: str | None = None          # what the user named as the style (for the intent)
    strength: float | None = None           # None: the palette's
    grid: bool = False                      # one sheet: every emotion x age group x gender

    def __post_init__(self) -> None:
        object.__setattr__(self, "generator", canonical_generator(self.generator))

    @property
    def psi(self) -> float:
        """The truncation used: the asked one, else the generator's default."""
        if self.truncation is not None:
            return self.truncation
        return STYLEGAN_TRUNCATION if self.generator == "stylegan" else DEFAULT_TRUNCATION

    def check(self) -> None:
        """Refuse settings no generator run could satisfy, before anything is loaded."""
        if not 1 <= self.n <= MAX_N:
            raise UserError(f"--n {self.n}: must be between 1 and {MAX_N}")
        stylegan = self.generator == "stylegan"
        bottom, top = (STYLEGAN_MIN_SIZE, STYLEGAN_MAX_SIZE) if stylegan else (MIN_SIZE, MAX_SIZE)
        if not bottom <= self.size <= top:
            raise UserError(f"--size {self.size}: must be between {bottom} and {top}"
                            + (" for the stylegan generator" if stylegan else ""))
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise UserError(f"--strength {self.strength}: must be between 0 and 1")
        check_truncation(self.psi)
        check_seed(self.seed, "--seed")
        if self.generator == "stylegan" and self.model is not None:
            raise UserError("--model names a cGAN or affect generator; the stylegan generator "
                            "takes --directions")


# moodshift.generate.stylegan.generator.DEFAULT_PSI (not imported here: that module is the
# OpenVINO side, kept out of light imports); a test keeps the two equal.
STYLEGAN_TRUNCATION = 0.7


def canonical_generator(name: str | None) -> str:
    """The generator's name ("cgan" is "gan"; None: DEFAULT_GENERATOR); unknown names list
    the valid ones."""
    if name is None:
        return DEFAULT_GENERATOR
    if name not in GENERATOR_CHOICES:
        raise UserError(f"unknown generator {name!r}; valid: {', '.join(GENERATOR_CHOICES)}")
    return "gan" if name == "cgan" else name


def require_generator(generator: str) -> None:
    """ModelMissingError (one line: run `moodshift models pull`) when the generator's
    third-party files are not in the model cache; cheap (nothing is loaded or hashed), so
    servers and batch runs can say so before any work starts."""
    if canonical_generator(generator) == "stylegan":
        from moodshift.generate.stylegan.generator import require_pulled

        require_pulled()


def style_source(value: str | None) -> tuple[str | None, np.ndarray | None]:
    """A --style value: an emotion name (its palette style) or an image file to take it from."""
    if value is None:
        return None, None
    from moodshift.emotions import canonical_emotion

    found = canonical_emotion(value)
    if found is not None:
        return found, None
    if Path(value).is_file():
        from moodshift.imageio import load_image
        return None, load_image(value)
    raise UserError(f"--style {value!r}: neither an emotion ({', '.join(EMOTIONS)}) "
                    "nor an image file")


def style_face(img: np.ndarray, emotion: str, style_image: np.ndarray | None,
               strength: float | None) -> np.ndarray:
    from moodshift.style import stylize_image

    # The generated faces are grey: colour preservation would keep them grey, so it is off.
    return stylize_image(img, emotion, strength=strength, preserve_color=False,
                         style_image=style_image)


def draw_faces(request: PortraitRequest) -> np.ndarray:
    """The generator's faces at its native size, uint8 (n, S, S, 3)."""
    if request.generator == "affect":
        from moodshift.generate.affect.generator import load_affect_generator

        return load_affect_generator(request.model).generate(request.emotion, request.n,
                                                             request.seed)
    if request.generator != "gan":
        raise UserError(f"unknown generator {request.generator!r}; valid: "
                        f"{', '.join(GENERATORS)}")
    from moodshift.generate.gan.generator import load_generator

    gen = load_generator(request.model)
    z = gen.sample_latent(request.n, request.seed, request.psi)
    return gen.generate(z, request.emotion, request.age_group, request.gender)


def generate_portraits(request: PortraitRequest) -> list[Portrait]:
    """Draw request.n faces, enlarge them to request.size and style them (unless not styled)."""
    if request.generator == "stylegan":
        from moodshift.generate.stylegan.portraits import portraits_for

        return portraits_for(request)
    from moodshift.generate.gan.generator import upscale

    faces = draw_faces(request)
    out: list[Portrait] = []
    for i, face in enumerate(faces):
        img = upscale(np.asarray(face, dtype=np.uint8), request.size)
        if request.styled:
            img = style_face(img, request.style_emotion or request.emotion, request.style_image,
                             request.strength)
        intent = {"tool": "generate", "emotion": request.emotion,
                  "target_vad": EMOTION_VAD[request.emotion].to_json(),
                  "age_group": request.age_group, "gender": request.gender,
                  "seed": request.seed, "index": i, "generator": request.generator,
                  "truncation": request.psi if request.generator == "gan" else None,
                  "style": (request.style_label or request.emotion) if request.styled else None,
                  "strength": request.strength}
        out.append(Portrait(img, intent))
    return out


def generate_grid(request: PortraitRequest) -> np.ndarray:
    """One sheet: every emotion (rows) x age group x gender, one identity (stylegan) or the
    conditional GAN's faces for one latent code."""
    from moodshift.generate.gan.evaluate import render_grid
    from moodshift.generate.gan.generator import load_generator

    if request.generator == "stylegan":
        from moodshift.generate.stylegan.portraits import render_style_grid

        return render_style_grid(seed=request.seed, cell=max(96, request.size // 2),
                                 psi=request.psi)
    if request.generator != "gan":
        raise UserError("--grid needs --generator gan (age and gender are GAN conditions)")
    gen = load_generator(request.model)

    def styler(img, emotion):
        return style_face(img, request.style_emotion or emotion, request.style_image,
                          request.strength)

    return render_grid(gen, seed=request.seed, cell=max(96, request.size // 2),
                       styler=styler if request.styled else None,
                       truncation=request.psi)
