"""Steered MobileStyleGAN portraits: the ``stylegan`` generator of ``moodshift generate``.

A seed gives styles (one identity each); ``steer`` sets them at the calibrated positions for the
asked emotion, at the age group's target age along the age direction, and at the gender's
position along the gender direction (moodshift.generate.stylegan.directions). Unspecified age
or gender leave the face's own. Every emotion but happy is also expression-edited after
rendering (face mesh warp and shading; ``EDITED_EMOTIONS``). Each identity is the best of a few
seeded candidates by the labelling readers (choose.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import ModelMissingError, UserError
from moodshift.generate.stylegan.choose import (
    DEFAULT_CANDIDATES,
    DEFAULT_MORE_CANDIDATES,
    check_candidates,
)
from moodshift.generate.stylegan.directions import AGE_TARGETS, Directions
from moodshift.generate.stylegan.generator import DEFAULT_PSI, NATIVE_SIZE
from moodshift.seeds import check_seed

MIN_SIZE, MAX_SIZE = 64, NATIVE_SIZE   # as moodshift.generate.portraits says them


def steer(d: Directions, styles: np.ndarray, emotion: str | None, age_group: str | None,
          gender: str | None, emotion_share: float = 1.0) -> np.ndarray:
    """Styles moved to show the emotion, age group and gender (None: leave as it is);
    ``emotion_share`` of the emotion's calibrated position (1: all of it)."""
    wanted: dict[str, float] = {}
    if emotion is not None:
        wanted.update(d.emotion_wanted(emotion, share=emotion_share))
    if age_group is not None:
        if age_group not in AGE_TARGETS:
            raise UserError(f"unknown age group {age_group!r}: choose one of "
                            f"{', '.join(AGE_TARGETS)}")
        wanted["age"] = d.age_group_position(age_group, gender)
    if gender is not None:
        if gender not in ("female", "male"):
            raise UserError(f"unknown gender {gender!r}: choose one of female, male")
        wanted["male"] = d.gender_position(gender, age_group)
    return d.set_positions(styles, wanted)


@dataclass(frozen=True)
class SteeredPortraitRequest:
    """What to draw: identities x emotions, steered to an age group and gender."""

    emotions: tuple[str, ...]
    age_group: str | None = None
    gender: str | None = None
    n: int = 1                    # identities
    seed: int = 0
    psi: float = DEFAULT_PSI
    size: int = 512
    same_person: bool = True      # one identity per index across the emotions
    directions: Path | None = None
    # also warp the expression of the EDITED_EMOTIONS (every one but happy). fer, the
    # independent judge, was not consulted for this choice (docs/stylegan.md).
    expression_edit: bool = True
    strength: float | None = None  # of the palette style (None: the palette's; faces: none)
    candidates: int = DEFAULT_CANDIDATES  # identities drawn per portrait, the best kept (choose)
    # at most this many more, one at a time, while none is read as asked (one emotion only)
    more_candidates: int = DEFAULT_MORE_CANDIDATES

    def check(self) -> None:
        from moodshift.generate.request import MAX_N

        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise UserError(f"--strength {self.strength}: must be between 0 and 1")
        if not self.emotions:
            raise UserError(f"give a description, --emotion or --emotions "
                            f"({', '.join(EMOTIONS)}, all)")
        if not 1 <= self.n <= MAX_N:
            raise UserError(f"--n {self.n}: must be between 1 and {MAX_N}")
        check_seed(self.seed, "--seed")
        check_candidates(self.candidates, self.more_candidates)
        for e in self.emotions:
            if e not in EMOTIONS:
                raise UserError(f"unknown emotion {e!r}: choose one of {', '.join(EMOTIONS)}")
        if not 0.0 <= self.psi <= 1.0:
            raise UserError(f"--truncation {self.psi}: must be between 0 and 1")
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise UserError(f"--size {self.size}: the stylegan generator draws "
                            f"{MIN_SIZE}..{MAX_SIZE} px")


@dataclass(frozen=True)
class StyleFace:
    image: np.ndarray
    emotion: str
    identity: int
    seed: int
    expression_edited: bool = False
    candidate: int = 0            # which of the identity's candidates was kept
    drawn: int = 1                # how many candidates were drawn for it
    # of the calibrated emotion position: direction_share's (EDITED_MOVE, UNEDITED_MOVE), less
    # where the face broke up and was drawn again (choose.STEP_BACK)
    emotion_share: float = 1.0


