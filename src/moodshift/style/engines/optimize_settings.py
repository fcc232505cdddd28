"""Settings of the optimize engine: defaults, and validation of the options a user passes.

``moodshift stylize --engine optimize`` hands over only the options the user set (steps, size,
backbone, optimizer, time_budget, init, vgg_weights, precision); everything else keeps the
defaults below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

from moodshift.errors import UserError
from moodshift.style.options import BACKBONE_CHOICES, INITS, OPTIMIZERS, PRECISIONS

# Starting learning rate per optimizer when the user sets none: adam decays it (cosine) within
# each level; nadam is the seed's loop, constant 0.02; lbfgs takes whole line-searched steps.
DEFAULT_LR = {"adam": 0.05, "nadam": 0.02, "lbfgs": 1.0}
MIN_SIZE, MAX_SIZE = 64, 8192
MIN_STYLE_SIDE = 64


@dataclass
class OptimizeSettings:
    """Everything that decides an optimisation run (see docs/optimize.md for the reasons)."""

    steps: int = 300            # total steps over all scales
    size: int = 512             # longer side the image is optimised at (never above the photo's,
    #                             except that photos smaller than 256 px are worked at 256)
    backbone: str = "auto"      # vgg19 when its weights exist, else mobilenet
    # adam: Adam (β₁ 0.9) with a cosine learning-rate decay inside each level, to lr_final x
    # the starting rate; it reaches the seed's 300-step loss in ~1/4 of the steps. nadam: the
    # seed's loop (β₁ 0.99, ε 0.1, constant lr 0.02), whose heavy momentum oscillates.
    # auto: nadam with VGG (seed 000's settings are the VGG19 defaults), adam with MobileNet.
    optimizer: str = "auto"
    time_budget: float | None = None
    init: str = "content"
    vgg_weights: Path | None = None
    multiscale: bool = True     # coarse-to-fine: levels of halving size down to ~128 px
    coarsest: int = 128
    # Share of the steps spent on each level, coarsest first (the last is the full size);
    # coarse steps are 4x cheaper per halving, so they carry most of the work.
    level_shares: tuple[float, ...] = (0.45, 0.35, 0.20)
    learning_rate: float | None = None  # on the 0..1 image; None: DEFAULT_LR[optimizer]
    lr_final: float = 0.1       # adam: the rate at the end of each level, x the starting rate
    # Backbone forward/backward in bfloat16 (losses and Gram matrices stay float32); auto: bf16
    # where the CPU has native bf16 units (AMX / AVX512-BF16), else fp32. Default fp32: on this
    # AMX CPU bf16 steps are ~1.3x faster but converge worse, so a given loss comes later.
    precision: str = "fp32"
    chroma_factor: int = 2      # colour (CbCr) is optimised at 1/chroma_factor resolution
    jitter: int = 2             # random shift (px) of the image each step, against aliasing
    # Share of each level's steps (the first ones) that are shifted: the last 30 %, at a low
    # learning rate, converge without the shift's noise and bring back no visible speckle.
    jitter_share: float = 0.7
    weights: dict[str, float] = field(default_factory=dict)  # overrides of the backbone's
    seed: int = 0

    def optimizer_for(self, backbone: str) -> str:
        """The optimiser a run with this backbone uses (resolves auto)."""
        if self.optimizer != "auto":
            return self.optimizer
        return "nadam" if backbone.startswith("vgg") else "adam"

    def lr_for(self, optimizer: str) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[optimizer]

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["vgg_weights"] = str(self.vgg_weights) if self.vgg_weights else None
        return data


def _int(options: Mapping[str, object], key: str) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"--{key.replace('_', '-')} {value!r}: must be a whole number")
    return value


def parse_options(options: Mapping[str, object]) -> OptimizeSettings:
    """Validated settings from the user's options (a one-line UserError for a bad value)."""
    known = {"steps", "size", "backbone", "optimizer", "time_budget", "init", "vgg_weights",
             "multiscale", "chroma_factor", "jitter", "weights", "seed", "learning_rate",
             "level_shares", "precision", "lr_final", "jitter_share"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UserError(f"the optimize engine does not take {', '.join(unknown)}")
    s = OptimizeSettings()
    steps = _int(options, "steps")
    if steps is not None:
        if steps <= 0:
            raise UserError(f"--steps {steps}: must be at least 1")
        s.steps = steps
    size = _int(options, "size")
    if size is not None:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise UserError(f"--size {size}: must be between {MIN_SIZE} and {MAX_SIZE} pixels")
        s.size = size
    for key, choices in (("backbone", BACKBONE_CHOICES), ("optimizer", OPTIMIZERS),
                         ("init", INITS), ("precision", PRECISIONS)):
        value = options.get(key)
        if value is not None:
            if value not in choices:
                raise UserError(f"--{key} {value!r}: valid values are {', '.join(choices)}")
            setattr(s, key, value)
    budget = options.get("time_budget")
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
            raise UserError(f"--time-budget {budget!r}: must be a positive number of seconds")
        s.time_budget = float(budget)
    if options.get("vgg_weights") is not None:
        s.vgg_weights = Path(str(options["vgg_weights"]))
        if s.backbone in ("mobilenet", "efficientnet"):
            raise UserError(f"--vgg-weights was given but --backbone is {s.backbone}")
    for key in ("multiscale",):
        if key in options:
            s.multiscale = bool(options[key])
    for key in ("chroma_factor", "jitter", "seed"):
        value = _int(options, key)
        if value is not None:
            if value < (1 if key == "chroma_factor" else 0):
                raise UserError(f"{key} {value}: out of range")
            setattr(s, key, value)
    for key in ("learning_rate", "lr_final", "jitter_share"):
        value = options.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 <= value <= (10 if key == "learning_rate" else 1)) or (
                    key != "jitter_share" and value == 0):
                raise UserError(f"{key} {value!r}: out of range")
            setattr(s, key, float(value))
    if options.get("level_shares") is not None:
        shares = tuple(float(v) for v in options["level_shares"])  # type: ignore[union-attr]
        if not shares or min(shares) < 0 or not sum(shares) > 0:
            raise UserError(f"level_shares {list(shares)}: need non-negative shares, not all 0")
        s.level_shares = shares
    if options.get("weights") is not None:
        weights = dict(options["weights"])  # type: ignore[call-overload]
        bad = sorted(set(weights) - {"content", "style", "tv"})
        if bad:
            raise UserError(f"loss weights: unknown {', '.join(bad)} (content, style, tv)")
        s.weights = {k: float(v) for k, v in weights.items()}
    return s
