"""What a `moodshift train expression` run is: recipes, the config, the result, and the files it
writes for inference (weights and their preprocessing), apart from the loop so that the
outputs and reports read them without importing the loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.expression import nets
from moodshift.expression.augment import NORM_MEAN, NORM_STD
from moodshift.imageio import atomic_write

# Per-architecture recipes; command-line options override single fields.
RECIPES: dict[str, dict[str, object]] = {
    # moodshift's own: SGD + Nesterov, warm-up then cosine, label smoothing, strong augmentation.
    "msnet": dict(epochs=40, batch=128, lr=0.1, optimizer="sgd", weight_decay=5e-4,
                  label_smoothing=0.1, schedule="cosine", warmup_epochs=2, balance="none",
                  augment="strong", crop_fraction=44 / 48, img_size=44, bn_recalibrate=True),
    # Padalia et al. 2021 as published: Adam 1e-3, batch 16, 50 epochs, plain cross-entropy,
    # classes balanced by random rotations to ~10,000 images each, whole image at 128x128x3.
    "padalia21": dict(epochs=50, batch=16, lr=1e-3, optimizer="adam", weight_decay=0.0,
                      label_smoothing=0.0, schedule="constant", warmup_epochs=0, balance="rotate",
                      augment="none", crop_fraction=1.0, img_size=128),
    "tiny": dict(epochs=5, batch=32, lr=0.05, optimizer="sgd", weight_decay=5e-4,
                 label_smoothing=0.0, schedule="cosine", warmup_epochs=0, balance="none",
                 augment="light", crop_fraction=1.0, img_size=32, bn_recalibrate=True),
}
# What train expression's checkpoint.pt holds (read back by --resume and rebuild_outputs).
CHECKPOINT_KEYS = ("arch", "options", "recipe", "model", "optimizer", "epoch", "history",
                   "config")
ROTATE_TARGET = 10_000        # images per class after rotation balancing (Padalia et al.)
ROTATE_DEGREES = 15.0         # range of the balancing rotations (not stated in the paper)


@dataclass
class TrainConfig:
    data: str
    arch: str = "msnet"
    out: str = "runs/expression"
    epochs: int | None = None
    batch: int | None = None
    lr: float | None = None
    img_size: int | None = None
    balance: str | None = None            # rotate | weights | none
    resume: str | None = None
    width: int | None = None              # msnet width (channels of the first stage)
    seed: int = 0
    precision: str = "auto"               # auto | bf16 | fp32
    threads: int = 0                      # 0 = adaptive (1 or 2, whichever is faster now)
    max_steps: int | None = None          # stop early (tests, timing)
    init: str | None = None               # start from these weights (fresh optimiser)
    teachers: list[str] = field(default_factory=list)   # distil from these models (distill.py)
    distill_weight: float | None = None       # None: the resumed run's, else 0.5
    distill_temperature: float | None = None  # None: the resumed run's, else 2
    progress: bool = True
    command: str = ""                     # the command line, for the model card
    commands: list[str] = field(default_factory=list)   # earlier commands (resumed runs)

    def recipe(self) -> dict[str, object]:
        if self.arch not in RECIPES:
            nets.build(self.arch)   # raises the UserError listing the known architectures
        r = dict(RECIPES[self.arch])
        for key in ("epochs", "batch", "lr", "img_size", "balance"):
            value = getattr(self, key)
            if value is not None:
                r[key] = value
        if r["balance"] not in ("rotate", "weights", "none"):
            raise UserError(f"--balance must be rotate, weights or none, not {r['balance']!r}")
        return r


@dataclass
class TrainResult:
    out: Path
    weights: Path | None
    checkpoint: Path
    epochs_done: int
    val_accuracy: float | None
    history: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False


def export_config(arch: str, options: dict[str, object], recipe: dict[str, object],
                  store_size: int, channels: int) -> dict[str, object]:
    """What inference needs to reproduce training-time preprocessing."""
    return {"arch": arch, "options": options, "classes": list(EMOTIONS),
            "img_size": int(recipe["img_size"]), "store_size": store_size,
            "crop_fraction": float(recipe["crop_fraction"]), "channels": channels,
            "mean": NORM_MEAN, "std": NORM_STD, "input": "grey, x/255, (x-mean)/std",
            "test_time": "central crop + mirror, softmax averaged"}


def save_weights(model: nn.Module, path: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))