def draw_style_faces(req: SteeredPortraitRequest) -> list[StyleFace]:
    """For each identity (n) and emotion, one face, in emotion-major order. With same_person an
    identity shares its seed across the emotions (and is chosen once, for all of them), else
    each emotion draws its own (seed + emotion's position). Each identity is the best of
    ``req.candidates``, or of up to ``req.more_candidates`` more (disgust: three times as many)
    where an identity shows one emotion (moodshift.generate.stylegan.choose)."""
    from moodshift.generate.stylegan.choose import (
        Ask,
        candidate_rows,
        candidates_at_most,
        choose,
        load_candidate_reader,
    )
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.generator import load_style_generator

    req.check()
    d = load_directions(req.directions)
    gen = load_style_generator()
    reader = load_candidate_reader() if req.candidates > 1 else None
    k = req.candidates
    draw = face_drawer(gen, d, req.size, req.expression_edit, preview=k > 1)
    faces: dict[tuple[str, int], StyleFace] = {}
    groups = [(req.seed, req.emotions)] if req.same_person else \
        [(req.seed + j, (e,)) for j, e in enumerate(req.emotions)]
    for seed, emotions in groups:
        most = candidates_at_most(k, req.more_candidates, emotions)
        pool = gen.sample_styles(req.n * most, seed, req.psi)
        asks = [Ask(e, req.age_group, req.gender) for e in emotions]
        for i in range(req.n):
            chosen = choose(pool[candidate_rows(req.n, most, i)], asks, draw, reader, first=k)
            for ask, img, edited, share in zip(asks, chosen.faces, chosen.edited,
                                               chosen.shares):
                share *= direction_share(ask.emotion, req.expression_edit)
                faces[ask.emotion, i] = StyleFace(img, ask.emotion, i, seed, edited,
                                                  chosen.candidate, chosen.drawn, share)
    return [faces[e, i] for e in req.emotions for i in range(req.n)]


def face_drawer(gen, d: Directions, size: int, expression_edit: bool, preview: bool = False):
    """draw(style, ask) -> Drawn: one style steered as asked, rendered at ``size`` and, for the
    EDITED_EMOTIONS, expression-edited (after a shorter move along the emotion's direction:
    EDITED_MOVE). With ``preview`` (for choosing among candidates) a face larger than the
    readers' size is edited at that size first, and at ``size`` only when it is kept: an edit
    at 1024 px costs about half a second, at 256 px half of that (most of it the detector,
    which the full-size edit then skips: it reuses the preview's box, scaled)."""
    from moodshift.generate.stylegan.choose import Drawn
    from moodshift.generate.stylegan.generator import resize
    from moodshift.generate.stylegan.labels import LABEL_SIZE

    def draw(style: np.ndarray, ask) -> Drawn:
        share = ask.emotion_share * direction_share(ask.emotion, expression_edit)
        styles = steer(d, style[None], ask.emotion, ask.age_group, ask.gender, share)
        img = gen.render(styles, size)[0]
        if not (expression_edit and ask.emotion in EDITED_EMOTIONS):
            return Drawn(img, False)
        if not preview or size <= LABEL_SIZE:
            return Drawn(*edit_expression(img, ask.emotion))
        small = resize(img, LABEL_SIZE)
        box = face_box(small)
        if box is None:
            return Drawn(img, False)
        big = tuple(round(v * size / LABEL_SIZE) for v in box)
        return Drawn(*edit_expression(small, ask.emotion, box),
                     finish=lambda: edit_expression(img, ask.emotion, big))

    return draw


