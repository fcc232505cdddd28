"""What a training run leaves next to its weights: confusion matrix, curves and model card."""

from __future__ import annotations

import datetime as _dt
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from moodshift.emotions import EMOTIONS
from moodshift.expression import nets
from moodshift.sheets import save_figure
from moodshift.training.card import card_commands

if TYPE_CHECKING:
    from moodshift.expression.training.config import TrainConfig
    from moodshift.expression.training.datasets import DataSplits


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, k: int = len(EMOTIONS)) -> np.ndarray:
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (labels, preds), 1)
    return cm


def plot_curves(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(ep, [h["train_acc"] for h in history], label="train (augmented)")
    a1.plot(ep, [h["val_acc"] for h in history], label="val")
    a1.set_xlabel("epoch"), a1.set_ylabel("accuracy"), a1.legend(), a1.grid(alpha=0.3)
    a2.plot(ep, [h["train_loss"] for h in history], label="train (smoothed labels)")
    a2.plot(ep, [h["val_loss"] for h in history], label="val")
    a2.set_xlabel("epoch"), a2.set_ylabel("cross-entropy"), a2.legend(), a2.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_confusion(cm: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{rows[i, j]:.2f}\n({cm[i, j]})", ha="center", va="center",
                    fontsize=7, color="white" if rows[i, j] > 0.5 else "black")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def write_model_card(out: Path, arch: str, options: dict[str, object], recipe: dict[str, object],
                     config: dict[str, object], history: list[dict[str, float]],
                     metrics: dict[str, object], splits: DataSplits, cfg: TrainConfig,
                     use_bf16: bool, sha256: str, size: int) -> None:
    from moodshift.expression.training.config import ROTATE_DEGREES, ROTATE_TARGET
    from moodshift.imageio import atomic_write_text

    n_params = sum(int(np.prod(v.shape)) for v in nets.build(arch, **options).state_dict().values()
                   if v.dtype.is_floating_point)
    epoch_s = [h["seconds"] for h in history]
    lines = [
        f"# Model card: moodshift expression classifier `{arch}`", "",
        f"- Date: {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Weights: `{arch}.safetensors` ({size:,} bytes), sha256 `{sha256}`",
        f"- Config: `{arch}.json` ({json.dumps(config['options'])}); {n_params:,} parameters",
        f"- Classes (output order): {', '.join(EMOTIONS)}",
        f"- Input: grey face crop framed like FER2013, stored at {config['store_size']} px, "
        f"network sees {config['img_size']} px ({config['crop_fraction']:.4f} central crop); "
        f"x/255, then (x - {config['mean']}) / {config['std']}",
        "- Test time: central crop and its mirror image, softmax averaged", "",
        "## Data", "",
        f"- Train: {len(splits.train)} images from `{splits.train.source}`; "
        f"class counts {json.dumps(splits.train.class_counts())}",
        f"- Validation: {len(splits.val)} images from `{splits.val.source}`",
        f"- Split: {splits.description}",
        "- No model selection on the validation set: the weights are the last epoch's.", "",
        "## Recipe", "",
        f"- {recipe['epochs']} epochs, batch {recipe['batch']}, optimizer {recipe['optimizer']}"
        f"{' (Nesterov momentum 0.9)' if recipe['optimizer'] == 'sgd' else ''}, "
        f"lr {recipe['lr']} ({recipe['schedule']}"
        f"{', %s warm-up epochs' % recipe['warmup_epochs'] if recipe['warmup_epochs'] else ''}), "
        f"weight decay {recipe['weight_decay']} (not on norms/biases), "
        f"label smoothing {recipe['label_smoothing']}, class balance `{recipe['balance']}`",
        *(["- Schedule across resumed runs: each run's learning rate follows the cosine of its own "
           "--epochs (warm-up, then cosine to 0); resuming with a larger --epochs therefore "
           "restarts at that cosine's value at the resumed epoch (a warm restart); the lr column "
           "below shows the learning rate at the end of each epoch"] if cfg.commands else []),
        *([f"- Started from the weights of `{recipe['init']}` (fresh optimiser and schedule)"]
          if recipe.get("init") else []),
        *([_distill_line(recipe["distill"])] if recipe.get("distill") else []),
        f"- Augmentation `{recipe['augment']}`: " + {
            "strong": "random rotation ±15°, scale ±10 %, shift ±4 % (one affine warp, border "
                      "padding), horizontal mirror, brightness ±0.1 / contrast ±25 %, random "
                      "erasing (p 0.5, 2-20 % of the area)",
            "light": "rotation ±10°, scale ±5 %, shift ±2.5 %, mirror",
            "none": "none" + (f" (rotation balancing: extra copies rotated within "
                              f"±{ROTATE_DEGREES:.0f}° up to {ROTATE_TARGET} per class)"
                              if recipe["balance"] == "rotate" else ""),
        }[str(recipe["augment"])],
        f"- Precision: {'bf16 autocast (CPU AMX)' if use_bf16 else 'fp32'}; seed {cfg.seed}; "
        f"torch {torch.__version__}; {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads",
        ("- Batch-norm statistics recomputed after training over the clean central crops "
         "(and mirrors) of the training images" if recipe.get("bn_recalibrate") else
         "- Batch-norm statistics as left by training"),
        f"- Epochs completed: {len(history)}"
        + (f"; mean {np.mean(epoch_s):.0f} s per epoch" if epoch_s else "")
        + (" (interrupted)" if metrics["interrupted"] else ""), "",
        "## Reproduce", "",
        ("Run these in order (the later ones resume the earlier's checkpoint):"
         if cfg.commands else "Run:"), "",
        "```", *card_commands(cfg.commands, cfg.command), "```",
        "",
        "## Metrics (validation split)", "",
        f"- Accuracy {metrics['accuracy']:.4f}, macro recall {metrics['macro_recall']:.4f} "
        f"(n = {metrics['n']})", "",
        "| class | recall |", "| --- | --- |",
    ]
    for e, r in metrics["per_class_recall"].items():  # type: ignore[union-attr]
        lines.append(f"| {e} | {'-' if r is None else f'{r:.3f}'} |")
    lines += ["", "Curves: `curves.png`; confusion matrix: `confusion.png`. Per-epoch validation "
              "figures below are before the final batch-norm recalibration.", "",
              "| epoch | lr | train loss | train acc | val loss | val acc |",
              "| --- | --- | --- | --- | --- | --- |"]
    for h in history:
        lines.append(f"| {h['epoch']} | {h.get('lr', 0):.5f} | {h['train_loss']:.4f} | "
                     f"{h['train_acc']:.4f} | {h['val_loss']:.4f} | {h['val_acc']:.4f} |")
    atomic_write_text(out / "MODEL_CARD.md", "\n".join(lines) + "\n")


def _distill_line(distill: dict[str, object]) -> str:
    teachers = distill["teachers"]
    names = ", ".join(f"`{t['path']}` (sha256 {t['sha256'][:12]}…)" for t in teachers)  # type: ignore
    return (f"- Distilled from {len(teachers)} teacher(s): {names}; loss = "  # type: ignore
            f"{1 - float(distill['weight']):g} x cross-entropy + {float(distill['weight']):g} x "
            f"T² KL(teachers || student) at temperature T = {float(distill['temperature']):g} "
            "(teachers' softened probabilities averaged)")
