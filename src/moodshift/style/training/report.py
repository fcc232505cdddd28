"""What ``moodshift train style`` leaves beside a model: sample sheets, loss curves, model card,
and the metadata stored inside the ONNX file (read back by style/engines/trained.py)."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np
import torch
from PIL import Image, ImageDraw

from moodshift.drawing import default_font
from moodshift.sheets import save_figure
from moodshift.training.card import card_commands

if TYPE_CHECKING:
    from moodshift.style.training.train import LossRecipe, StyleTrainConfig

MODEL_KIND = "moodshift-johnson-style"     # metadata "kind" of every trained style model
TILE = 192


def model_metadata(meta: Mapping[str, object], cfg: "StyleTrainConfig") -> dict[str, str]:
    """String key/values for the ONNX file: what it is, how it was made."""
    out = {"kind": MODEL_KIND, "input": "image: float32 NCHW RGB 0..1, any H, W (multiples of 4)",
           "output": "stylized: float32 NCHW RGB 0..1, same size",
           "command": cfg.command or "", "created": _dt.datetime.now(_dt.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ")}
    out.update({k: "" if v is None else str(v) for k, v in meta.items()})
    return out


def _tile(img: np.ndarray, side: int = TILE) -> Image.Image:
    pil = Image.fromarray(np.asarray(img, np.uint8))
    return pil.resize((side, side), Image.LANCZOS) if pil.size != (side, side) else pil


def sample_sheet(net: torch.nn.Module, samples: np.ndarray, style: np.ndarray, step: int,
                 path: Path) -> None:
    """Top row: the style and the fixed content crops; bottom row: the network's outputs."""
    from moodshift.imageio import save_image
    from moodshift.style.training.data import centre_crop

    with torch.no_grad():
        x = torch.from_numpy(samples).permute(0, 3, 1, 2).float() / 255.0
        y = net(x).clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    pad, label = 6, 20
    cols = len(samples) + 1
    sheet = Image.new("RGB", (pad + cols * (TILE + pad), label + 2 * (TILE + pad) + pad),
                      (245, 245, 245))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 3), f"step {step}: style | content (top), stylised (bottom)", fill="black",
              font=default_font(13))
    sheet.paste(_tile(centre_crop(style, TILE)), (pad, label))
    for i in range(len(samples)):
        x0 = pad + (i + 1) * (TILE + pad)
        sheet.paste(_tile(samples[i]), (x0, label))
        sheet.paste(_tile(y[i]), (x0, label + TILE + pad))
    save_image(np.asarray(sheet), path)


def plot_losses(history: list[dict[str, float]], path: Path) -> None:
    """Weighted content, style, TV and total loss against step (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("total", "content", "style", "tv"):
        values = [max(h[key], 1e-12) for h in history]
        ax.plot(steps, values, label=key, linewidth=2.0 if key == "total" else 1.2)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"weighted loss (mean of {history[0]['step']} steps)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def write_model_card(path: Path, cfg: "StyleTrainConfig", meta: Mapping[str, object],
                     weights: Mapping[str, float], recipe: "LossRecipe",
                     history: list[dict[str, float]], model: Path, seconds: float,
                     n_images: int, n_bad: int, interrupted: bool = False) -> None:
    from moodshift.imageio import atomic_write_text
    from moodshift.models.store import sha256_file
    from moodshift.style.training.johnson import TransformerNet
    from moodshift.training.checkpoint import count_parameters

    last = history[-1] if history else {}
    first = history[0] if history else {}
    steps_done = int(meta.get("steps") or 0)
    commands = card_commands(cfg.commands, cfg.command, missing="(library call)")
    lines = [
        f"# Style model {model.name}",
        "",
        "Johnson et al. (2016) feed-forward style network trained by moodshift "
        "(`moodshift train style`).",
        "",
        "## Reproduce",
        "",
        "```",
        *commands,
        "```",
        "",
        ("(resumed runs list every command in order)" if len(commands) > 1 else ""),
        (f"Stopped by Ctrl-C at step {meta.get('steps')} of {cfg.steps}: the same command "
         f"with `--steps {meta.get('steps')}` reproduces this model; `--resume` continues it."
         if interrupted else ""),
        "",
        "## Model",
        "",
        f"- file: `{model.name}`, {model.stat().st_size / 1e6:.2f} MB, sha256 "
        f"`{sha256_file(model)}`",
        f"- weights stored as {'float16 (computed in float32)' if cfg.fp16 else 'float32'}",
        f"- network: width {cfg.width} ({count_parameters(TransformerNet(cfg.width)):,} "
        "parameters); conv 9x9 + 2 stride-2 convs, 5 residual blocks, 2 nearest-upsample "
        "convs, conv 9x9; instance norm + ReLU; sigmoid output",
        "- input/output: float32 NCHW RGB in 0..1, any height and width (multiples of 4)",
        "",
        "## Training",
        "",
        f"- style: {meta.get('style_source')}",
        f"- content: `{cfg.content}` ({n_images} images"
        + (f", {n_bad} unreadable and skipped" if n_bad else "") + ")",
        f"- backbone: {meta.get('backbone')}; content layers {', '.join(recipe.content_layers)}; "
        f"style layers {', '.join(recipe.style_layers)}",
        f"- loss weights: content {weights['content']:g}, style {weights['style']:g}, "
        f"TV {weights['tv']:g} (per 256x256 crop)",
        f"- {meta.get('steps')} steps of batch {cfg.batch}, {cfg.size} px random crops "
        f"(scale jitter 1-1.25, mirror), Adam lr {cfg.lr:g}, seed {cfg.seed}, "
        f"precision {cfg.precision}",
        f"- time: {seconds / 60:.1f} min"
        + (f" ({seconds / steps_done * 1000 / 60:.1f} min per 1,000 steps)" if steps_done else "")
        + f" on {platform.processor() or platform.machine()} ({os.cpu_count()} CPU threads "
        f"visible, {cfg.threads or 'auto'} used), torch {torch.__version__}",
        "",
        "## Loss (weighted)",
        "",
        "| step | content | style | TV | total |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for h in (first, last):
        if h:
            lines.append(f"| {h['step']} | {h['content']:.4g} | {h['style']:.4g} | "
                         f"{h['tv']:.4g} | {h['total']:.4g} |")
    lines += ["", "Curves: `curves.png`; sample sheets: `samples/`.", ""]
    atomic_write_text(path, "\n".join(lines))
