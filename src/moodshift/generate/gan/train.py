"""``moodshift train gan``: train the conditional face GAN (networks in nets.py).

Recipe (seed 003): Adam lr 2e-4 (betas 0.5, 0.999), batch 64, real faces augmented by random
mirror and small rotations (+-10 degrees); hinge adversarial loss; AC-GAN auxiliary
cross-entropy on emotion (weight 1), age group and gender (0.5 each), the discriminator learning
them on real faces only; plus feature matching (squared distance between the mean
discriminator features of the real and generated batch). Real batches are drawn class-balanced
over emotions so rare classes (FER's disgust: 436 faces) are learned too. An exponential moving
average of the generator's weights (decay 0.995: a window of ~200 steps, short enough for a
CPU run of a few thousand) is what gets exported: it gives smoother faces than the last step.

Outputs in ``--out``: ``checkpoint.pt`` (every ``--checkpoint-every`` steps, on Ctrl-C and at the
end; pass the folder or file to ``--resume``), ``generator.safetensors`` + ``generator.json``
(the exported EMA generator), ``history.json``, ``curves.png``, ``samples.png`` (one row per
emotion), ``gan-labels.csv`` (the auto labels used) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.gan.data import LABELS_FILE, FaceSet, labels_path, load_faces
from moodshift.generate.gan.nets import Discriminator, Generator, condition_vector
from moodshift.imageio import atomic_write
from moodshift.people import AGE_GROUPS, GENDERS
from moodshift.sheets import save_figure
from moodshift.training.checkpoint import atomic_torch_save, count_parameters
from moodshift.training.run import TimeBudget, progress_bar, stop_on_ctrl_c


@dataclass
class GanConfig:
    steps: int = 6000
    batch: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    latent_dim: int = 64
    width: int = 16          # generator channels at full resolution (x8 at the 6x6 start)
    d_width: int = 32        # discriminator channels after its first layer (cheap: 48 -> 3 px)
    image_size: int = 48
    aux_emotion: float = 1.0
    aux_other: float = 0.5
    feature_matching: float = 1.0
    condition_dropout: float = 0.2   # share of age / gender blocks zeroed ("unspecified")
    rotation_deg: float = 10.0
    ema: float = 0.995
    seed: int = 0
    checkpoint_every: int = 250
    time_budget_min: float | None = None
    limit_per_class: int | None = None
    threads: int = 1

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def check(self) -> None:
        """Refuse values no run could train with (a one-line UserError naming the option)."""
        for name in ("steps", "batch", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} {getattr(self, name)}: must be >= 1")
        if self.batch < 2:
            raise UserError("--batch must be at least 2")
        if not 0 < self.lr < 1:
            raise UserError(f"--lr {self.lr}: must be between 0 and 1")
        # a non-positive budget or limit would export an untrained generator or read no data
        if self.time_budget_min is not None and not self.time_budget_min > 0:
            raise UserError(f"--time-budget {self.time_budget_min}: must be a positive number "
                            "of minutes")
        for name in ("limit_per_class", "threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} {getattr(self, name)}: must be >= 1")


@dataclass
class GanTrainResult:
    out: Path
    steps: int
    seconds: float
    interrupted: bool
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        last = self.history[-1] if self.history else {}
        return {"out": str(self.out), "steps": self.steps, "seconds": round(self.seconds, 1),
                "interrupted": self.interrupted, "last": last,
                "generator": str(self.out / "generator.safetensors")}


def augment(x: torch.Tensor, rotation_deg: float, gen: torch.Generator) -> torch.Tensor:
    """Random mirror and rotation (border pixels repeat) of a (n, 1, S, S) batch in [-1, 1]."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if rotation_deg <= 0:
        return x
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotation_deg)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1),
                         torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def _balanced_sampler(emotion: np.ndarray, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """Indices drawn so every emotion present is equally likely."""
    weights = np.zeros(len(emotion))
    for e in np.unique(emotion):
        mask = emotion == e
        weights[mask] = 1.0 / mask.sum()
    weights /= weights.sum()
    return lambda n: rng.choice(len(emotion), size=n, p=weights)


def _update_ema(ema: Generator, model: Generator, decay: float) -> None:
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.lerp_(pm, 1.0 - decay)
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)


