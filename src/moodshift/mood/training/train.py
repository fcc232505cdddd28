"""``moodshift train mood``: fit the human-rated mood model's heads and report how well they
agree with people.

1. Read every ``--data`` folder (moodshift.mood.ratings) and extract (or read from the cache)
   each image's backbone features for every view plus its colour statistics.
2. Grouped k-fold cross-validation (an image and its copies stay in one fold) chooses the view
   set, the head (linear ridge, or RBF kernel ridge on principal components) and its penalty
   (and kernel width) for valence/arousal, then the L2 penalty of the emotion head. Views cost
   inference time, so only sets of at most ``max_views`` views compete, and more views must
   earn ``view_gain`` in mean r.
3. With two or more data sets: cross-data-set figures (fit on one set, test on another).
4. The heads are refitted on all images with the chosen settings and written to ``--out`` with
   a model card, ``metrics.json`` and plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from moodshift.errors import UserError
from moodshift.mood.features import ALL_VIEWS, BACKBONE, BACKBONES, COLOUR_NAMES, TRAIN_BACKBONE
from moodshift.mood.ratings import RatedImages, read_rated_folder
from moodshift.mood.training.cv import (
    cv_emotions,
    cv_kernel,
    cv_kernel_shares,
    cv_ridge,
    emotion_summary,
    grouped_folds,
    summarise,
)
from moodshift.mood.training.heads import (
    Calibration,
    Standardiser,
    fit_softmax_kl,
    kernel_ridge_fit,
    pca_basis,
    rbf_kernel,
    ridge_fit,
)

VIEW_SETS: tuple[tuple[str, ...], ...] = (
    ("whole",), ("centre",), ("whole", "whole-flip"), ("centre", "centre-flip"),
    ("whole", "centre"), ("whole", "whole-flip", "centre", "centre-flip"), ALL_VIEWS,
)
ALPHAS = tuple(float(a) for a in np.logspace(2, 5.5, 15))
KL_L2S = (0.03, 0.1, 0.3, 1.0)
GAMMAS = (0.5, 1.0, 1.5)
KERNEL_ALPHAS = (0.1, 0.3, 1.0, 3.0)
COMPONENTS = 128
EMOTION_MIXES = (0.25, 0.5, 0.75)     # weight of the kernel-regressed shares; 0 always competes
SHARE_ALPHAS = (0.3, 1.0)


@dataclass(frozen=True)
class MoodTrainConfig:
    data: tuple[Path, ...]
    out: Path
    name: str = "mood"
    folds: int = 10
    seed: int = 0
    max_views: int = 1
    view_gain: float = 0.005
    alphas: tuple[float, ...] = ALPHAS
    kl_l2s: tuple[float, ...] = KL_L2S
    kl_iterations: int = 150
    gammas: tuple[float, ...] = GAMMAS          # RBF kernel head candidates; () = linear only
    kernel_alphas: tuple[float, ...] = KERNEL_ALPHAS
    components: int = COMPONENTS
    emotion_mixes: tuple[float, ...] = EMOTION_MIXES
    share_alphas: tuple[float, ...] = SHARE_ALPHAS
    cache: Path | None = None
    view_sets: tuple[tuple[str, ...], ...] = VIEW_SETS   # candidates (within max_views)
    backbone: str = TRAIN_BACKBONE
    command: str = ""

    def __post_init__(self) -> None:
        if not self.data:
            raise UserError("train mood: give at least one --data folder")
        if self.folds < 2:
            raise UserError(f"--folds {self.folds}: need at least 2")
        if self.backbone not in BACKBONES:
            raise UserError(f"--backbone {self.backbone!r}: use one of {', '.join(BACKBONES)}")
        if self.max_views < 1:
            raise UserError(f"--max-views {self.max_views}: need at least 1")
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise UserError(f"--name {self.name!r}: use a plain file name")
        for views in self.view_sets:
            unknown = [v for v in views if v not in ALL_VIEWS]
            if unknown:
                raise UserError(f"unknown view {unknown[0]!r}; known: {', '.join(ALL_VIEWS)}")
        if len(set(p.resolve() for p in self.data)) != len(self.data):
            raise UserError("train mood: the same --data folder is given twice")


@dataclass
class Dataset:
    """Every rated image of the run as arrays (rows in --data order)."""

    views: np.ndarray        # (n, len(view_names), d_backbone)
    view_names: list[str]
    colour: np.ndarray       # (n, len(COLOUR_NAMES))
    va: np.ndarray           # (n, 2) valence, arousal in [-1, 1]
    sets: np.ndarray         # (n,) layout name per row ("oasis", "emotion6")
    groups: list[str]
    emotions: np.ndarray     # (n, 7), NaN rows where the set has no shares
    names: list[str]         # image file names

    def x(self, views: tuple[str, ...]) -> np.ndarray:
        idx = [self.view_names.index(v) for v in views]
        return np.concatenate([self.views[:, idx].mean(axis=1), self.colour], axis=1)

    @property
    def has_emotions(self) -> np.ndarray:
        return ~np.isnan(self.emotions[:, 0])


@dataclass
class MoodTrainResult:
    config: MoodTrainConfig
    metrics: dict[str, Any]
    weights: Path
    sha256: str
    seconds: float
    files: list[Path] = field(default_factory=list)


def candidate_views(cfg: MoodTrainConfig) -> list[tuple[str, ...]]:
    found = [v for v in cfg.view_sets if len(v) <= cfg.max_views]
    if not found:
        raise UserError(f"--max-views {cfg.max_views}: no candidate view set is that small")
    return found


def load_dataset(folders: tuple[Path, ...], cache: Path | None, views: list[str],
                 progress: Callable[[str], None], extractor: Any = None,
                 digest: str | None = None, backbone: str = BACKBONE) -> Dataset:
    from moodshift.mood.training.feature_cache import extract_all

    rated: list[RatedImages] = [read_rated_folder(f) for f in folders]
    layouts = [r.layout.name for r in rated]
    if len(set(layouts)) != len(layouts):
        raise UserError("train mood: two --data folders share a rating layout "
                        f"({', '.join(layouts)}); merge them into one ratings.csv")
    deep, colour, va, sets, groups, emo, names = [], [], [], [], [], [], []
    for r in rated:
        started = time.perf_counter()

        def tick(i: int, n: int, r: RatedImages = r, started: float = started) -> None:
            if i % 100 == 0 or i == n:
                progress(f"features {r.name}: {i}/{n} ({time.perf_counter() - started:.0f} s)")

        feats = extract_all(r.paths, views, cache, extractor, progress=tick, digest=digest,
                            backbone=backbone)
        deep.append(np.stack([f.stack(views) for f in feats]))
        colour.append(np.stack([f.colour for f in feats]))
        va.append(np.stack([r.valence, r.arousal], axis=1))
        sets += [r.layout.name] * len(r)
        groups += r.groups()
        emo.append(r.emotions if r.emotions is not None else np.full((len(r), 7), np.nan))
        names += [p.name for p in r.paths]
    return Dataset(np.concatenate(deep), list(views), np.concatenate(colour), np.concatenate(va),
                   np.array(sets), groups, np.concatenate(emo), names)


def _score(summary: dict[str, dict]) -> float:
    """Model selection score: mean Pearson r over data sets and both axes."""
    rs = [s[a]["pearson_r"] for s in summary.values() for a in ("valence", "arousal")]
    return float(np.mean(rs))


def select_ridge(ds: Dataset, folds: np.ndarray, cfg: MoodTrainConfig,
                 progress: Callable[[str], None]) -> dict[str, Any]:
    """CV over view sets x penalties (fewer views first); returns the best and the table."""
    alphas = np.asarray(cfg.alphas)
    table = []
    best: dict[str, Any] | None = None
    for views in sorted(candidate_views(cfg), key=len):
        preds = cv_ridge(ds.x(views), ds.va, ds.sets, folds, alphas)
        scores = [_score(summarise(p, ds.va, ds.sets)) for p in preds]
        i = int(np.argmax(scores))
        row = {"views": list(views), "alpha": float(alphas[i]), "score": round(scores[i], 4),
               "cv": summarise(preds[i], ds.va, ds.sets)}
        table.append(row)
        progress(f"cv views={'+'.join(views)}: alpha {alphas[i]:.3g}, mean r {scores[i]:.3f}")
        # Views cost inference time: more views must earn at least cfg.view_gain in mean r.
        margin = cfg.view_gain if best is not None and len(views) > len(best["views"]) else 0.0
        if best is None or scores[i] > best["score"] + margin:
            best = {**row, "oof": preds[i]}
    assert best is not None
    return {"best": best, "table": table}


@dataclass(frozen=True)
class HeadChoice:
    """The valence/arousal head chosen by cross-validation."""

    kind: str               # linear | rbf
    views: tuple[str, ...]
    alpha: float
    gamma: float | None = None
    components: int | None = None


def select_kernel(ds: Dataset, folds: np.ndarray, views: tuple[str, ...], cfg: MoodTrainConfig,
                  progress: Callable[[str], None]) -> dict[str, Any]:
    """CV of the RBF kernel head on the chosen views over gammas x penalties."""
    k = min(cfg.components, len(ds.va) - len(ds.va) // cfg.folds - 1)
    alphas = np.asarray(cfg.kernel_alphas)
    preds = cv_kernel(ds.x(views), ds.va, ds.sets, folds, k, list(cfg.gammas), alphas)
    best: dict[str, Any] | None = None
    table = []
    for g, gamma in enumerate(cfg.gammas):
        for a, alpha in enumerate(alphas):
            summary = summarise(preds[g, a], ds.va, ds.sets)
            score = _score(summary)
            table.append({"views": list(views), "gamma": gamma, "alpha": float(alpha),
                          "score": round(score, 4)})
            if best is None or score > best["score"]:
                best = {"gamma": gamma, "alpha": float(alpha), "components": k,
                        "score": round(score, 4), "cv": summary, "oof": preds[g, a]}
    assert best is not None
    progress(f"cv rbf kernel on {'+'.join(views)} ({k} components): gamma {best['gamma']:g}, "
             f"alpha {best['alpha']:g}, mean r {best['score']:.3f}")
    return {"best": best, "table": table}


def select_kernel_views(ds: Dataset, folds: np.ndarray, cfg: MoodTrainConfig,
                        progress: Callable[[str], None]) -> dict[str, Any]:
    """The RBF kernel head on every candidate view set (fewer views first; as for the linear
    head, more views must earn cfg.view_gain): the best set's result and the whole table."""
    best: dict[str, Any] | None = None
    table: list[dict[str, Any]] = []
    for views in sorted(candidate_views(cfg), key=len):
        found = select_kernel(ds, folds, views, cfg, progress)
        table += found["table"]
        margin = (cfg.view_gain if best is not None and len(views) > len(best["views"])
                  else 0.0)
        if best is None or found["best"]["score"] > best["score"] + margin:
            best = {**found["best"], "views": views}
    assert best is not None
    return {"best": best, "table": table}


