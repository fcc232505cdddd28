"""Text in, people out: /api/read-text (a description's emotion, age and gender) and
/api/generate (portraits for it, optionally the same person in every emotion)."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from moodshift.emotions import EMOTIONS, canonical_emotion
from moodshift.errors import ModelMissingError, UserError
from moodshift.generate.portraits import GENERATOR_CHOICES
from moodshift.web.context import ctx
from moodshift.web.errors import ApiError

router = APIRouter(prefix="/api", tags=["portraits"])

MAX_TEXTS = 32
MAX_PORTRAITS = 8       # per request: each is upscaled and styled (~0.2-0.5 s on 2 cores)
SIZES = (256, 1024)


class ReadTextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS,
                             description="descriptions, e.g. 'an old man beaming'")
    backend: str = Field("auto", description="auto | embedding | lexicon")


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="a description to read emotion, age and gender "
                                               "from")
    emotion: str | None = Field(None, description="overrides the text's emotion")
    age: str | None = Field(None, description="child|teen|young_adult|middle_aged|elderly")
    gender: str | None = Field(None, description="female|male")
    n: int = Field(1, ge=1, le=MAX_PORTRAITS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    style: str | None = Field(None, description="style the faces for this emotion "
                                                "(default: the portrait's own)")
    strength: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False)
    styled: bool = True
    size: int = Field(256, ge=SIZES[0], le=SIZES[1])
    same_person: bool = Field(False, description="one face (the seed's) in all seven emotions")
    generator: str | None = Field(None, description=f"{' | '.join(GENERATOR_CHOICES)} "
                                                    "(default stylegan, as `moodshift generate`)")


@router.post("/read-text", summary="emotion, age group and gender from descriptions",
             description="One object per text, as `moodshift read-text --json` prints.")
async def read_text(body: ReadTextBody, request: Request) -> dict:
    from moodshift.text.reader import read_texts, text_problem

    for i, text in enumerate(body.texts, 1):
        problem = text_problem(text)
        if problem is not None:
            raise ApiError(400, f"text {i}{problem}")

    def work() -> dict:
        try:
            readings = read_texts(body.texts, backend=body.backend)
        except UserError as exc:
            raise ApiError(400, str(exc)) from None
        return {"readings": [r.to_json() for r in readings]}

    return await ctx(request).pool.run(work)


@router.post("/generate", summary="portraits for a description or an emotion, age and gender",
             description="Each portrait is the intent `moodshift generate --json` prints, plus "
                         "the PNG (intent stored in it) as png_base64.")
async def generate(body: GenerateBody, request: Request) -> dict:
    c = ctx(request)
    c.require_page("portraits")
    style_emotion = None
    if body.style:
        style_emotion = canonical_emotion(body.style)
        if style_emotion is None:  # never a file path: the server reads no file it is sent
            raise ApiError(400, f"style {body.style[:30]!r}: choose an emotion "
                                f"({', '.join(EMOTIONS)})")

    def work() -> dict:
        from moodshift.generate.portraits import (
            PortraitRequest,
            generate_portraits,
            read_request,
            require_generator,
        )
        from moodshift.imageio import encode_image

        try:
            emotion, age, gender, reading = read_request(body.text, body.emotion, body.age,
                                                         body.gender)
            if emotion is None and not body.same_person:
                raise ApiError(400, f"give a description or an emotion ({', '.join(EMOTIONS)})")
            # The same seed is the same latent code (stylegan: the same style): one person,
            # each emotion in turn.
            wanted = list(EMOTIONS) if body.same_person else [emotion]
            requests = [PortraitRequest(
                emotion=e, age_group=age, gender=gender, n=1 if body.same_person else body.n,
                seed=body.seed, size=body.size, styled=body.styled, generator=body.generator,
                style_emotion=style_emotion, style_label=body.style, strength=body.strength)
                for e in wanted]
            for request in requests:
                request.check()
            require_generator(requests[0].generator)
            portraits = [p for request in requests for p in generate_portraits(request)]
        except ModelMissingError as exc:   # the server lacks a model: not the client's fault
            raise ApiError(503, str(exc)) from None
        except UserError as exc:
            raise ApiError(400, str(exc)) from None
        out = []
        for p in portraits:
            png = encode_image(p.image, "PNG", p.intent)
            out.append(p.intent | {"size": body.size,
                                   "png_base64": base64.b64encode(png).decode("ascii")})
        return {"reading": reading, "emotion": emotion, "age_group": age, "gender": gender,
                "same_person": body.same_person, "portraits": out}

    return await c.pool.run(work)