# The emotions whose rendered face the expression editor also moves toward the emotion, and
# how far along its direction (share of the calibrated position) the face moves first. At
# first only the emotions whose direction calibration found weak (angry, disgust, fear) were
# edited, after the whole move. Session 8 measured, on 60 held-out steered faces per emotion
# (seed 6000), how often the labelling readers (msnet + face-api, never fer) read the asked
# emotion with and without the edit, after 1, 0.75 or 0.5 of the move (also 0.25 for sad,
# surprise and neutral, whose best was at 0.5; tools/stylegan_edit_probe.py, docs/stylegan.md).
# The edit raised every emotion but happy (sad 60 -> 77 %, surprise 80 -> 88 %, neutral 73 ->
# 92 % at the whole move), and with it a shorter move read as well or better while the face
# broke up less often (surprise: face-api's Tiny detector found 78 % of the faces after the
# whole move and the edit, 95 % after a quarter). Rule, fixed before the quarter moves were
# tried: the shortest move whose mean probability of the asked emotion is within 0.01 of the
# best. Happy's direction alone is read on nearly every face: not edited. Session 9 re-chose
# fear with its new prototype (templates.PROTOTYPES) on 40 other held-out faces (seed 6100):
# half the move and the edit at 1.75 times its usual strength (EDIT_STRENGTH) read best (labelling
# readers: fear on 7 -> 22 of 40 against the old prototype, whole edit, 0.75 of the move; the
# readers' second choice, surprise, 18 -> 4), from moves 0, 0.25, 0.5, 0.75, 1 and strengths
# 1-2; the same rule (tools/stylegan_edit_probe.py --emotions fear --n 40 --seed 6100). Disgust
# the same way, its prototype unchanged, once the teeth painting no longer overshot at strengths
# above 1 (texture.hide_teeth): a quarter of the move at 1.5 times the strength (mean probability
# 0.389 -> 0.458, read as disgust 24 -> 26 of 40; 1.75 scored 0.466, within 0.01). Session 12
# re-drew opened mouths (style/editing/mouth.py) and asked again, on 40 other held-out faces
# (seed 6300; moves 0-1, strengths 1-2) for fear, surprise and angry, with the rule above, a
# face the Tiny detector finds on at most one face fewer than now, and, after looking at the
# faces, no strength above 1.75 (angry at 1.75 and fear at 2 gaped like masks): fear a quarter
# of the move at 1.75 (mean probability 0.404 -> 0.466, read as fear 19 -> 23 of 40, found 35 ->
# 37); surprise unchanged (its best, half the move, lost 4 faces to the detector); angry
# unchanged (the rule's quarter move at 1.75 is one of the masks).
EDITED_MOVE = {"angry": 0.75, "disgust": 0.25, "fear": 0.25, "sad": 0.5,
               "surprise": 0.25, "neutral": 0.5}
EDITED_EMOTIONS = frozenset(EDITED_MOVE)
# the expression editor's strength per edited emotion (1 where not named)
EDIT_STRENGTH = {"disgust": 1.5, "fear": 1.75}
# How far the emotions that are never edited move. Happy's whole calibrated move changed the
# person more than any other emotion's (viewed with --same-person: glasses, hair, background),
# and a shorter one reads as well. Session 11 measured happy, unedited, on 40 held-out faces
# (seed 6200; tools/stylegan_edit_probe.py --emotions happy --shares 0.25,0.5,0.75,1
# --strengths 1): the labelling readers' mean probability of happy 0.818 / 0.930 / 0.934 /
# 0.919, read as happy 85 / 100 / 100 / 100 %, the Tiny detector finding the face 95 / 100 /
# 95 / 90 %. The rule above (the shortest move within 0.01 of the best) gives half the move.
UNEDITED_MOVE = {"happy": 0.5}


def direction_share(emotion: str, expression_edit: bool) -> float:
    """How far (share of the calibrated position) a face moves along the emotion's direction:
    before the expression edit for the EDITED_EMOTIONS (the whole way without the edit), and
    UNEDITED_MOVE's share for the others."""
    if expression_edit and emotion in EDITED_MOVE:
        return EDITED_MOVE[emotion]
    return UNEDITED_MOVE.get(emotion, 1.0)


def weak_direction(d: Directions, emotion: str) -> bool:
    """Whether calibration found the emotion's style-space direction weak (model card)."""
    return not d.info.get("good_direction", {}).get(emotion, True)


