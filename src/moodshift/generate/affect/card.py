"""What a finished ``train affect-generator`` run documents: training curves and model card."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moodshift.emotions import EMOTIONS
from moodshift.generate.affect.generator import WEIGHTS_NAME
from moodshift.sheets import save_figure

if TYPE_CHECKING:
    from moodshift.generate.affect.train import AffectTrainConfig


def plot_curves(history: list[dict[str, float]], kind: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes[0].plot(steps, [h["target_loss"] for h in history])
    axes[0].set_ylabel("cross-entropy" if kind == "emotion" else "squared VAD distance")
    axes[0].set_title("target loss (frozen judge)")
    axes[1].plot(steps, [h["agreement"] for h in history], label="trained-against agreement")
    if kind == "vad":
        axes[1].plot(steps, [h["vad_error"] for h in history], label="mean |VAD error|")
    axes[1].set_title("training batches"), axes[1].legend()
    axes[2].plot(steps, [h["diversity_loss"] for h in history], label="mode-seeking")
    axes[2].plot(steps, [h["tv"] for h in history], label="total variation")
    if history and "saturation" in history[0]:
        axes[2].plot(steps, [h["saturation"] for h in history], label="pre-sigmoid size")
    axes[2].set_title("regularisers (log scale)"), axes[2].legend(), axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("step"), ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def write_model_card(out: Path, cfg: AffectTrainConfig, config: dict[str, object],
                     history: list[dict[str, float]], report: dict[str, object] | None,
                     sha256: str, size: int, n_params: int) -> None:
    from moodshift.imageio import atomic_write_text

    last = history[-1] if history else {}
    condition = ("one-hot emotion (" + ", ".join(EMOTIONS) + ")" if cfg.kind == "emotion"
                 else "VAD vector in [-1, 1]^3")
    lines = [
        f"# Model card: moodshift affect generator ({cfg.kind})", "",
        f"- Weights: `{WEIGHTS_NAME}` ({size:,} bytes), sha256 `{sha256}`",
        f"- Config: `affect.json`; {n_params:,} parameters; noise {cfg.z_dim}-d; "
        f"output {cfg.image_size}x{cfg.image_size} "
        f"{'grey (as RGB)' if cfg.kind == 'emotion' else 'RGB'}",
        f"- Condition: {condition}",
        f"- Trained against (frozen): {config['trained_against']}; no image data set, "
        "no discriminator",
        f"- Loss: target + {cfg.diversity_weight} x mode-seeking (Mao et al. 2019) + "
        f"{cfg.tv_weight} x total variation + {cfg.saturation_weight} x mean squared "
        f"pre-sigmoid output; Adam lr {cfg.lr} (cosine decay), betas (0.5, 0.999), "
        f"gradient norm clipped at {cfg.clip_grad}",
        f"- Steps: {config['steps']} of {cfg.batch} conditions x 2 noises; "
        f"{last.get('seconds', 0):.0f} s in the last session", "",
        "## Commands", ""] + [f"    {c}" for c in config["commands"] if c] + [""]
    if last:
        lines += ["## Last training batches", "",
                  f"target loss {last['target_loss']:.4f}, trained-against agreement "
                  f"{last['agreement']:.3f}, mode-seeking {last['diversity_loss']:.3f}, "
                  f"TV {last['tv']:.4f}", ""]
    if report is not None:
        lines += ["## Judged samples (report.md)", "", "Mean agreement per judge: " +
                  ", ".join(f"{k} {v:.3f}" for k, v in report["mean_agreement"].items()), "",
                  _without_title((out / "report.md").read_text())
                  if (out / "report.md").exists() else ""]
    lines += ["## Limits", "",
              "- Images are whatever makes the frozen model agree: they need not look like faces "
              "or like the emotion to a person. Agreement by an independent judge measures how "
              "much of that transfers beyond the model trained against.",
              "- Diversity is a pixel-space proxy (see moodshift/generate/affect/report.py)."]
    atomic_write_text(out / "MODEL_CARD.md", "\n".join(lines) + "\n")


def _without_title(markdown: str) -> str:
    lines = markdown.splitlines()
    return "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines)