def export_generator(ema: Generator, cfg: GanConfig, out: Path, meta: dict[str, object]) -> Path:
    """generator.safetensors + generator.json (everything runtime loading needs)."""
    from safetensors.torch import save_file

    target = out / "generator.safetensors"
    state = {k: v.detach().contiguous().clone() for k, v in ema.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    atomic_write(target, lambda tmp: save_file(state, str(tmp)))
    from moodshift.models.store import sha256_file
    config = {"arch": "gan_nets.Generator", "latent_dim": cfg.latent_dim, "width": cfg.width,
              "image_size": cfg.image_size, "channels": 1, "emotions": list(EMOTIONS),
              "age_groups": list(AGE_GROUPS), "genders": list(GENDERS),
              "output": "tanh grey, (x + 1) * 127.5", "sha256": sha256_file(target)} | meta
    from moodshift.imageio import atomic_write_text
    atomic_write_text(out / "generator.json", json.dumps(config, indent=1) + "\n")
    return target


def _sample_sheet(ema: Generator, cfg: GanConfig, path: Path, per_row: int = 10) -> None:
    """One row per emotion, the same latent codes in every row; age and gender unspecified."""
    from moodshift.imageio import save_image

    gen = torch.Generator().manual_seed(1234)
    z = torch.randn(per_row, cfg.latent_dim, generator=gen)
    rows = []
    ema.eval()
    with torch.no_grad():
        for e in range(len(EMOTIONS)):
            cond = condition_vector(torch.full((per_row,), e), torch.full((per_row,), -1),
                                    torch.full((per_row,), -1))
            x = ema(z, cond)
            rows.append(torch.cat(list(x[:, 0]), dim=1))
    sheet = ((torch.cat(rows, 0) + 1) * 127.5).clamp(0, 255).byte().numpy()
    save_image(np.repeat(sheet[:, :, None], 3, axis=2), path)


def _plot_curves(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    steps = [h["step"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for key in ("d_real", "d_fake", "g_adv"):
        axes[0].plot(steps, [h[key] for h in history], label=key)
    axes[0].set_title("hinge / adversarial terms")
    for key in ("aux_real_acc", "aux_fake_acc"):
        axes[1].plot(steps, [h[key] for h in history], label=key)
    axes[1].set_ylim(0, 1)
    axes[1].set_title("D emotion accuracy (real, generated)")
    axes[2].plot(steps, [h["fm"] for h in history], label="feature matching")
    axes[2].set_title("feature matching")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def write_model_card(out: Path, cfg: GanConfig, data: FaceSet, seconds: float, steps: int,
                     g_params: int, command: str) -> None:
    from moodshift.imageio import atomic_write_text

    counts = data.counts()
    size_mb = (out / "generator.safetensors").stat().st_size / 1e6
    text = f"""# moodshift conditional GAN (generator)

Trained by `{command}`.

- Data: {data.source}, {len(data)} faces at {cfg.image_size}x{cfg.image_size} grey.
- Steps: {steps} of batch {cfg.batch}; {seconds / 60:.1f} min on CPU ({cfg.threads} thread(s)).
- Generator: {g_params / 1e6:.2f} M parameters, {size_mb:.1f} MB (float32 safetensors, EMA weights).
- Recipe: {json.dumps(cfg.to_json())}

## Labels
Emotion: the data set's folders. Age group and gender: **automatic**, from face-api's age/gender
network with the whole 48x48 image as the face box (FER has no such labels).
Counts: {json.dumps(counts)}

Limits of the automatic labels: the network was trained on colour photos of adults at 112 px;
FER faces are 48 px grey, tightly cropped and often partly occluded, so its age regression is
noisy (children and the elderly are rare and often mislabelled), expression confounds age (a
grimace reads older, a smile younger) and gender is a binary guess from appearance, not
identity. Treat the age and gender conditions as soft hints, not controls.
"""
    atomic_write_text(out / "MODEL_CARD.md", text)


def _load_resume(path: Path) -> dict[str, object]:
    p = path / "checkpoint.pt" if path.is_dir() else path
    if not p.is_file():
        raise UserError(f"{path}: no checkpoint.pt to resume from")
    from moodshift.training.checkpoint import load_checkpoint

    return load_checkpoint(p, "a moodshift GAN checkpoint", RESUME_KEYS)


RESUME_KEYS = ("G", "D", "ema", "opt_g", "opt_d", "step", "seconds", "history")


def train_gan(data_path: Path, out: Path, cfg: GanConfig, resume: Path | None = None,
              log: Callable[[str], None] = print, show_progress: bool = True,
              command: str = "") -> GanTrainResult:
    cfg.check()
    if Path(data_path).resolve() == Path(out).resolve():
        raise UserError(f"--out {out}: must differ from --data")
    torch.set_num_threads(max(1, cfg.threads))
    from moodshift.imageio import check_writable_dir
    check_writable_dir(out)
    # read the checkpoint first: a bad --resume must fail before slow labelling or any output
    ck = _load_resume(resume) if resume is not None else None
    data = load_faces(data_path, cfg.image_size, cfg.limit_per_class, show_progress, log)
    if len(data) < 2:
        raise UserError(f"{data_path}: need at least 2 training images, found {len(data)}")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    images = torch.from_numpy(data.images)
    emo_t, age_t, gen_t = (torch.from_numpy(a) for a in (data.emotion, data.age, data.gender))

    G = Generator(cfg.latent_dim, cfg.width, cfg.image_size)
    D = Discriminator(cfg.d_width, cfg.image_size)
    ema = Generator(cfg.latent_dim, cfg.width, cfg.image_size)
    ema.load_state_dict(G.state_dict())
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    history: list[dict[str, float]] = []
    step, spent = 0, 0.0
    if ck is not None:
        try:
            G.load_state_dict(ck["G"]), D.load_state_dict(ck["D"])
            ema.load_state_dict(ck["ema"])
            opt_g.load_state_dict(ck["opt_g"]), opt_d.load_state_dict(ck["opt_d"])
        except (RuntimeError, ValueError, KeyError) as exc:  # other sizes or another network
            from moodshift.training.checkpoint import first_problem
            raise UserError(f"{resume}: checkpoint does not fit this configuration "
                            f"({first_problem(exc)})") from None
        step, spent, history = int(ck["step"]), float(ck["seconds"]), list(ck["history"])
        rng = np.random.default_rng(cfg.seed + step)
        gen.manual_seed(cfg.seed + step)
        log(f"resumed at step {step}")
    out.mkdir(parents=True, exist_ok=True)  # only now: a bad checkpoint leaves no folder behind
    draw = _balanced_sampler(data.emotion, rng)

    def save_all() -> None:
        atomic_torch_save({"G": G.state_dict(), "D": D.state_dict(), "ema": ema.state_dict(),
                            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                            "step": step, "seconds": spent, "history": history,
                            "config": cfg.to_json()}, out / "checkpoint.pt")
        export_generator(ema, cfg, out, {"steps": step, "train_seconds": round(spent, 1),
                                         "data": data.source})
        _sample_sheet(ema, cfg, out / "samples.png")
        _plot_curves(history, out / "curves.png")
        from moodshift.imageio import atomic_write_text
        atomic_write_text(out / "history.json", json.dumps(history) + "\n")
        write_model_card(out, cfg, data, spent, step, count_parameters(G), command)

    for labels in (data_path / LABELS_FILE, labels_path(data_path)):
        if labels.is_file():  # keep the labels this model was trained with beside it
            shutil.copyfile(labels, out / LABELS_FILE)
            break
    log(f"{len(data)} faces; generator {count_parameters(G) / 1e6:.2f} M parameters, "
        f"discriminator {count_parameters(D) / 1e6:.2f} M")
    bar = progress_bar(cfg.steps, step, enabled=show_progress)
    acc: dict[str, float] = {}
    n_acc = 0
    budget = TimeBudget(cfg.time_budget_min, spent)
    with stop_on_ctrl_c(log, lambda: f"interrupted at step {step}; saving checkpoint") as stop, \
            bar:
        while step < cfg.steps:
            if budget.exhausted():
                log(f"time budget of {cfg.time_budget_min} min reached at step {step}")
                break
            G.train(), D.train()
            idx = torch.from_numpy(draw(cfg.batch))
            real = images[idx].float().div(127.5).sub(1.0).unsqueeze(1)
            real = augment(real, cfg.rotation_deg, gen)
            e, a, g = emo_t[idx], age_t[idx].clone(), gen_t[idx].clone()
            # Conditions for the fakes: the real batch's labels, with age / gender sometimes
            # hidden so that "unspecified" is a trained input.
            a_cond = torch.where(torch.rand(len(a), generator=gen) < cfg.condition_dropout, -1, a)
            g_cond = torch.where(torch.rand(len(g), generator=gen) < cfg.condition_dropout, -1, g)
            cond = condition_vector(e, a_cond, g_cond)
            z = torch.randn(cfg.batch, cfg.latent_dim, generator=gen)

            # --- discriminator
            fake = G(z, cond)
            d_real, d_fake = D(real), D(fake.detach())
            loss_real = F.relu(1.0 - d_real["adv"]).mean()
            loss_fake = F.relu(1.0 + d_fake["adv"]).mean()
            aux_d = (cfg.aux_emotion * F.cross_entropy(d_real["emotion"], e)
                     + cfg.aux_other * F.cross_entropy(d_real["age"], a)
                     + cfg.aux_other * F.cross_entropy(d_real["gender"], g))
            opt_d.zero_grad(set_to_none=True)
            (loss_real + loss_fake + aux_d).backward()
            opt_d.step()

            # --- generator
            d_gen = D(fake)
            g_adv = -d_gen["adv"].mean()
            aux_g = cfg.aux_emotion * F.cross_entropy(d_gen["emotion"], e)
            if (a_cond >= 0).any():
                aux_g = aux_g + cfg.aux_other * F.cross_entropy(d_gen["age"], a_cond,
                                                                ignore_index=-1)
            if (g_cond >= 0).any():
                aux_g = aux_g + cfg.aux_other * F.cross_entropy(d_gen["gender"], g_cond,
                                                                ignore_index=-1)
            fm = (d_real["features"].detach().mean(0) - d_gen["features"].mean(0)).pow(2).mean()
            opt_g.zero_grad(set_to_none=True)
            (g_adv + aux_g + cfg.feature_matching * fm).backward()
            opt_g.step()
            _update_ema(ema, G, cfg.ema if step > 100 else 0.0)
            step += 1
            spent = budget.spent

            stats = {"d_real": loss_real.item(), "d_fake": loss_fake.item(),
                     "g_adv": g_adv.item(), "aux_g": aux_g.item(), "fm": fm.item(),
                     "aux_real_acc": (d_real["emotion"].argmax(1) == e).float().mean().item(),
                     "aux_fake_acc": (d_gen["emotion"].argmax(1) == e).float().mean().item()}
            for k, v in stats.items():
                acc[k] = acc.get(k, 0.0) + v
            n_acc += 1
            bar.update(1)
            if step % 50 == 0 or step == cfg.steps:
                row = {k: round(v / n_acc, 4) for k, v in acc.items()}
                history.append({"step": step, "seconds": round(spent, 1)} | row)
                bar.set_postfix(d=f"{row['d_real'] + row['d_fake']:.2f}",
                                acc=f"{row['aux_fake_acc']:.2f}")
                acc, n_acc = {}, 0
            if step % cfg.checkpoint_every == 0:
                save_all()
    save_all()
    return GanTrainResult(out, step, spent, stop.interrupted, history)