def fit_va(x_train: np.ndarray, va: np.ndarray, sets: np.ndarray, choice: HeadChoice
           ) -> dict[str, Any]:
    """Fit the valence/arousal head on rows x_train; returns the Heads fields and config."""
    std = Standardiser.fit(x_train)
    a = std(x_train)
    cals = [Calibration.fit(va[:, i], sets) for i in range(2)]
    z = np.stack([c.to_z(va[:, i], sets) for i, c in enumerate(cals)], axis=1)
    fields: dict[str, Any] = {"feature_mean": std.mean, "feature_scale": std.scale}
    config: dict[str, Any] = {"views": list(choice.views), "va_head": choice.kind,
                              "calibration": {"valence": cals[0].to_json(),
                                              "arousal": cals[1].to_json()}}
    if choice.kind == "linear":
        w, b = ridge_fit(a, z, choice.alpha)
        fields.update(va_weight=w, va_bias=b)
    else:
        assert choice.gamma is not None and choice.components is not None
        basis, scale = pca_basis(a, choice.components)
        support = a @ basis / scale
        dual, b = kernel_ridge_fit(rbf_kernel(support, support, choice.gamma), z, choice.alpha)
        fields.update(basis=basis, support=support, dual=dual, va_bias=b)
        config.update(gamma=choice.gamma, basis_scale=scale, components=choice.components)
    return {"fields": fields, "config": config}


