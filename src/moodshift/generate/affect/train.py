"""``moodshift train affect-generator``: train a conditional generator against frozen judges.

The generator (nets.py) gets noise and a target and is trained ONLY to make a frozen model
agree with the target (no image data set, no discriminator):
- ``--target emotion``: cross-entropy of moodshift's own expression classifier (msnet, frozen)
  on the generated image, seen through small random warps and mirroring;
- ``--target vad``: squared distance between the differentiable colour-affect VAD of the image
  (affect_losses.mood_vad == moodshift.mood.measure_mood) and the target VAD, targets drawn half
  from the seven emotions' coordinates, half uniformly from [-0.9, 0.9]^3;
plus Mao et al.'s mode-seeking diversity term (two noises per condition) and total variation.

Outputs in ``--out``: ``checkpoint.pt`` (every ``--checkpoint-every`` steps, at the end and on
Ctrl-C; pass it to ``--resume``), ``affect.safetensors`` + ``affect.json``, ``history.json``,
``curves.png``, ``samples.png`` (one row per emotion), ``report.json`` / ``report.md`` (agreement
per target by independent judges, diversity; see report.py) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.affect.generator import WEIGHTS_NAME, AffectGenerator
from moodshift.generate.affect.losses import (
    FrozenClassifier,
    emotion_vad_table,
    mode_seeking_loss,
    mood_vad,
    total_variation,
)
from moodshift.generate.affect.nets import KINDS, AffectGeneratorNet
from moodshift.imageio import atomic_write
from moodshift.training.card import earlier_commands
from moodshift.training.checkpoint import atomic_torch_save, count_parameters, load_checkpoint
from moodshift.training.run import progress_bar, stop_on_ctrl_c

INDEPENDENT_JUDGES = ("fer", "faceapi")  # expression models unrelated to moodshift's msnet


@dataclass
class AffectTrainConfig:
    kind: str                              # emotion | vad
    out: str
    classifier: str = "moodshift"          # the frozen model trained against (emotion kind)
    steps: int = 800
    batch: int = 8                        # conditions per step; each gets two noise vectors
    lr: float = 5e-3
    z_dim: int = 64
    width: int = 24
    image_size: int = 48
    diversity_weight: float = 0.02
    tv_weight: float = 0.2
    saturation_weight: float = 0.005       # keeps outputs off the flat ends of the sigmoid
    clip_grad: float = 1.0
    judges: list[str] = field(default_factory=lambda: ["fer", "faceapi"])
    eval_samples: int = 64
    seed: int = 0
    resume: str | None = None
    threads: int = 1
    log_every: int = 25
    checkpoint_every: int = 200
    progress: bool = True
    command: str = ""
    commands: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"--target must be one of {', '.join(KINDS)}, not {self.kind!r}")
        for name in ("steps", "batch", "z_dim", "width", "eval_samples", "log_every",
                     "checkpoint_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, "
                                f"not {getattr(self, name)}")
        if self.eval_samples < 2:
            raise UserError("--eval-samples must be at least 2 (diversity compares pairs)")
        if self.lr <= 0 or min(self.diversity_weight, self.tv_weight,
                                self.saturation_weight) < 0:
            raise UserError("--lr must be positive and the loss weights non-negative")
        for judge in self.judges:
            # A typo must not cost a whole training run and then silently drop the judge.
            if judge.lower() in INDEPENDENT_JUDGES or judge.lower() in ("none", ""):
                continue
            if judge == self.classifier:
                raise UserError(f"--judge {judge}: the judge must be independent of the "
                                "--classifier trained against")
            if not Path(judge).exists():
                raise UserError(f"--judge {judge}: unknown judge; use "
                                f"{', '.join(INDEPENDENT_JUDGES)}, none or a trained model's path")

    def model_config(self) -> dict[str, object]:
        return {"kind": self.kind, "z_dim": self.z_dim, "width": self.width,
                "image_size": self.image_size, "channels": 1 if self.kind == "emotion" else 3,
                "trained_against": self.classifier if self.kind == "emotion" else "moodshift.mood",
                "losses": {"diversity_weight": self.diversity_weight,
                           "tv_weight": self.tv_weight,
                           "saturation_weight": self.saturation_weight}}


@dataclass
class AffectTrainResult:
    out: Path
    weights: Path
    steps_done: int
    history: list[dict[str, float]]
    report: dict[str, object] | None
    interrupted: bool = False

    def to_json(self) -> dict[str, object]:
        return {"out": str(self.out), "weights": str(self.weights), "steps_done": self.steps_done,
                "interrupted": self.interrupted, "report": self.report,
                "last": self.history[-1] if self.history else None}


def _conditions(kind: str, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(condition vectors, emotion index per row; -1 where the target is not an emotion)."""
    labels = torch.randint(0, len(EMOTIONS), (batch,), generator=gen)
    if kind == "emotion":
        return F.one_hot(labels, len(EMOTIONS)).float(), labels
    table = emotion_vad_table()
    free = torch.rand(batch, generator=gen) < 0.5
    cond = torch.where(free[:, None], (torch.rand(batch, 3, generator=gen) * 2 - 1) * 0.9,
                       table[labels])
    return cond, torch.where(free, -1, labels)


