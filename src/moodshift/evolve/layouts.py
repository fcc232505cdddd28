"""Archive layouts: which cell an image falls in (its measures) and what the cell is called.

* ``emotions``: one cell per emotion. As in Nguyen et al.'s innovation engines every image is
  scored against every emotion and may become the champion of any of them (it is told to the
  scheduler in the cell of its top emotion and then offered to the other six cells too).
* ``va``: a grid over the image's colour valence x arousal (moodshift's mood model).
* ``prob-detail``: a grid over (the target objective, e.g. P(emotion)) x (image detail, the mean
  grey gradient): from faint to confident, from flat to busy images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.evolve.fitness import Evaluation
from moodshift.evolve.targets import Target

LAYOUTS = ("emotions", "va", "prob-detail")


@dataclass(frozen=True)
class Layout:
    name: str
    dims: tuple[int, ...]
    ranges: tuple[tuple[float, float], ...]
    axes: tuple[str, ...]

    @property
    def cells(self) -> int:
        return int(np.prod(self.dims))

    def make_archive(self, solution_dim: int, seed: int):
        from ribs.archives import GridArchive
        return GridArchive(solution_dim=solution_dim, dims=list(self.dims),
                           ranges=list(self.ranges), seed=seed, solution_dtype=np.float32)

    def measures(self, objectives: np.ndarray, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
        """(objective (n,), measures (n, d)) to tell the scheduler."""
        if self.name == "emotions":
            top = objectives.argmax(axis=1)
            return objectives[np.arange(len(top)), top], (top + 0.5)[:, None].astype(np.float64)
        if self.name == "va":
            assert ev.mood is not None
            return objectives, ev.mood[:, :2]
        assert ev.detail is not None
        return objectives, np.stack([objectives, ev.detail], axis=1)

    def offer_everywhere(self, archive, solutions: np.ndarray, objectives: np.ndarray) -> None:
        """emotions layout: offer each image to every emotion's cell with that emotion's score."""
        if self.name != "emotions":
            return
        for j in range(len(EMOTIONS)):
            archive.add(solutions, objectives[:, j], np.full((len(solutions), 1), j + 0.5))

    def cell_centre(self, grid_index: np.ndarray) -> list[float]:
        out = []
        for i, (lo, hi), n in zip(grid_index, self.ranges, self.dims):
            out.append(lo + (int(i) + 0.5) * (hi - lo) / n)
        return out

    def cell_name(self, grid_index: np.ndarray) -> str:
        if self.name == "emotions":
            return EMOTIONS[int(grid_index[0])]
        c = self.cell_centre(grid_index)
        if self.name == "va":
            return f"v{c[0]:+.2f}_a{c[1]:+.2f}"
        return f"p{c[0]:.2f}_d{c[1]:.3f}"


def choose_layout(name: str, target: Target, grid: dict[str, object] | None = None) -> Layout:
    """The layout called name ("auto": the natural one for the target), checked against it."""
    grid = dict(grid or {})
    if name == "auto":
        name = {"emotions": "emotions", "emotion": "prob-detail"}.get(target.kind, "va")
    if name not in LAYOUTS:
        raise UserError(f"--layout {name}: unknown layout; valid layouts: auto, "
                        f"{', '.join(LAYOUTS)}")
    if (name == "emotions") != (target.kind == "emotions"):
        raise UserError(f"--layout {name} does not fit --target {target.label}: the emotions "
                        "layout needs --target emotions and --target emotions needs it")
    if name == "emotions":
        return Layout(name, (len(EMOTIONS),), ((0.0, float(len(EMOTIONS))),), ("emotion",))
    cells = grid.get(name.replace("-", "_") + "_cells", [10, 10])
    if (not isinstance(cells, list) or len(cells) != 2
            or not all(isinstance(c, int) and 1 <= c <= 100 for c in cells)):
        raise UserError(f"evolve config: {name.replace('-', '_')}_cells must be two whole "
                        f"numbers from 1 to 100, got {cells!r}")
    if name == "va":
        return Layout(name, tuple(cells), ((-1.0, 1.0), (-1.0, 1.0)),
                      ("colour valence", "colour arousal"))
    top = float(grid.get("detail_max", 0.1))  # type: ignore[arg-type]
    return Layout(name, tuple(cells), ((0.0, 1.0), (0.0, top)), ("objective", "detail"))
