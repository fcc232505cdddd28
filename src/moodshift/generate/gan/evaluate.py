"""``moodshift eval gan``: does the generator produce the asked emotion, varied, realistic faces?

* Agreement: n faces, split evenly over the seven emotions (age and gender unspecified; latent
  codes drawn with the same truncation as ``generate``'s default unless told otherwise), each
  classified by an independent expression model (the judge: default moodshift's shipped msnet,
  which the GAN never saw; ``fer`` or ``faceapi`` also work) with the whole image as the face
  box. The share read as the requested emotion, per emotion and overall; chance is 1/7. The
  judge's accuracy on the same number of real faces is reported beside it for scale.
* Feature space: msnet's 256-d global-average-pooled last convolution block on the central
  44 px of the 48 px grey face (the view the classifier itself uses).
* Diversity: the mean pairwise Euclidean distance between the features of faces generated for
  the same emotion, averaged over emotions (mode collapse drives it to 0); the same figure on
  real faces is the reference.
* FID-style distance: the Frechet distance between Gaussians fitted to the real and generated
  features (Heusel et al. 2017, computed here in msnet's feature space rather than Inception's,
  so values are comparable only with other moodshift runs, not with published FIDs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.gan.data import fer_files, read_grey
from moodshift.generate.gan.generator import ConditionalGenerator, check_truncation, upscale

DEFAULT_REAL = Path("../shared/datasets/fer2013/val")
# eval's pairwise distances grow with n squared; at least two faces per emotion: diversity is
# a mean pairwise distance within each emotion, and one face has no pair (it would read as 0)
MAX_EVAL_N = 5000
MIN_EVAL_N = 2 * len(EMOTIONS)
JUDGES = ("moodshift", "fer", "faceapi")


@dataclass(frozen=True)
class GanEvalRequest:
    """What `moodshift eval gan` measures; check() refuses bad settings before any work."""

    n: int = 700
    model: Path | None = None        # None: the shipped generator
    judge: str = "moodshift"
    real: Path | None = None         # None: ../shared/datasets/fer2013/val if present
    seed: int = 0
    truncation: float = 1.0
    plot: Path | None = None

    def check(self) -> None:
        if not MIN_EVAL_N <= self.n <= MAX_EVAL_N:
            raise UserError(f"--n {self.n}: must be between {MIN_EVAL_N} and {MAX_EVAL_N}")
        check_truncation(self.truncation)
        if self.real is not None and not self.real.is_dir():
            raise UserError(f"--real {self.real}: not a folder")
        if self.plot is not None and self.plot.suffix.lower() != ".png":
            raise UserError(f"--plot {self.plot}: the plot is a PNG; give a name ending in .png")


def run_gan_eval(request: GanEvalRequest) -> tuple[ConditionalGenerator, GanEval]:
    """Check the request, its real faces and the plot's folder (before minutes of generating),
    evaluate the generator and write the plot if asked."""
    from moodshift.generate.gan.generator import load_generator
    from moodshift.imageio import check_writable_dir

    request.check()
    if request.real is not None:
        fer_files(request.real)
    if request.plot is not None:
        check_writable_dir(request.plot.parent if str(request.plot.parent) else Path("."))
    gen = load_generator(request.model)
    real = request.real if request.real is not None else default_real_folder()
    result = evaluate_gan(gen, n=request.n, judge=request.judge, real=real, seed=request.seed,
                          truncation=request.truncation)
    if request.plot is not None:
        plot_eval(result, request.plot)
    return gen, result


@dataclass
class GanEval:
    judge: str
    n: int
    per_emotion: dict[str, float]
    overall: float
    diversity: float
    per_emotion_diversity: dict[str, float]
    real_n: int = 0
    real_agreement: float | None = None
    real_per_emotion: dict[str, float] = field(default_factory=dict)
    real_diversity: float | None = None
    fid: float | None = None
    generator: str = ""
    truncation: float = 1.0

    def to_json(self) -> dict[str, object]:
        r4 = lambda v: None if v is None else round(float(v), 4)  # noqa: E731
        return {"generator": self.generator, "judge": self.judge, "n": self.n,
                "truncation": self.truncation,
                "agreement": {k: r4(v) for k, v in self.per_emotion.items()},
                "overall": r4(self.overall), "chance": round(1 / len(EMOTIONS), 4),
                "target": 0.6, "diversity": r4(self.diversity),
                "diversity_per_emotion": {k: r4(v) for k, v in
                                          self.per_emotion_diversity.items()},
                "real_n": self.real_n, "real_agreement": r4(self.real_agreement),
                "real_agreement_per_emotion": {k: r4(v) for k, v in
                                               self.real_per_emotion.items()},
                "real_diversity": r4(self.real_diversity), "fid": r4(self.fid),
                "feature_space": "msnet pooled 256-d"}


def default_real_folder() -> Path | None:
    return DEFAULT_REAL if DEFAULT_REAL.is_dir() else None


class FeatureNet:
    """msnet's pooled features for grey uint8 faces (n, 48, 48)."""

    def __init__(self) -> None:
        from moodshift.expression.own import MoodshiftExpression

        self.expr = MoodshiftExpression.shipped(precision="fp32")

    def __call__(self, grey: np.ndarray, batch: int = 128) -> np.ndarray:
        import torch

        from moodshift.expression.augment import view_batch

        e = self.expr
        size = e.store_size
        if grey.shape[1] != size:
            grey = np.stack([np.asarray(upscale(np.repeat(g[..., None], 3, 2), size))[..., 0]
                             for g in grey])
        outs = []
        with torch.inference_mode():
            for i in range(0, len(grey), batch):
                x = view_batch(torch.from_numpy(np.ascontiguousarray(grey[i:i + batch])),
                               e.img_size, e.crop_fraction, e.channels, mean=e.mean, std=e.std)
                outs.append(e.model.pool(e.model.features(x)).flatten(1).double().numpy())
        return np.concatenate(outs)


