"""The model card, ``metrics.json`` and plots of a ``moodshift train mood`` run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.imageio import atomic_write_text
from moodshift.sheets import save_figure

CALIBRATION_BINS = 8
SOURCES = {
    "oasis": "OASIS (Kurdi, Lozano & Banaji 2017), valence/arousal means on 1-7",
    "emotion6": "Emotion6 (Peng, Sadovnik, Gallagher & Chen, CVPR 2015), valence/arousal on 1-9 "
                "and the raters' shares of seven emotions",
}


def _save(fig: Any, path: Path) -> Path:
    save_figure(fig, path, dpi=90)
    return path


def scatter_plot(va_pred: np.ndarray, va: np.ndarray, sets: np.ndarray, path: Path) -> Path:
    """Cross-validated prediction vs human mean, one panel per data set and axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from moodshift.mood.metrics import pearson

    names = sorted(set(sets.tolist()))
    fig, axes = plt.subplots(len(names), 2, figsize=(8, 3.8 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        m = sets == name
        for col, axis in enumerate(("valence", "arousal")):
            ax = axes[row, col]
            ax.scatter(va[m, col], va_pred[m, col], s=6, alpha=0.5)
            ax.plot([-1, 1], [-1, 1], "--", color="grey", lw=1)
            ax.set_xlim(-1.05, 1.05)
            ax.set_ylim(-1.05, 1.05)
            r = pearson(va_pred[m, col], va[m, col])
            ax.set_title(f"{name} {axis}: r = {r:.2f} (n={int(m.sum())})")
            ax.set_xlabel("human mean (scale mapped to [-1, 1])")
            ax.set_ylabel("model, cross-validated")
    fig.tight_layout()
    return _save(fig, path)


def calibration_plot(pred: np.ndarray, human: np.ndarray, path: Path) -> Path:
    """Per emotion: mean rated share vs mean predicted share in bins of the prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(13, 6.5))
    for i, emotion in enumerate(EMOTIONS):
        ax = axes.flat[i]
        edges = np.quantile(pred[:, i], np.linspace(0, 1, CALIBRATION_BINS + 1))
        idx = np.clip(np.searchsorted(edges, pred[:, i], side="right") - 1, 0,
                      CALIBRATION_BINS - 1)
        xs = [pred[idx == b, i].mean() for b in range(CALIBRATION_BINS) if (idx == b).any()]
        ys = [human[idx == b, i].mean() for b in range(CALIBRATION_BINS) if (idx == b).any()]
        top = max(max(xs + ys), 0.05) * 1.1
        ax.plot([0, top], [0, top], "--", color="grey", lw=1)
        ax.plot(xs, ys, "o-")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_title(emotion)
        ax.set_xlabel("predicted share")
        ax.set_ylabel("rated share")
    axes.flat[-1].axis("off")
    fig.suptitle("emotion calibration (cross-validated, equal-count bins)")
    fig.tight_layout()
    return _save(fig, path)


def _axis_rows(summary: dict[str, dict]) -> list[str]:
    rows = []
    for name, s in summary.items():
        v, a = s["valence"], s["arousal"]
        rows.append(f"| {name} | {s['n']} | {v['pearson_r']:.3f} | {v['spearman_r']:.3f} | "
                    f"{v['mae']:.3f} | {a['pearson_r']:.3f} | {a['spearman_r']:.3f} | "
                    f"{a['mae']:.3f} |")
    return rows


AXIS_HEADER = ["| data | n | valence r | valence rho | valence MAE | arousal r | arousal rho | "
               "arousal MAE |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]


def model_card(cfg: Any, metrics: dict[str, Any], config: dict[str, Any], digest: str,
               plots: list[Path]) -> str:
    lines = [f"# moodshift mood model `{cfg.name}`", "",
             "Whole-image valence and arousal (and, when trained on Emotion6, the distribution of "
             "seven emotions raters name) predicted from frozen ImageNet EfficientNet-Lite "
             "features plus colour statistics. Dominance is not learnt (no human dominance "
             "ratings were available): the model reports the colour-affect dominance.", "",
             "## Data", ""]
    for name, n in config["datasets"].items():
        lines.append(f"- `{name}`: {n} images; {SOURCES.get(name, 'ratings.csv')}. "
                     "Research-use data, not shipped.")
    lines += ["", "## Command", "", "```", cfg.command or "moodshift train mood ...", "```", "",
              "## Model", "",
              f"- Backbone: `{config['backbone']}` (sha256 `{config['backbone_sha256'][:16]}…`), "
              f"views averaged: {', '.join(config['views'])}; features: spatial means of "
              "stages 3-7 and the head, spatial SDs of stages 3-7, and the colour model's "
              f"VAD and statistics ({len(config['colour_features'])} values).",
              (f"- Valence/arousal: ridge regression (alpha {config['alpha']:.4g}) on "
               "standardised features" if config.get("va_head") == "linear" else
               f"- Valence/arousal: RBF kernel ridge (gamma {config.get('gamma')}, alpha "
               f"{config['alpha']:.4g}) on the top {config.get('components')} principal "
               "components of the standardised features (the training images' projections are "
               "stored as support rows)") +
              "; targets z-scored per data set, each set's mean and SD map the shared axis "
              "back to its scale (new images: the average map).",
              (f"- Emotions: softmax regression, KL to the raters' shares, L2 {config['kl_l2']}"
               + (f"; its distribution mixed (weight {config['emotion_mix']:g}) with kernel "
                  f"ridge regression of the shares (alpha {config['share_alpha']:g}) on the "
                  "valence/arousal kernel, clipped at 0.001 and renormalised."
                  if config.get("emotion_mix") else ".")
               if config.get("kl_l2") is not None else "- Emotions: none (no shares in the data)."),
              f"- Weights: `{config['weights']}`, sha256 `{digest}`.", "",
              f"## Cross-validated agreement ({cfg.folds}-fold, grouped by image content)", "",
              "Out-of-fold predictions; the view set and penalties were chosen on these same "
              "folds, so the figures may be slightly optimistic.", "",
              *AXIS_HEADER, *_axis_rows(metrics["cv"]), ""]
    emo = metrics.get("cv_emotions")
    if emo:
        lines += [f"Emotion distribution (n={emo['n']}): mean KL {emo['mean_kl']:.3f} nats, "
                  f"top-1 agreement with the raters' modal emotion {emo['top1']:.3f} "
                  f"(always the most common: {emo['majority_top1']:.3f}).", "",
                  *([f"The softmax head alone: mean KL {emo['softmax_only']['mean_kl']:.3f}, "
                     f"top-1 {emo['softmax_only']['top1']:.3f}. Mixing it with the kernel-"
                     "regressed shares (chosen by mean KL on the same folds):", "",
                     "| kernel weight | share alpha | mean KL | top-1 |",
                     "| ---: | ---: | ---: | ---: |",
                     *[f"| {r['mix']:g} | {r['share_alpha'] if r['share_alpha'] else '-'} | "
                       f"{r['mean_kl']:.3f} | {r['top1']:.3f} |" for r in emo["mix_table"]],
                     ""] if emo.get("mix_table") and len(emo["mix_table"]) > 1 else []),
                  "| emotion | mean predicted | mean rated | r |", "| --- | ---: | ---: | ---: |"]
        for e, v in emo["per_emotion"].items():
            lines.append(f"| {e} | {v['predicted']:.3f} | {v['rated']:.3f} | "
                         f"{v['pearson_r']:.3f} |")
        lines.append("")
    if metrics.get("cross_dataset"):
        lines += ["## Cross-data-set agreement (fit on one set, test on the other)", "",
                  "| train | test | n | valence r | valence rho | arousal r | arousal rho |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for c in metrics["cross_dataset"]:
            lines.append(f"| {c['train']} | {c['test']} | {c['n']} | "
                         f"{c['valence']['pearson_r']:.3f} | {c['valence']['spearman_r']:.3f} | "
                         f"{c['arousal']['pearson_r']:.3f} | {c['arousal']['spearman_r']:.3f} |")
        lines.append("")
    lines += ["## Model selection (CV mean Pearson r over data sets and both axes)", "",
              "Linear ridge per view set; each view is one more backbone pass at inference, so "
              f"a set with more views had to beat the best smaller one by {cfg.view_gain} "
              f"(and at most {cfg.max_views} view{'s' if cfg.max_views != 1 else ''} "
              "competed).", "",
              "| views | alpha | mean r |", "| --- | ---: | ---: |"]
    for row in metrics["selection"]:
        lines.append(f"| {'+'.join(row['views'])} | {row['alpha']:.4g} | {row['score']:.3f} |")
    if metrics.get("kernel_selection"):
        lines += ["", f"RBF kernel head per view set, same margin for more views (chosen: "
                  f"{metrics['head']}, {'+'.join(metrics['views'])}):", "",
                  "| views | gamma | alpha | mean r |", "| --- | ---: | ---: | ---: |"]
        for row in metrics["kernel_selection"]:
            lines.append(f"| {'+'.join(row.get('views', metrics['views']))} | "
                         f"{row['gamma']:g} | {row['alpha']:g} | {row['score']:.3f} |")
    lines += ["", "## Plots", ""] + [f"- `{p.name}`" for p in plots]
    lines += ["", "## Limits", "",
              "- Mean ratings of two research image sets (mostly photographs of scenes, objects, "
              "animals and people); portraits, paintings or generated images are outside them.",
              "- The judge here is people; when this model tunes a palette, judge that palette "
              "with a variant trained on the other data set.", ""]
    return "\n".join(lines)


def write_report(cfg: Any, ds: Any, metrics: dict[str, Any], va_oof: np.ndarray,
                 emo_oof: np.ndarray | None, weights: Path, digest: str) -> list[Path]:
    config = json.loads(weights.with_suffix(".json").read_text())
    out = cfg.out
    plots = [scatter_plot(va_oof, ds.va, ds.sets, out / f"{cfg.name}-scatter.png")]
    if emo_oof is not None:
        plots.append(calibration_plot(emo_oof, ds.emotions[ds.has_emotions],
                                      out / f"{cfg.name}-calibration.png"))
    metrics_path = out / f"{cfg.name}-metrics.json"
    atomic_write_text(metrics_path, json.dumps(metrics, indent=1) + "\n")
    card = out / f"{cfg.name}-MODEL_CARD.md"
    atomic_write_text(card, model_card(cfg, metrics, config, digest, plots))
    return [metrics_path, card, *plots]