def emotion_path(d: Directions, emotion: str, expression_edit: bool) -> str:
    """In words, how a face is made to show the emotion (eval gan's ``emotion_paths``)."""
    path = "style-space direction" + (" (weak in calibration)" if weak_direction(d, emotion)
                                      else "")
    share = direction_share(emotion, expression_edit)
    if share != 1.0:
        path += f", {share:g} of its calibrated position"
    if not (expression_edit and emotion in EDITED_EMOTIONS):
        return path
    strength = EDIT_STRENGTH.get(emotion, 1.0)
    return (f"{path}, then expression editing (mesh warp, shading"
            + (f", {strength:g} times its usual strength)" if strength != 1.0 else ")"))


def face_box(img: np.ndarray) -> tuple[int, int, int, int] | None:
    """The SSD detector's best face box (x, y, w, h) on a rendered face; None if it finds none."""
    from moodshift.faces.detect import load_detector

    found = load_detector("ssd").detect(img)
    return tuple(int(v) for v in found[0].box) if found else None  # type: ignore[return-value]


def edit_expression(img: np.ndarray, emotion: str,
                    box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, bool]:
    """For one of the EDITED_EMOTIONS, the rendered face (in ``box``; default: where the
    detector finds it) moved toward it by moodshift's expression editor (face mesh warp and
    shading, moodshift.style.editing); other emotions, and faces the detector or the mesh
    cannot find (or turned too far), are returned as they are. Returns the image and whether
    the edit was applied."""
    if emotion not in EDITED_EMOTIONS:
        return img, False
    from moodshift.style.editing.expression import edit_expressions

    box = box or face_box(img)
    if box is None:
        return img, False
    edited, edits, _ = edit_expressions(img, [box], {emotion: 1.0},
                                        EDIT_STRENGTH.get(emotion, 1.0))
    return edited, bool(edits and edits[0].applied)


def render_style_grid(seed: int = 0, cell: int = 128, psi: float = DEFAULT_PSI,
                      directions: Path | None = None,
                      expression_edit: bool = True) -> np.ndarray:
    """Emotions (rows) x age group x gender (columns), one identity in every cell;
    expression_edit: the EDITED_EMOTIONS are also expression-edited, as in style_portraits."""
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.generator import load_style_generator
    from moodshift.sheets import PERSON_COLUMNS, emotion_person_sheet

    d = load_directions(directions)
    gen = load_style_generator()
    base = gen.sample_styles(1, seed, psi)

    def row(emotion: str) -> list[np.ndarray]:
        share = direction_share(emotion, expression_edit)
        styles = np.concatenate([steer(d, base, emotion, a, g, share)
                                 for a, g in PERSON_COLUMNS])
        faces = list(gen.render(styles, cell))
        return [edit_expression(f, emotion)[0] for f in faces] if expression_edit else faces

    return emotion_person_sheet((row(e) for e in EMOTIONS), cell)


def style_portrait(img: np.ndarray, emotion: str, strength: float | None = None,
                   style_image: np.ndarray | None = None
                   ) -> tuple[np.ndarray, float, dict[str, float] | None]:
    """A generated face styled for ``emotion`` as `stylize` styles a photo's (the fast engine's
    face-aware rendering, colours preserved): strokes on the background and, less, on the hair
    and clothes, only the emotion's grade and look on the face, which is already edited.
    ``strength``: the style's (None: the palette's). Returns (image, strength, region strengths
    or None where the rendering was not face-aware)."""
    from moodshift.generate.stylegan.labels import centre_box
    from moodshift.style import default_palette, stylize_image
    from moodshift.style.editing.portrait import FACE_STRENGTH_BY_ENGINE, RegionStrengths
    from moodshift.style.editing.render import render_faces

    palette = default_palette()
    s = palette[emotion].strength if strength is None else strength
    # the generator centres its face; the SSD's box is tighter where it finds one (its weights
    # come with the generator's from `models pull`, so only a test styles without them)
    try:
        box = face_box(img)
    except ModelMissingError:
        box = None
    box = box or centre_box(img.shape[0])
    styled, _, regions = render_faces(
        img, [box], {emotion: 1.0}, palette, s, 0.0,
        RegionStrengths(face=FACE_STRENGTH_BY_ENGINE["fast"]),
        lambda work: stylize_image(work, emotion, palette, strength=s, preserve_color=True,
                                   style_image=style_image))
    return styled, s, regions


