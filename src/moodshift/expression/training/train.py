"""``moodshift train expression``: train an expression classifier on labelled face crops.

The whole data set is decoded once into a uint8 tensor; augmentation runs batched in torch
(random rotation, scale, shift and mirror through one affine warp, brightness/contrast jitter,
random erasing), so no per-image work happens in the training loop.

Geometry: images are stored at ``store_size`` = img_size / crop_fraction (48 px for msnet) and the
network sees an ``img_size`` view (44 px): a random warp in training, the central crop plus its
mirror image at test time (the two softmax outputs are averaged).

Outputs in ``--out``: ``checkpoint.pt`` (rewritten atomically every epoch, also on Ctrl-C; pass it
to ``--resume``), ``<arch>.safetensors`` + ``<arch>.json`` (weights and the preprocessing config
the inference side needs), ``history.json``, ``curves.png``, ``confusion.png``, ``metrics.json``
and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.expression import nets
from moodshift.expression.augment import (
    photometric,
    predict_logits_tta,
    random_theta,
    view_batch,
)
from moodshift.expression.training.config import (
    CHECKPOINT_KEYS,
    RECIPES,
    ROTATE_DEGREES,
    ROTATE_TARGET,
    TrainConfig,
    TrainResult,
    export_config,
)
from moodshift.expression.training.datasets import DataSplits, load_splits
from moodshift.expression.training.distill import (
    DistillSettings,
    TeacherEnsemble,
    check_recorded_teachers,
    distillation_loss,
    init_weights,
)
from moodshift.expression.training.outputs import FinishedRun, finish_outputs
from moodshift.imageio import atomic_write_text
from moodshift.training.checkpoint import atomic_torch_save, count_parameters, load_checkpoint
from moodshift.training.precision import use_bf16
from moodshift.training.run import progress_bar, stop_on_ctrl_c
from moodshift.training.threads import ThreadChooser

# ----------------------------------------------------------------------------------- tensors


# --------------------------------------------------------------------------------- helpers

def _lr_at(step: int, total: int, warmup: int, base: float, schedule: str) -> float:
    if schedule == "constant":
        return base
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def _make_optimizer(model: nn.Module, recipe: dict[str, object]) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": float(recipe["weight_decay"])},
              {"params": no_decay, "weight_decay": 0.0}]
    lr = float(recipe["lr"])
    if recipe["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    # Keras Adam defaults (epsilon 1e-7) for the published recipe
    return torch.optim.Adam(groups, lr=lr, eps=1e-7)


def _epoch_indices(labels: np.ndarray, balance: str, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Sample order for one epoch and a per-sample 'rotate me' flag (rotation balancing)."""
    if balance != "rotate":
        idx = rng.permutation(len(labels))
        return idx, np.zeros(len(idx), dtype=bool)
    parts, flags = [], []
    for c in range(len(EMOTIONS)):
        own = np.flatnonzero(labels == c)
        if len(own) == 0:
            continue
        extra = rng.choice(own, size=max(0, ROTATE_TARGET - len(own)), replace=True)
        parts += [own, extra]
        flags += [np.zeros(len(own), bool), np.ones(len(extra), bool)]
    idx, flag = np.concatenate(parts), np.concatenate(flags)
    order = rng.permutation(len(idx))
    return idx[order], flag[order]