def mean_pairwise_distance(features: np.ndarray) -> float:
    n = len(features)
    if n < 2:
        return 0.0
    sq = (features ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * features @ features.T, 0.0)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of Gaussian fits to two sets.

    Tr((S_a S_b)^(1/2)) is computed as the sum of square roots of the eigenvalues of the
    symmetric S_a^(1/2) S_b S_a^(1/2) (same eigenvalues), which stays stable when the
    covariances are singular (fewer samples than feature dimensions)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    half = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(half @ s_b @ half)
    trace_root = float(np.sqrt(np.clip(middle, 0, None)).sum())
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def _judge_reads(judge, faces_rgb: np.ndarray) -> np.ndarray:
    """The judge's top emotion index for each (S, S, 3) face, whole image as the box."""
    out = np.empty(len(faces_rgb), dtype=np.int64)
    for i, img in enumerate(faces_rgb):
        h, w = img.shape[:2]
        out[i] = int(np.argmax(judge.predict(img, [(0, 0, w, h)])[0]))
    return out


def _real_faces(folder: Path, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    files = fer_files(folder)
    picked: list[tuple[Path, int]] = []
    for e in range(len(EMOTIONS)):
        of_e = [f for f in files if f[1] == e]
        if of_e:
            take = rng.choice(len(of_e), size=min(per_class, len(of_e)), replace=False)
            picked += [of_e[i] for i in sorted(take)]
    return (np.stack([read_grey(f, 48) for f, _ in picked]),
            np.array([e for _, e in picked], dtype=np.int64))


def evaluate_gan(gen: ConditionalGenerator, n: int = 700, judge: str = "moodshift",
                 real: Path | None = None, seed: int = 0, truncation: float = 1.0,
                 show_progress: bool = True) -> GanEval:
    from tqdm import tqdm

    from moodshift.expression.load import load_expression_model

    judge_model = load_expression_model(judge)
    features = FeatureNet()
    per = n // len(EMOTIONS)
    counts = [per + (1 if i < n - per * len(EMOTIONS) else 0) for i in range(len(EMOTIONS))]
    agreement, diversity, feats, reads_all = {}, {}, [], []
    z_all = gen.sample_latent(n, seed, truncation)
    start = 0
    for e, (name, k) in enumerate(tqdm(list(zip(EMOTIONS, counts)), desc="eval gan",
                                       unit="emotion", disable=not show_progress)):
        faces = gen.generate(z_all[start:start + k], name)
        start += k
        reads = _judge_reads(judge_model, faces)
        reads_all.append(reads == e)
        agreement[name] = float((reads == e).mean())
        f = features(faces[..., 0])
        feats.append(f)
        diversity[name] = mean_pairwise_distance(f)
    result = GanEval(judge=judge, n=n, per_emotion=agreement,
                     overall=float(np.concatenate(reads_all).mean()),
                     diversity=float(np.mean(list(diversity.values()))),
                     per_emotion_diversity=diversity, generator=gen.source,
                     truncation=truncation)
    if real is not None:
        grey, labels = _real_faces(real, max(counts), seed)
        rgb = np.repeat(grey[..., None], 3, axis=3)
        reads = _judge_reads(judge_model, rgb)
        real_feats = features(grey)
        result.real_n = len(grey)
        result.real_agreement = float((reads == labels).mean())
        result.real_per_emotion = {name: float((reads[labels == e] == e).mean())
                                   for e, name in enumerate(EMOTIONS) if (labels == e).any()}
        result.real_diversity = float(np.mean([mean_pairwise_distance(real_feats[labels == e])
                                               for e in range(len(EMOTIONS))
                                               if (labels == e).any()]))
        result.fid = frechet_distance(real_feats, np.concatenate(feats))
    return result


def plot_eval(result: GanEval, path: Path) -> None:
    """Bar chart of agreement per emotion (generated vs real), with the figures in the title."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from moodshift.imageio import atomic_write_bytes

    x = np.arange(len(EMOTIONS))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(x - 0.2, [result.per_emotion[e] for e in EMOTIONS], 0.4, label="generated")
    if result.real_per_emotion:
        ax.bar(x + 0.2, [result.real_per_emotion.get(e, 0.0) for e in EMOTIONS], 0.4,
               label="real (FER val)")
    ax.axhline(1 / len(EMOTIONS), color="grey", ls=":", label="chance")
    ax.axhline(0.6, color="red", ls="--", label="target 60 %")
    ax.set_xticks(x, EMOTIONS)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"read as asked by {result.judge}")
    fid = "" if result.fid is None else f", FID-style {result.fid:.1f}"
    real_div = "" if result.real_diversity is None else f" (real {result.real_diversity:.2f})"
    ax.set_title(f"overall {result.overall:.1%} of {result.n}; diversity "
                 f"{result.diversity:.2f}{real_div}{fid}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def render_grid(gen: ConditionalGenerator, seed: int = 0, cell: int = 128,
                styler: Callable[[np.ndarray, str], np.ndarray] | None = None,
                truncation: float = 1.0) -> np.ndarray:
    """Emotions (rows) x age group x gender (columns), one latent code for every cell."""
    from moodshift.sheets import PERSON_COLUMNS, emotion_person_sheet

    z = gen.sample_latent(1, seed, truncation)

    def row(emotion: str):
        for a, g in PERSON_COLUMNS:
            face = upscale(gen.generate(z, emotion, a, g)[0], cell)
            yield face if styler is None else styler(face, emotion)

    return emotion_person_sheet((row(e) for e in EMOTIONS), cell)