class Objective:
    """The training loss for one kind; returns (total, parts for the log)."""

    def __init__(self, cfg: AffectTrainConfig) -> None:
        self.cfg = cfg
        self.classifier = FrozenClassifier.load(cfg.classifier) if cfg.kind == "emotion" else None
        self.table = emotion_vad_table()

    def __call__(self, logits_out: torch.Tensor, cond: torch.Tensor, labels: torch.Tensor,
                 z: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        images = torch.sigmoid(logits_out).expand(-1, 3, -1, -1)
        half = images.shape[0] // 2
        if self.classifier is not None:
            logits = self.classifier.logits(images, gen, jitter=True)
            target = F.cross_entropy(logits, labels)
            agree = float((logits.argmax(1) == labels).float().mean())
            parts = {"target_loss": float(target.detach()), "agreement": agree}
        else:
            vad = mood_vad(images)
            target = ((vad - cond) ** 2).sum(1).mean()
            near = torch.cdist(vad.detach(), self.table).argmin(1)
            named = labels >= 0
            agree = float((near[named] == labels[named]).float().mean()) if named.any() else 0.0
            parts = {"target_loss": float(target.detach()), "agreement": agree,
                     "vad_error": float((vad - cond).detach().abs().mean())}
        div = mode_seeking_loss(images[:half], images[half:], z[:half], z[half:])
        tv = total_variation(images)
        # A saturated sigmoid passes no gradient: an output stuck at pure white or black could
        # never recover (seen in long runs without this term), so large pre-activations cost.
        saturation = logits_out.pow(2).mean()
        total = (target + self.cfg.diversity_weight * div + self.cfg.tv_weight * tv
                 + self.cfg.saturation_weight * saturation)
        parts.update(diversity_loss=float(div.detach()), tv=float(tv.detach()),
                     saturation=float(saturation.detach()), loss=float(total.detach()))
        return total, parts


def train_affect_generator(cfg: AffectTrainConfig, log: Callable[[str], None] = print,
                           judges: dict[str, object] | None = None) -> AffectTrainResult:
    """Train (or resume) an affect generator; see the module docstring for the outputs.

    ``judges`` overrides loading cfg.judges by name (tests pass their own models)."""
    cfg.check()
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder (--out names a folder)")
    if not cfg.resume:
        made = [n for n in ("checkpoint.pt", WEIGHTS_NAME) if (out / n).exists()]
        if made:  # never write over a model silently
            raise UserError(f"{out}: already holds an affect generator ({made[0]}): pass "
                            f"--resume {out / 'checkpoint.pt'} to continue it, or choose "
                            "another --out")
    state = None
    if cfg.resume:
        rpath = Path(cfg.resume)
        state = load_checkpoint(rpath, "an affect-generator checkpoint", ("train_config",))
        saved = state["train_config"]
        if saved["kind"] != cfg.kind:
            raise UserError(f"{rpath}: checkpoint is for --target {saved['kind']}, not {cfg.kind}")
        for key in ("classifier", "batch", "lr", "z_dim", "width", "image_size",
                    "diversity_weight", "tv_weight", "saturation_weight", "clip_grad"):
            if key in saved and saved[key] != getattr(cfg, key):
                # the network and its optimiser are fixed by the checkpoint: say so, not silently
                log(f"--resume: using the checkpoint's --{key.replace('_', '-')} {saved[key]} "
                    f"(not {getattr(cfg, key)})")
                setattr(cfg, key, saved[key])
        cfg.commands = earlier_commands(saved) + cfg.commands
    objective = Objective(cfg)           # loads the frozen classifier before any output exists
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    torch.manual_seed(cfg.seed)
    net = AffectGeneratorNet(cfg.kind, cfg.z_dim, cfg.width, cfg.image_size)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    history: list[dict[str, float]] = []
    step = 0
    if state is not None:
        net.load_state_dict(state["generator"])
        optimizer.load_state_dict(state["optimizer"])
        history, step = state["history"], int(state["step"])
        log(f"resumed from {cfg.resume} after step {step}")
    ckpt_path = out / "checkpoint.pt"
    log(f"affect generator ({cfg.kind}): {count_parameters(net):,} parameters, "
        f"{cfg.image_size} px, {cfg.steps} steps x {cfg.batch} conditions x 2 noises, "
        f"trained against {cfg.model_config()['trained_against']}")

    def save_checkpoint() -> None:
        atomic_torch_save({"generator": net.state_dict(), "optimizer": optimizer.state_dict(),
                            "step": step, "history": history, "config": cfg.model_config(),
                            "train_config": asdict(cfg)}, ckpt_path)

    acc: dict[str, list[float]] = {}
    t0 = time.time()
    bar = progress_bar(cfg.steps, step, desc="affect generator", enabled=cfg.progress)
    net.train()
    with stop_on_ctrl_c(log, lambda: f"interrupted at step {step}: saving a checkpoint that "
                        "resumes there") as stop, bar:
        while step < cfg.steps:
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
            cond, labels = _conditions(cfg.kind, cfg.batch, gen)
            z = torch.randn(2 * cfg.batch, cfg.z_dim, generator=gen)
            cond2, labels2 = cond.repeat(2, 1), labels.repeat(2)
            for group in optimizer.param_groups:      # cosine decay: late steps only refine
                group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
            loss, parts = objective(net.forward_logits(z, cond2), cond2, labels2, z, gen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_grad)
            optimizer.step()
            step += 1
            for k, v in parts.items():
                acc.setdefault(k, []).append(v)
            bar.update(1)
            bar.set_postfix(loss=f"{parts['loss']:.3f}", agree=f"{parts['agreement']:.2f}",
                            refresh=False)
            if step % cfg.log_every == 0 or step == cfg.steps:
                history.append({"step": step, **{k: float(np.mean(v)) for k, v in acc.items()},
                                "seconds": time.time() - t0})
                acc = {}
            if step % cfg.checkpoint_every == 0:
                save_checkpoint()
    save_checkpoint()
    net.eval()
    return finish_outputs(out, net, cfg, history, step, stop.interrupted, log, judges)


def finish_outputs(out: Path, net: AffectGeneratorNet, cfg: AffectTrainConfig,
                   history: list[dict[str, float]], step: int, interrupted: bool,
                   log: Callable[[str], None], judges: dict[str, object] | None = None
                   ) -> AffectTrainResult:
    """Weights, config, curves, judged report, sample grid and model card."""
    from moodshift.generate.affect import report as affect_report
    from moodshift.generate.affect.card import plot_curves, write_model_card
    from moodshift.imageio import atomic_write_text
    from moodshift.models.store import sha256_file

    weights = out / WEIGHTS_NAME
    save_weights(net, weights)
    config = {**cfg.model_config(), "steps": step, "images_per_step": 2 * cfg.batch,
              "train_seconds": round(history[-1]["seconds"], 1) if history else 0.0,
              "commands": cfg.commands + [cfg.command]}
    atomic_write_text(weights.with_suffix(".json"), json.dumps(config, indent=1) + "\n")
    atomic_write_text(out / "history.json", json.dumps(history, indent=1) + "\n")
    try:
        plot_curves(history, cfg.kind, out / "curves.png")
    except Exception as exc:  # plots are a convenience; never lose the weights over them
        log(f"warning: plotting failed: {exc}")
    generator = AffectGenerator(net, config, str(weights))
    report_json = None
    if interrupted:
        log("interrupted: skipping the judged report (resume to finish it)")
    else:
        if judges is None and cfg.kind == "emotion":
            names = [j for j in cfg.judges if j.lower() not in ("none", "")]
            judges = affect_report.load_judges(names, log)
            judges.update(affect_report.load_judges([cfg.classifier], log))
            if cfg.classifier in judges:
                judges[f"{cfg.classifier} (trained against; not independent)"] = \
                    judges.pop(cfg.classifier)
        report, samples = affect_report.evaluate(
            generator, cfg.kind, judges or {}, "affect generator", n=cfg.eval_samples,
            progress=cfg.progress, log=log)
        report_json = report.to_json()
        atomic_write_text(out / "report.json", json.dumps(report_json, indent=1) + "\n")
        atomic_write_text(out / "report.md", report.to_markdown())
        affect_report.sample_grid(samples, out / "samples.png")
        for j in report.judges():
            log(f"agreement by {j}: {report.mean_agreement(j):.3f} (mean over targets)")
    write_model_card(out, cfg, config, history, report_json, sha256_file(weights),
                     weights.stat().st_size, count_parameters(net))
    log(f"wrote {weights}")
    return AffectTrainResult(out, weights, step, history, report_json, interrupted)


def save_weights(net: torch.nn.Module, path: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))