def parse_emotion_list(value: str | None) -> tuple[str, ...] | None:
    """``all`` or a comma list of emotions; an unknown name lists the valid ones."""
    from moodshift.emotions import canonical_emotion

    if value is None:
        return None
    if value.strip().lower() == "all":
        return EMOTIONS
    out = []
    for word in value.split(","):
        found = canonical_emotion(word.strip())
        if found is None:
            raise UserError(f"--emotions: unknown emotion {word.strip()!r}: choose from "
                            f"{', '.join(EMOTIONS)} or all")
        out.append(found)
    return tuple(dict.fromkeys(out))


def steered_portrait_request(text: str | None, emotion: str | None, age: str | None,
                             gender: str | None, emotions: str | None, same_person: bool,
                             grid: bool, **fields) -> tuple[SteeredPortraitRequest,
                                                            dict[str, object] | None]:
    """The checked request, and the text's reading, from ``moodshift generate``'s options: a
    description and/or --emotion, or an --emotions list (``all`` or names); --same-person keeps
    one identity across the listed emotions. ``fields``: the request's other fields."""
    from moodshift.generate.request import read_request

    if same_person and not emotions:
        raise UserError("--same-person goes with --emotions (e.g. --emotions all)")
    wanted, age_group, sex, reading = read_request(text, emotion, age, gender)
    listed = parse_emotion_list(emotions) or ((wanted,) if wanted else ())
    req = SteeredPortraitRequest(emotions=(listed or ("neutral",)) if grid else listed,
                                 age_group=age_group, gender=sex,
                                 same_person=same_person or len(listed) == 1, **fields)
    req.check()
    return req, reading


def style_portraits(req: SteeredPortraitRequest, styled: bool = True,
                    style_emotion: str | None = None, style_image: np.ndarray | None = None,
                    style_label: str | None = None) -> list:
    """Steered faces, styled for their emotion with colours kept and faces spared (unless not
    styled: style_portrait), each with the intent it was made to express
    (moodshift.generate.portraits.Portrait)."""
    from moodshift.emotions import EMOTION_VAD
    from moodshift.generate.request import Portrait

    out = []
    for face in draw_style_faces(req):
        img, s, regions = face.image, None, None
        if styled:
            img, s, regions = style_portrait(img, style_emotion or face.emotion, req.strength,
                                             style_image)
        intent = {"tool": "generate", "emotion": face.emotion,
                  "target_vad": EMOTION_VAD[face.emotion].to_json(),
                  "age_group": req.age_group, "gender": req.gender, "seed": face.seed,
                  "index": face.identity, "generator": "stylegan", "truncation": req.psi,
                  "same_person": req.same_person,
                  "style": (style_label or face.emotion) if styled else None,
                  "strength": s, "regions": regions,
                  # an expression warped after generation, said as stylize says it for photos
                  "expression_edited": face.expression_edited,
                  "expression_strength": EDIT_STRENGTH.get(face.emotion, 1.0)
                  if face.expression_edited else None,
                  # the identity was the best of candidates_drawn (at least candidates)
                  # for the request (choose.py)
                  "candidates": req.candidates, "candidates_drawn": face.drawn,
                  "candidate": face.candidate,
                  # of the calibrated move along the emotion's direction (direction_share:
                  # EDITED_MOVE, UNEDITED_MOVE), less where the face broke up and was drawn
                  # again
                  "emotion_share": face.emotion_share}
        out.append(Portrait(img, intent))
    return out


def portraits_for(request) -> list:
    """moodshift.generate.portraits.generate_portraits for ``generator="stylegan"``: the
    request's n identities showing its emotion (steered to its age group and gender), styled
    as `generate --generator stylegan` styles them."""
    req = SteeredPortraitRequest(emotions=(request.emotion,), age_group=request.age_group,
                                 gender=request.gender, n=request.n, seed=request.seed,
                                 psi=request.psi, size=request.size, same_person=True,
                                 strength=request.strength)
    return style_portraits(req, styled=request.styled, style_emotion=request.style_emotion,
                           style_image=request.style_image, style_label=request.style_label)


def output_names(emotions: tuple[str, ...], n: int) -> list[str]:
    """Name suffixes of the files for n identities x the emotions, in style_portraits' order."""
    return [f"{e}-{i + 1:03d}" for e in emotions for i in range(n)]
