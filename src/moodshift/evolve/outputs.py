"""What an evolve run leaves in --out: elite PNGs, heatmap, grid, archive.csv and result.json.

Every file is written atomically (moodshift.imageio), so an interrupted write never leaves a
half file; the elites carry their intent as PNG metadata for the rating tool.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodshift.emotions import EMOTION_VAD, EMOTIONS, nearest_emotion
from moodshift.evolve.fitness import TOP_ELITES, judge_agreement
from moodshift.evolve.run import EvolveConfig, RunState
from moodshift.expression.base import whole_image_probs
from moodshift.sheets import figure_png, image_grid

RESULT = "result.json"
ELITES = "elites"
RENDER_BATCH = 64


@dataclass
class Elite:
    cell: str
    grid_index: tuple[int, ...]
    objective: float
    measures: list[float]
    emotion: str            # what this cell means (the cell's emotion or the target's)
    image_path: str         # relative to --out
    image: np.ndarray


def cell_emotion(config: EvolveConfig, layout: Any, grid_index: tuple[int, ...]) -> str:
    if layout.name == "emotions":
        return EMOTIONS[grid_index[0]]
    return config.target.nearest_emotion() or nearest_emotion(config.target.wanted_vad())


def collect_elites(state: RunState, layout: Any, genome: Any, config: EvolveConfig) -> list[Elite]:
    """The archive's elites with their rendered images, best objective first."""
    data = state.archive.data(["solution", "objective", "measures", "index"], return_type="dict")
    order = np.argsort(-data["objective"], kind="stable")
    grids = state.archive.int_to_grid_index(data["index"]) if len(order) else np.zeros((0, 1))
    images = [genome.render(data["solution"][order[i:i + RENDER_BATCH]])
              for i in range(0, len(order), RENDER_BATCH)]
    flat = np.concatenate(images) if images else np.zeros((0, genome.size, genome.size, 3))
    elites = []
    for k, row in enumerate(order):
        gi = tuple(int(v) for v in grids[row])
        name = layout.cell_name(np.array(gi))
        elites.append(Elite(name, gi, float(data["objective"][row]),
                            [round(float(m), 4) for m in data["measures"][row]],
                            cell_emotion(config, layout, gi), f"{ELITES}/{name}.png",
                            flat[k].astype(np.uint8)))
    return elites


def target_vad(config: EvolveConfig, emotion: str) -> dict[str, float]:
    if config.target.kind == "emotions":
        return EMOTION_VAD[emotion].to_json()
    wanted = config.target.wanted_vad()
    return dict(zip(("valence", "arousal", "dominance"), (round(v, 4) for v in wanted)))


def objective_label(config: EvolveConfig) -> str:
    """What the objective measures, in words (for plots and the JSON)."""
    t = config.target
    model = config.expression_model if config.fitness == "expression" else "colour mood"
    if config.fitness == "expression" and t.kind == "emotion":
        return f"P({t.emotion}) from {model}"
    if config.fitness == "expression" and t.kind == "emotions":
        return f"P(cell's emotion) from {model}"
    if t.kind == "emotions":
        return "closeness of colour VAD to the cell's emotion"
    what = "expected VAD" if config.fitness == "expression" else "VAD"
    return f"closeness of {model} {what} to {t.label}"