def _class_weights(labels: np.ndarray) -> torch.Tensor:
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / (len(EMOTIONS) * np.maximum(counts, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


# ------------------------------------------------------------------------------ the loop

def train_expression(cfg: TrainConfig, log: Callable[[str], None] = print,
                     splits: DataSplits | None = None) -> TrainResult:
    """Train (or resume) an expression classifier; see the module docstring for the outputs."""
    chooser = ThreadChooser(cfg.threads)
    recipe = cfg.recipe()
    out = Path(cfg.out)
    ckpt_path = out / "checkpoint.pt"

    state = None
    if cfg.resume:
        rpath = Path(cfg.resume)
        state = load_checkpoint(rpath, "a `moodshift train expression` checkpoint",
                                CHECKPOINT_KEYS)
        if state.get("arch") != cfg.arch:
            raise UserError(f"{rpath}: checkpoint is for --arch {state.get('arch')}, "
                            f"not {cfg.arch}")
        recipe = state["recipe"]
        for key, value in RECIPES.get(cfg.arch, {}).items():   # fields added since
            recipe.setdefault(key, value)
        recipe["epochs"] = cfg.epochs or recipe["epochs"]
        cfg.commands = list(state.get("commands") or [state.get("command", "")]) + cfg.commands

    arch = cfg.arch
    img_size = int(recipe["img_size"])
    crop_fraction = float(recipe["crop_fraction"])
    store_size = int(round(img_size / crop_fraction))
    options: dict[str, object] = {"img_size": img_size}
    if arch == "msnet" and (cfg.width or (state and state["options"].get("width"))):
        options["width"] = int(cfg.width or state["options"]["width"])
    if state is not None:
        options = state["options"]
    model = nets.build(arch, **options).to(memory_format=torch.channels_last)
    channels = int(getattr(model, "in_channels", 1))
    bf16 = use_bf16(cfg.precision)
    if cfg.init and state is not None:
        raise UserError("--init starts a new run; it cannot be combined with --resume")
    if cfg.init:
        recipe["init"] = init_weights(model, cfg.init, arch, options)
        log(f"student starts from {recipe['init']}")
    teachers = _teachers(cfg, recipe, export_config(arch, options, recipe, store_size, channels),
                         bf16, log)
    out.mkdir(parents=True, exist_ok=True)     # only once the inputs have been checked

    t0 = time.time()
    splits = splits or load_splits(cfg.data, size=None)
    train_x = torch.from_numpy(splits.train.array(store_size))
    val_x = torch.from_numpy(splits.val.array(store_size))
    train_y = splits.train.labels
    val_y = splits.val.labels
    for s in (splits.train, splits.val):
        log("data: " + s.report())
    log(f"split: {splits.description}; loaded in {time.time() - t0:.1f}s")

    optimizer = _make_optimizer(model, recipe)
    history: list[dict[str, float]] = []
    start_epoch = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = state["history"]
        start_epoch = int(state["epoch"])
        log(f"resumed from {cfg.resume} after epoch {start_epoch}")

    epochs = int(recipe["epochs"])
    batch = int(recipe["batch"])
    balance = str(recipe["balance"])
    n_per_epoch = (len(train_y) if balance != "rotate" else
                   sum(max(ROTATE_TARGET, int(c)) for c in np.bincount(train_y) if c > 0))
    steps_per_epoch = max(1, n_per_epoch // batch)
    total_steps = epochs * steps_per_epoch
    warmup = int(float(recipe["warmup_epochs"]) * steps_per_epoch)
    weights = _class_weights(train_y) if balance == "weights" else None
    smoothing = float(recipe["label_smoothing"])
    augment = str(recipe["augment"])
    log(f"arch {arch} {options} ({count_parameters(model):,} parameters), "
        f"{epochs} epochs x {steps_per_epoch} steps of {batch}, {recipe['optimizer']} "
        f"lr {recipe['lr']}, balance {balance}, augment {augment}, "
        f"{'bf16 autocast' if bf16 else 'fp32'}")

    def save_checkpoint(epoch_done: int) -> None:
        atomic_torch_save({"arch": arch, "options": options, "recipe": recipe,
                            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "epoch": epoch_done, "history": history,
                            "config": export_config(arch, options, recipe, store_size, channels),
                            "command": cfg.command, "commands": cfg.commands + [cfg.command],
                            "seed": cfg.seed}, ckpt_path)

    steps_taken = 0
    epoch = start_epoch
    with stop_on_ctrl_c(log, lambda: f"interrupted during epoch {epoch + 1}: saving a "
                        "checkpoint that resumes there") as stop:
        for epoch in range(start_epoch, epochs):
            model.train()
            rng = np.random.default_rng(cfg.seed * 1000 + epoch)
            gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
            order, rotate = _epoch_indices(train_y, balance, rng)
            tl = tc = tn = 0.0
            t_ep = time.time()
            bar = progress_bar(iterable=range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}",
                               unit="batch", enabled=cfg.progress, leave=False)
            for step in bar:
                chooser.before_step()
                sel = order[step * batch:(step + 1) * batch]
                xb = train_x[torch.from_numpy(sel)]
                yb = torch.from_numpy(train_y[sel])
                if augment == "none" and not rotate[sel].any():
                    x = view_batch(xb, img_size, crop_fraction, channels)
                else:
                    if augment == "none":      # rotation balancing only
                        theta = random_theta(len(sel), crop_fraction, gen, ROTATE_DEGREES,
                                             0.0, 0.0, flip=False)
                        keep = torch.from_numpy(~rotate[sel])
                        theta[keep] = torch.tensor([[crop_fraction, 0, 0], [0, crop_fraction, 0]])
                    elif augment == "light":
                        theta = random_theta(len(sel), crop_fraction, gen, 10.0, 0.05, 0.05)
                    else:
                        theta = random_theta(len(sel), crop_fraction, gen)
                    x = view_batch(xb, img_size, crop_fraction, channels, theta)
                    if augment == "strong":
                        x = photometric(x, gen)
                lr = _lr_at(epoch * steps_per_epoch + step, total_steps, warmup,
                            float(recipe["lr"]), str(recipe["schedule"]))
                for g in optimizer.param_groups:
                    g["lr"] = lr
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = model(x)
                loss = F.cross_entropy(logits.float(), yb, weight=weights,
                                       label_smoothing=smoothing)
                if teachers is not None:
                    distill = recipe["distill"]
                    soft = teachers.soft_targets(x, float(distill["temperature"]))
                    kd = distillation_loss(logits, soft, float(distill["temperature"]))
                    loss = (1 - float(distill["weight"])) * loss + float(distill["weight"]) * kd
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                tl += float(loss.detach()) * len(sel)
                tc += float((logits.argmax(1) == yb).sum())
                tn += len(sel)
                steps_taken += 1
                chooser.after_step()
                if cfg.progress and hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{tl / tn:.3f}", acc=f"{tc / tn:.3f}", lr=f"{lr:.4f}")
                if cfg.max_steps is not None and steps_taken >= cfg.max_steps:
                    break
            if cfg.progress and hasattr(bar, "close"):
                bar.close()
            train_time = time.time() - t_ep
            probs = predict_logits_tta(model, val_x, img_size, crop_fraction, channels,
                                       autocast=bf16)
            vy = torch.from_numpy(val_y)
            val_loss = float(F.nll_loss(probs.clamp_min(1e-8).log(), vy)) if len(vy) else 0.0
            val_acc = float((probs.argmax(1) == vy).float().mean()) if len(vy) else 0.0
            history.append({"epoch": epoch + 1, "train_loss": tl / max(tn, 1),
                            "train_acc": tc / max(tn, 1), "val_loss": val_loss,
                            "val_acc": val_acc, "lr": lr, "seconds": train_time,
                            "eval_seconds": time.time() - t_ep - train_time})
            save_checkpoint(epoch + 1)
            atomic_write_text(out / "history.json", json.dumps(history, indent=1) + "\n")
            log(f"epoch {epoch + 1}/{epochs}: train loss {tl / max(tn, 1):.4f} "
                f"acc {tc / max(tn, 1):.4f} | val loss {val_loss:.4f} acc {val_acc:.4f} | "
                f"{train_time:.0f}s")
            if cfg.max_steps is not None and steps_taken >= cfg.max_steps:
                break
    if stop.interrupted:
        save_checkpoint(epoch)      # weights as they are; the unfinished epoch is redone
    result = finish_outputs(FinishedRun(out, model, arch, options, recipe, store_size, channels,
                                        history, splits, val_x, cfg, bf16, stop.interrupted), log)
    result.checkpoint = ckpt_path
    return result


def _teachers(cfg: TrainConfig, recipe: dict[str, object], student_input: dict[str, object],
              bf16: bool, log: Callable[[str], None]) -> TeacherEnsemble | None:
    """The distillation teachers of this run (a resumed run keeps its recorded ones)."""
    recorded = recipe.get("distill")
    if not cfg.teachers and not recorded:
        if cfg.distill_weight is not None or cfg.distill_temperature is not None:
            raise UserError("--distill-weight and --distill-temperature need --teacher (or a "
                            "--resume of a distillation run)")
        return None
    before = dict(recorded) if isinstance(recorded, dict) else {}
    weight = cfg.distill_weight if cfg.distill_weight is not None else before.get("weight", 0.5)
    temperature = (cfg.distill_temperature if cfg.distill_temperature is not None
                   else before.get("temperature", 2.0))
    paths = list(cfg.teachers) or [t["path"] for t in before["teachers"]]
    settings = DistillSettings(paths, float(weight), float(temperature))  # type: ignore[arg-type]
    settings.check()
    if not cfg.teachers:      # a resumed run goes on with the very teachers it started with
        check_recorded_teachers(before["teachers"])  # type: ignore[arg-type]
    ensemble = TeacherEnsemble(settings.teachers, student_input, bf16)
    recipe["distill"] = {"teachers": ensemble.describe(), "weight": settings.weight,
                         "temperature": settings.temperature}
    log(f"distilling from {len(ensemble.models)} teacher(s), weight {settings.weight}, "
        f"temperature {settings.temperature}")
    return ensemble
