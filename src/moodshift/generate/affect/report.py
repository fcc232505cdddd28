"""How well generated images hit their targets, read by a judge, and how varied they are.

Agreement (per target): the share of samples the judge reads as the target.
- emotion targets: the judge is an expression model loaded by name through
  moodshift.expression.load (``fer``, ``faceapi``: independent of the msnet the generator was
  trained against), given the whole image as the face box; it agrees when its most probable
  class is the target. The trained-against classifier is reported too, marked as not independent.
- vad targets: the judge is moodshift.mood.measure_mood on the uint8 image, which IS the model
  the generator was trained against (moodshift has no second image-VAD model); a sample agrees
  when its measured VAD lies nearest (Euclidean) to the target emotion's coordinates. The mean
  absolute VAD error is reported as well.

Diversity (per target): mean pairwise L1 distance between samples, after converting to grey and
area-resizing to 32x32, in 0..1 grey levels (0 = identical images; two independent uniform-noise
images score ~0.33, two unrelated face photos typically 0.1-0.2). A pixel-space proxy: no
perceptual (LPIPS) network is available offline here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from PIL import Image

from moodshift.emotions import EMOTION_VAD, EMOTIONS, nearest_emotion

DIVERSITY_SIZE = 32


class ImageSource(Protocol):
    def generate(self, target: str, n: int, seed: int = 0) -> np.ndarray: ...


@dataclass
class TargetScore:
    target: str
    judge: str
    n: int
    agreement: float                  # share of samples read as the target
    mean_target_probability: float | None = None
    mean_vad_error: float | None = None
    diversity: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class AffectReport:
    method: str
    kind: str
    scores: list[TargetScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def judges(self) -> list[str]:
        return list(dict.fromkeys(s.judge for s in self.scores))

    def mean_agreement(self, judge: str) -> float:
        vals = [s.agreement for s in self.scores if s.judge == judge]
        return float(np.mean(vals)) if vals else float("nan")

    def to_json(self) -> dict[str, object]:
        return {"method": self.method, "kind": self.kind,
                "mean_agreement": {j: round(self.mean_agreement(j), 4) for j in self.judges()},
                "scores": [s.to_json() for s in self.scores], "notes": self.notes}

    def to_markdown(self) -> str:
        lines = [f"# {self.method}: agreement and diversity ({self.kind} targets)", "",
                 "| target | judge | n | agreement | mean p(target) | VAD error | diversity |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for s in self.scores:
            p = "" if s.mean_target_probability is None else f"{s.mean_target_probability:.3f}"
            e = "" if s.mean_vad_error is None else f"{s.mean_vad_error:.3f}"
            lines.append(f"| {s.target} | {s.judge} | {s.n} | {s.agreement:.3f} | {p} | {e} | "
                         f"{s.diversity:.3f} |")
        for j in self.judges():
            lines.append(f"| **mean** | {j} | | {self.mean_agreement(j):.3f} | | | |")
        lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def diversity(images: np.ndarray) -> float:
    """Mean pairwise L1 distance of (n, H, W, 3) uint8 images (see the module docstring)."""
    if len(images) < 2:
        return 0.0
    small = np.stack([np.asarray(Image.fromarray(im).convert("L").resize(
        (DIVERSITY_SIZE, DIVERSITY_SIZE), Image.BOX), dtype=np.float32) / 255.0
        for im in images]).reshape(len(images), -1)
    total, n = 0.0, len(small)
    for i in range(n - 1):             # row by row: memory stays O(n * pixels)
        total += float(np.abs(small[i + 1:] - small[i]).mean(axis=1).sum())
    return total / (n * (n - 1) / 2)


def judge_emotion(images: np.ndarray, model: object) -> np.ndarray:
    """(n, 7) probabilities of an ExpressionModel, each image being the whole face box (the
    same reading `moodshift evolve` uses, so the comparison table judges both alike)."""
    from moodshift.expression.base import whole_image_probs

    return whole_image_probs(model, images)


def score_emotion(target: str, images: np.ndarray, judge_name: str, model: object) -> TargetScore:
    probs = judge_emotion(images, model)
    idx = EMOTIONS.index(target)
    return TargetScore(target, judge_name, len(images),
                       float((probs.argmax(1) == idx).mean()), float(probs[:, idx].mean()),
                       diversity=diversity(images))


def score_vad(target: str, images: np.ndarray) -> TargetScore:
    from moodshift.mood import measure_mood

    want = np.array(EMOTION_VAD[target].as_tuple())
    got = [measure_mood(im) for im in images]
    hits = [nearest_emotion(v) == target for v in got]
    err = float(np.mean([np.abs(np.array(v.as_tuple()) - want).mean() for v in got]))
    return TargetScore(target, "mood (trained against; not independent)", len(images),
                       float(np.mean(hits)), mean_vad_error=err, diversity=diversity(images))


def evaluate(source: ImageSource, kind: str, judges: dict[str, object], method: str,
             n: int = 64, seed: int = 1234, targets: tuple[str, ...] = EMOTIONS,
             progress: bool = True, log: Callable[[str], None] = print
             ) -> tuple[AffectReport, dict[str, np.ndarray]]:
    """Score ``n`` samples per target; returns the report and the samples by target.

    ``judges`` maps a display name to an ExpressionModel (emotion kind; ignored for vad)."""
    report = AffectReport(method, kind)
    samples: dict[str, np.ndarray] = {}
    it = targets
    if progress:
        from tqdm import tqdm

        it = tqdm(targets, desc="judging", unit="target", leave=False)
    for i, target in enumerate(it):
        images = source.generate(target, n, seed + i)
        samples[target] = images
        if kind == "vad":
            report.scores.append(score_vad(target, images))
            continue
        for name, model in judges.items():
            report.scores.append(score_emotion(target, images, name, model))
    if kind == "vad":
        report.notes.append("VAD judge = moodshift.mood (the model trained against): no "
                            "independent image-VAD model exists in moodshift; agreement = "
                            "measured VAD nearest to the target emotion's coordinates.")
    report.notes.append(f"diversity = mean pairwise L1 of grey {DIVERSITY_SIZE}x"
                        f"{DIVERSITY_SIZE} images (0..1); {n} samples per target, seed {seed}.")
    return report, samples


def load_judges(names: list[str], log: Callable[[str], None] = print) -> dict[str, object]:
    """Expression models by name; one that cannot be loaded is left out with a message."""
    from moodshift.errors import UserError
    from moodshift.expression.load import load_expression_model

    judges: dict[str, object] = {}
    for name in names:
        try:
            judges[name] = load_expression_model(name)
        except UserError as exc:
            log(f"judge {name} unavailable, left out of the report: {exc}")
    return judges


def sample_grid(samples: dict[str, np.ndarray], path: Path, columns: int = 8,
                scale: int = 2) -> None:
    """One row per target (label on the left), ``columns`` samples each, written atomically."""
    from moodshift.imageio import save_image
    from moodshift.sheets import image_grid

    cols = min(columns, min(len(v) for v in samples.values()))
    tile = next(iter(samples.values())).shape[1] * scale
    canvas = image_grid([list(images[:cols]) for images in samples.values()], tile,
                        row_labels=list(samples), nearest=True)
    save_image(np.asarray(canvas), path)