def cross_dataset(ds: Dataset, choice: HeadChoice) -> list[dict[str, Any]]:
    """Fit on each set alone, test on each other set (r is unaffected by the scale map)."""
    from moodshift.mood.rated import Heads

    x = ds.x(choice.views)
    out = []
    names = sorted(set(ds.sets.tolist()))
    for train in names:
        for test in names:
            if train == test:
                continue
            tr, te = ds.sets == train, ds.sets == test
            fit = fit_va(x[tr], ds.va[tr], ds.sets[tr], choice)
            heads = Heads(config=fit["config"], **fit["fields"])
            v, a, _ = heads.predict(x[te], dataset=train)
            s = summarise(np.stack([v, a], axis=1), ds.va[te], ds.sets[te])[test]
            out.append({"train": train, "test": test, **s})
    return out


def select_emotion_mix(ds: Dataset, folds: np.ndarray, choice: HeadChoice,
                       softmax_oof: np.ndarray, cfg: MoodTrainConfig,
                       progress: Callable[[str], None]) -> dict[str, Any]:
    """CV of mixing the softmax head's distribution with kernel-regressed shares (on the
    valence/arousal head's kernel): the weight and ridge penalty with the lowest mean KL
    (weight 0, the softmax alone, competes)."""
    m = ds.has_emotions
    best = {"mix": 0.0, "share_alpha": None, "oof": softmax_oof,
            "kl": emotion_summary(softmax_oof, ds.emotions[m])["mean_kl"]}
    table = [{"mix": 0.0, "share_alpha": None, "mean_kl": round(best["kl"], 4),
              "top1": round(emotion_summary(softmax_oof, ds.emotions[m])["top1"], 4)}]
    if choice.kind != "rbf" or not cfg.emotion_mixes:
        return {"best": best, "table": table}
    assert choice.gamma is not None and choice.components is not None
    shares = cv_kernel_shares(ds.x(choice.views), ds.emotions, m, folds, choice.components,
                              choice.gamma, list(cfg.share_alphas))
    for alpha, q in shares.items():
        for mix in cfg.emotion_mixes:
            oof = (1.0 - mix) * softmax_oof + mix * q
            s = emotion_summary(oof, ds.emotions[m])
            table.append({"mix": mix, "share_alpha": alpha, "mean_kl": round(s["mean_kl"], 4),
                          "top1": round(s["top1"], 4)})
            if s["mean_kl"] < best["kl"]:
                best = {"mix": mix, "share_alpha": alpha, "oof": oof, "kl": s["mean_kl"]}
    progress(f"cv emotion mix: weight {best['mix']:g} of kernel shares (alpha "
             f"{best['share_alpha']}), mean KL {best['kl']:.3f}")
    return {"best": best, "table": table}


