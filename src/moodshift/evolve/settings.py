"""Evolve settings as data: the packaged defaults (moodshift/data/evolve.toml) plus --config."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from moodshift.errors import InputFileError, UserError

DEFAULTS = Path(__file__).resolve().parent.parent / "data" / "evolve.toml"
EMITTER_TYPES = ("gaussian", "iso_line", "cma_me")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value  # lists (emitters, cells) are replaced whole
    return out


def load_settings(path: str | Path | None = None) -> dict[str, Any]:
    settings = tomllib.loads(DEFAULTS.read_text())
    if path is None:
        return settings
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such config file")
    try:
        override = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(p, f"not valid TOML ({exc})") from None
    return _merge(settings, override)


def make_emitters(specs: list[dict[str, Any]], archive: Any, genome: Any, batch: int,
                  seed: int, initial: np.ndarray) -> list[Any]:
    """pyribs emitters from the settings; ``batch`` solutions per iteration in all."""
    from ribs.emitters import EvolutionStrategyEmitter, GaussianEmitter, IsoLineEmitter

    if not specs:
        raise UserError(f"evolve config: no emitters for genome {genome.name}")
    if batch < len(specs):
        raise UserError(f"--batch {batch}: needs at least one image per emitter "
                        f"({len(specs)} for genome {genome.name})")
    sizes = [batch // len(specs) + (1 if i < batch % len(specs) else 0)
             for i in range(len(specs))]
    bounds = dict(lower_bounds=np.full(genome.solution_dim, genome.lower, np.float32),
                  upper_bounds=np.full(genome.solution_dim, genome.upper, np.float32))
    emitters = []
    start = 0
    for i, (spec, size) in enumerate(zip(specs, sizes)):
        kind = spec.get("type")
        first = initial[start:start + size]  # each emitter starts from its share of seeds
        start += size
        try:
            if kind == "gaussian":
                emitters.append(GaussianEmitter(archive, sigma=float(spec["sigma"]),
                                                initial_solutions=first, batch_size=size,
                                                seed=seed + i, **bounds))
            elif kind == "iso_line":
                emitters.append(IsoLineEmitter(archive, iso_sigma=float(spec["iso_sigma"]),
                                               line_sigma=float(spec["line_sigma"]),
                                               initial_solutions=first, batch_size=size,
                                               seed=seed + i, **bounds))
            elif kind == "cma_me":
                # No bounds: CMA-ES resamples out-of-bounds candidates (it warned of 100+
                # resamples on GAN latents); genomes clip what they render instead.
                emitters.append(EvolutionStrategyEmitter(
                    archive, x0=first.mean(axis=0) if len(first) > 1 else first[0],
                    sigma0=float(spec["sigma0"]), ranker=str(spec.get("ranker", "2imp")),
                    batch_size=size, seed=seed + i))
            else:
                raise UserError(f"evolve config: unknown emitter type {kind!r}; use one of "
                                f"{', '.join(EMITTER_TYPES)}")
        except KeyError as exc:
            raise UserError(f"evolve config: emitter {kind!r} needs {exc.args[0]!r}") from None
    return emitters