def heatmap_png(layout: Any, elites: list[Elite], title: str, objective: str) -> bytes:
    """The best objective per cell (grey: empty)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5) if len(layout.dims) == 2 else (7, 3.5))
    try:
        if len(layout.dims) == 1:
            values = {e.cell: e.objective for e in elites}
            ax.bar(EMOTIONS, [values.get(e, 0.0) for e in EMOTIONS], color="tab:blue")
            ax.set_ylim(0, 1)
            ax.set_ylabel(f"best {objective}")
        else:
            grid = np.full(tuple(layout.dims), np.nan)
            for e in elites:
                grid[e.grid_index] = e.objective
            (x0, x1), (y0, y1) = layout.ranges
            cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
            im = ax.imshow(grid.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
                           cmap=cmap, vmin=0, vmax=1)
            fig.colorbar(im, ax=ax, label=f"best {objective}")
            ax.set_xlabel(objective if layout.axes[0] == "objective" else layout.axes[0])
            ax.set_ylabel(layout.axes[1])
        ax.set_title(title, fontsize=10)
        return figure_png(fig)
    finally:
        plt.close(fig)


def grid_png(layout: Any, elites: list[Elite], tile: int) -> bytes:
    """The best image of every cell at its place in the archive (emotions: one labelled row)."""
    if len(layout.dims) == 1:
        by_cell = {e.cell: e for e in elites}
        found = [by_cell.get(name) for name in EMOTIONS]
        canvas = image_grid([[None if e is None else e.image for e in found]], tile, captions=[
            [f"{name}\n" + ("empty" if e is None else f"{e.objective:.3f}")
             for name, e in zip(EMOTIONS, found)]])
    else:
        nx, ny = layout.dims
        by_index = {e.grid_index: e.image for e in elites}
        # top row = highest second measure, as in the heatmap
        canvas = image_grid([[by_index.get((i, j)) for i in range(nx)]
                             for j in reversed(range(ny))], tile)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def archive_csv(layout: Any, elites: list[Elite]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["cell", *[f"grid_{i}" for i in range(len(layout.dims))], "objective",
                     *[a.replace(" ", "_") for a in layout.axes], "emotion", "image"])
    for e in elites:
        writer.writerow([e.cell, *e.grid_index, f"{e.objective:.6f}", *e.measures, e.emotion,
                         e.image_path])
    return buf.getvalue()


def history_csv(state: RunState) -> str:
    lines = ["iteration,evaluations,coverage,qd_score,best"]
    lines += [f"{i},{n},{c:.6f},{q:.6f},{b:.6f}" for i, n, c, q, b in state.history]
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, state: RunState, config: EvolveConfig, layout: Any, genome: Any,
                  fitness_model: Any, judge: Any, judge_name: str) -> dict[str, object]:
    """Write every output and return the result JSON (also saved as result.json)."""
    from moodshift.imageio import atomic_write_bytes, atomic_write_text, save_image

    elites = collect_elites(state, layout, genome, config)
    for e in elites:
        save_image(e.image, out / e.image_path, metadata={
            "tool": "evolve", "target": config.target.label, "emotion": e.emotion,
            "target_vad": target_vad(config, e.emotion), "objective": round(e.objective, 6),
            "measures": e.measures, "cell": e.cell, "genome": config.genome,
            "fitness": config.fitness})
    title = (f"{config.target.label}: {config.genome} genome, {layout.name} layout, "
             f"{state.iterations} iterations")
    atomic_write_bytes(out / "heatmap.png", heatmap_png(layout, elites, title,
                                                         objective_label(config)))
    atomic_write_bytes(out / "grid.png", grid_png(layout, elites, min(config.size, 96)))
    atomic_write_text(out / "archive.csv", archive_csv(layout, elites))
    atomic_write_text(out / "history.csv", history_csv(state))

    stats = state.archive.stats
    images = np.stack([e.image for e in elites]) if elites else np.zeros((0, 1, 1, 3), np.uint8)
    intended = [e.emotion for e in elites]
    judged = judge_agreement(judge, judge_name, images, intended)
    if fitness_model is not None and elites:  # the fitness model's own view, for contrast
        probs = whole_image_probs(fitness_model, images)
        idx = np.array([EMOTIONS.index(e) for e in intended])
        hit = probs.argmax(1) == idx
        judged["fitness_model_agreement"] = round(float(hit.mean()), 4)
        judged["fitness_model_top_agreement"] = round(float(hit[:TOP_ELITES].mean()), 4)
    result: dict[str, object] = {
        "iterations": state.iterations,
        "evaluations": state.evaluations,
        "coverage": round(float(stats.coverage), 4),
        "qd_score": round(float(stats.qd_score), 4),
        "best": {e.cell: {"objective": round(e.objective, 4), "image": e.image_path}
                 for e in elites},
        "best_objective": round(float(stats.obj_max), 4) if stats.obj_max is not None else None,
        "initial_best_objective": None if state.initial_best is None
        else round(state.initial_best, 4),
        "objective": objective_label(config),
        "target": config.target.to_json(),
        "genome": config.genome, "layout": layout.name, "cells": layout.cells,
        "fitness": config.fitness if config.fitness == "mood"
        else f"expression:{config.expression_model}",
        "size": config.size, "batch": config.batch, "seed": config.seed,
        "seconds": round(state.seconds, 2),
        "evaluations_per_second": round(state.evaluations / state.seconds, 1)
        if state.seconds > 0 else None,
        "judge": judged,
        "outputs": {"elites": f"{ELITES}/", "heatmap": "heatmap.png", "grid": "grid.png",
                    "archive": "archive.csv", "history": "history.csv",
                    "checkpoint": "checkpoint.pkl"},
    }
    atomic_write_text(out / RESULT, json.dumps(result, indent=1) + "\n")
    return result