def fit_final(ds: Dataset, choice: HeadChoice, kl_l2: float | None,
              kl_iterations: int, mix: float = 0.0, share_alpha: float | None = None
              ) -> tuple[Any, list[float]]:
    from moodshift.mood.rated import Heads

    x = ds.x(choice.views)
    fit = fit_va(x, ds.va, ds.sets, choice)
    fields = fit["fields"]
    losses: list[float] = []
    if kl_l2 is not None:
        m = ds.has_emotions
        std = Standardiser(fields["feature_mean"], fields["feature_scale"])
        ew, eb, losses = fit_softmax_kl(std(x[m]), ds.emotions[m], kl_l2, max_iter=kl_iterations)
        fields.update(emotion_weight=ew, emotion_bias=eb)
        if mix > 0 and share_alpha is not None and choice.gamma is not None:
            support = fields["support"][m]
            dual, bias = kernel_ridge_fit(rbf_kernel(support, support, choice.gamma),
                                          ds.emotions[m], share_alpha)
            full = np.zeros((len(x), dual.shape[1]))
            full[m] = dual              # rows without shares take no part in this regression
            fields.update(emotion_dual=full, emotion_share_bias=bias)
            fit["config"].update(emotion_mix=mix, share_alpha=share_alpha)
    return Heads(config=fit["config"], **fields), losses


def fit_summary(heads: Any, ds: Dataset, kl_losses: list[float]) -> dict[str, float]:
    """In-sample losses of the final heads beside their trivial baselines: the mean squared
    error of the per-set z-scored valence/arousal (a constant predicts 1.0) and the KL loss at
    the start (the raters' average shares) and end of L-BFGS."""
    x = ds.x(tuple(heads.config["views"]))
    z = heads.va_z(x)
    cal = heads.config["calibration"]
    target = np.stack([[(ds.va[j, i] - cal[a]["mean"][s]) / cal[a]["sd"][s]
                        for i, a in enumerate(("valence", "arousal"))]
                       for j, s in enumerate(ds.sets)])
    out = {"va_mse_z": round(float(np.mean((z - target) ** 2)), 5), "va_baseline_mse_z": 1.0}
    if kl_losses:
        out.update(kl_start=round(kl_losses[0], 5), kl_end=round(kl_losses[-1], 5))
    return out


