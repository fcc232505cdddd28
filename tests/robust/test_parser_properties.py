"""Property-based tests (Hypothesis) for the option and config parsers: any input either parses
to a valid value or is refused with a UserError, never another exception."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moodshift.emotions import EMOTIONS, EmotionMix
from moodshift.errors import UserError
from moodshift.evolve.bounds import MAX_BATCH, MAX_ITERATIONS, check_batch, check_iterations
from moodshift.evolve.targets import parse_target
from moodshift.seeds import SEED_MAX, check_seed
from moodshift.style.engines.optimize_settings import parse_options
from moodshift.style.palette import ENTRY_KEYS, GRADE_KEYS, load_palette
from moodshift.stylize import MIN_WORK_PIXELS, StyleRequest

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

names = st.sampled_from(EMOTIONS)
# Names as users type them: any case, stray spaces, sometimes a typo.
typed_names = st.one_of(
    names.map(str.upper), names.map(str.title), names.map(lambda n: f"  {n} "),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))
weights = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 100),
                    st.just(""), st.text(max_size=4))


def parse_emotion_request(text: str) -> str | dict[str, float]:
    mix = EmotionMix.parse(text)
    return "auto" if mix.is_auto else mix.as_dict()


@FAST
@given(st.text(max_size=60))
def test_any_emotion_text_parses_or_is_a_user_error(text: str) -> None:
    try:
        parsed = parse_emotion_request(text)
    except UserError:
        return
    if isinstance(parsed, str):
        assert parsed == "auto" and text.strip().lower() == "auto"
    else:
        assert set(parsed) <= set(EMOTIONS) and math.isclose(sum(parsed.values()), 1.0)
        assert all(w > 0 for w in parsed.values())


@FAST
@given(st.lists(st.tuples(typed_names, weights), min_size=1, max_size=5))
def test_blends_normalise_or_refuse(parts: list[tuple[str, object]]) -> None:
    text = ",".join(f"{n}:{w}" for n, w in parts)
    try:
        mix = parse_emotion_request(text)
    except UserError:
        return
    assert isinstance(mix, dict)
    assert set(mix) <= set(EMOTIONS) and math.isclose(sum(mix.values()), 1.0)
    assert all(0 < w <= 1 for w in mix.values())


@FAST
@given(names, st.floats(min_value=0.01, max_value=1e6))
def test_a_valid_single_weight_blend_is_that_emotion(name: str, weight: float) -> None:
    assert parse_emotion_request(f"{name.upper()}:{weight}") == {name: 1.0}


@pytest.mark.parametrize("text", ["happy:inf", "happy:nan", "happy:inf,sad:1", "sad:1e400"])
def test_non_finite_weights_are_refused_not_read_as_auto(text: str) -> None:
    with pytest.raises(UserError, match="non-negative number"):
        EmotionMix.parse(text)


@FAST
@given(st.one_of(st.floats(), st.integers(-3, 3), st.none()))
def test_strength_accepted_exactly_in_0_1(strength) -> None:
    ok = strength is None or (not math.isnan(strength) and 0.0 <= strength <= 1.0)
    try:
        StyleRequest(emotion="sad", strength=strength).check()
        assert ok
    except UserError:
        assert not ok


@FAST
@given(st.one_of(st.integers(-2**70, 2**70), st.floats(), st.booleans(), st.none()))
def test_max_pixels_accepted_exactly_when_a_whole_number_large_enough(cap) -> None:
    ok = cap is None or (type(cap) is int and cap >= MIN_WORK_PIXELS)
    try:
        StyleRequest(emotion="sad", max_pixels=cap).check()
        assert ok
    except UserError:
        assert not ok


@FAST
@given(st.one_of(st.integers(-2**70, 2**70), st.floats(), st.booleans(), st.text(max_size=3)))
def test_seeds_accepted_exactly_in_the_documented_range(seed) -> None:
    ok = type(seed) is int and 0 <= seed <= SEED_MAX
    try:
        assert check_seed(seed) == seed
        assert ok
    except UserError as exc:
        assert not ok and "4294967295" in str(exc)


@FAST
@given(st.integers(-10, 10**12), st.integers(16, 512), st.sampled_from(["cppn", "pixels",
                                                                        "gan-latent"]))
def test_batch_bounds_are_monotonic(batch: int, size: int, genome: str) -> None:
    try:
        check_batch(batch, size, genome)
    except UserError as exc:
        assert str(exc).startswith(f"--batch {batch}")
        return
    assert 1 <= batch <= MAX_BATCH
    check_batch(max(1, batch // 2), size, genome)  # less is always allowed


@FAST
@given(st.integers(-10, 10**13), st.integers(1, MAX_BATCH), st.integers(16, 512))
def test_iteration_bounds_are_monotonic(iterations: int, batch: int, size: int) -> None:
    try:
        check_iterations(iterations, batch, size)
    except UserError as exc:
        assert f"--iterations {iterations}" in str(exc)
        return
    assert 1 <= iterations <= MAX_ITERATIONS
    check_iterations(max(1, iterations // 2), batch, size)


@FAST
@given(st.text(max_size=40))
def test_evolve_targets_parse_or_refuse(text: str) -> None:
    try:
        target = parse_target(text)
    except UserError:
        return
    assert target.kind in ("emotions", "emotion", "va", "vad")
    if target.vad is not None:
        assert all(-1.0 <= v <= 1.0 for v in target.vad.as_tuple())


@FAST
@given(st.dictionaries(st.sampled_from(["steps", "size", "backbone", "optimizer", "time_budget",
                                        "init", "bogus"]),
                       st.one_of(st.integers(-10, 10**7), st.floats(), st.text(max_size=8),
                                 st.none(), st.booleans()), max_size=4))
def test_optimize_options_parse_or_refuse(options: dict) -> None:
    try:
        parse_options(options)
    except UserError:
        pass


toml_scalars = st.one_of(st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False,
                                                         width=32),
                         st.booleans(), st.sampled_from(['"procedural"', '"photo"', '"style"',
                                                         '"arbitrary"', '"multistyle26"',
                                                         '"missing.png"', '"m.onnx"']))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


palette_tables = st.dictionaries(
    st.one_of(names, st.sampled_from(["Happy", "joy", "anger", "fear "])),
    st.dictionaries(st.sampled_from(list(ENTRY_KEYS) + ["colour"]),
                    st.one_of(toml_scalars, st.dictionaries(
                        st.sampled_from(list(GRADE_KEYS) + ["hue"]), toml_scalars, max_size=3),
                        st.lists(st.floats(0, 2, width=32), max_size=30)),
                    max_size=4),
    max_size=3)


def _toml(tables: dict) -> str:
    lines = []
    for table, entries in tables.items():
        lines.append(f'["{table}"]')
        for key, value in entries.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(float(x)) for x in value)}]")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


@FAST
@given(palette_tables)
def test_palette_toml_loads_or_is_a_user_error(tables: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "palette.toml"
        path.write_text(_toml(tables))
        try:
            palette = load_palette(path)
        except UserError:
            return
        for emotion in EMOTIONS:
            entry = palette[emotion]
            assert 0.0 <= entry.strength <= 1.0
            assert entry.engine in ("arbitrary", "multistyle26")


@FAST
@given(st.binary(max_size=200))
def test_palette_file_of_any_bytes_loads_or_is_a_user_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "palette.toml"
        path.write_bytes(data)
        try:
            load_palette(path)
        except UserError:
            pass


@pytest.mark.parametrize("argv", [["--size", "15"], ["--size", "513"], ["--batch", "0"],
                                  ["--iterations", "-1"], ["--seed", str(SEED_MAX + 1)]])
def test_evolve_option_errors_write_nothing(capsys, tmp_path: Path, argv) -> None:
    from moodshift.cli import main

    code = main(["evolve", "--target", "emotions", "--iterations", "5", "--out",
                 str(tmp_path / "run"), *argv])
    assert code == 2 and capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "run").exists()