def train_mood(cfg: MoodTrainConfig, progress: Callable[[str], None] = print,
               extractor: Any = None, backbone_sha256: str | None = None) -> MoodTrainResult:
    """Run the whole recipe (module doc). ``extractor``/``backbone_sha256``: another backbone
    than the cached ``cfg.backbone`` (the tests use one with generated weights)."""
    from moodshift.imageio import check_writable_dir
    from moodshift.mood.rated import save_heads
    from moodshift.mood.training.feature_cache import FEATURE_VERSION, backbone_digest
    from moodshift.mood.training.report import write_report

    started = time.perf_counter()
    check_writable_dir(cfg.out)
    backbone = extractor.backbone if extractor is not None else cfg.backbone
    digest = backbone_sha256 or backbone_digest(backbone)
    wanted = sorted({v for vs in candidate_views(cfg) for v in vs}, key=ALL_VIEWS.index)
    ds = load_dataset(cfg.data, cfg.cache, wanted, progress, extractor, digest, backbone)
    folds = grouped_folds(ds.groups, ds.sets, cfg.folds, cfg.seed)
    selection = select_ridge(ds, folds, cfg, progress)
    best = selection["best"]
    views = tuple(best["views"])
    choice = HeadChoice("linear", views, best["alpha"])
    kernel = None
    if cfg.gammas:
        kernel = select_kernel_views(ds, folds, cfg, progress)
        if kernel["best"]["score"] > best["score"]:
            kb = kernel["best"]
            views = tuple(kb["views"])
            best = {**best, "views": list(views), "cv": kb["cv"], "oof": kb["oof"],
                    "score": kb["score"]}
            choice = HeadChoice("rbf", views, kb["alpha"], kb["gamma"], kb["components"])
    progress(f"valence/arousal head: {choice.kind}, views {'+'.join(views)}")

    kl_l2 = None
    mix, share_alpha = 0.0, None
    emo_cv: dict[str, Any] | None = None
    emo_oof = None
    m = ds.has_emotions
    if m.any():
        oof = cv_emotions(ds.x(views)[m], ds.emotions[m], folds[m], list(cfg.kl_l2s),
                          cfg.kl_iterations)
        kls = {l2: emotion_summary(p, ds.emotions[m])["mean_kl"] for l2, p in oof.items()}
        kl_l2 = min(kls, key=lambda k: kls[k])
        emo_oof = oof[kl_l2]
        emo_cv = {"l2": kl_l2, "kl_by_l2": {str(k): v for k, v in kls.items()},
                  **emotion_summary(emo_oof, ds.emotions[m])}
        progress(f"cv emotions: l2 {kl_l2:g}, mean KL {emo_cv['mean_kl']:.3f}, "
                 f"top-1 {emo_cv['top1']:.3f}")
        mixed = select_emotion_mix(ds, folds, choice, emo_oof, cfg, progress)
        mix, share_alpha = mixed["best"]["mix"], mixed["best"]["share_alpha"]
        emo_oof = mixed["best"]["oof"]
        emo_cv = {**emo_cv, "softmax_only": {k: emo_cv[k] for k in ("mean_kl", "top1")},
                  "mix": mix, "share_alpha": share_alpha, "mix_table": mixed["table"],
                  **emotion_summary(emo_oof, ds.emotions[m])}
        if mix > 0:
            progress(f"cv emotions with the mix: mean KL {emo_cv['mean_kl']:.3f}, "
                     f"top-1 {emo_cv['top1']:.3f}")
    crossed = cross_dataset(ds, choice) if len(set(ds.sets.tolist())) > 1 else []

    heads, kl_losses = fit_final(ds, choice, kl_l2, cfg.kl_iterations, mix, share_alpha)
    heads.config.update({
        "name": cfg.name, "backbone": backbone, "backbone_sha256": digest,
        "feature_version": FEATURE_VERSION, "colour_features": list(COLOUR_NAMES),
        "datasets": {s: int((ds.sets == s).sum()) for s in sorted(set(ds.sets.tolist()))},
        "alpha": choice.alpha, "kl_l2": kl_l2, "folds": cfg.folds, "seed": cfg.seed,
        "command": cfg.command,
    })
    metrics = {"train_fit": fit_summary(heads, ds, kl_losses), "cv": best["cv"],
               "cv_emotions": emo_cv, "cross_dataset": crossed, "head": choice.kind,
               "selection": selection["table"],
               "kernel_selection": kernel["table"] if kernel else [],
               "views": list(views), "alpha": choice.alpha, "gamma": choice.gamma,
               "kl_l2": kl_l2, "kl_train_loss": [round(v, 5) for v in kl_losses]}
    heads.config["metrics"] = {"cv": best["cv"], "cv_emotions": emo_cv,
                               "cross_dataset": crossed}
    weights, digest = save_heads(heads, cfg.out, cfg.name)
    files = write_report(cfg, ds, metrics, best["oof"], emo_oof, weights, digest)
    return MoodTrainResult(cfg, metrics, weights, digest, time.perf_counter() - started,
                           [weights, weights.with_suffix(".json"), *files])
