"""The ``optimize`` style engine: Gatys et al. (2016) image optimisation, coarse to fine.

``moodshift stylize IMG --engine optimize [--steps N] [--size PX] [--backbone ...]`` reaches
``stylize_optimize`` through style.stylize_image, which applies strength, colour preservation
and the grade afterwards. The losses (style/losses.py) and backbones (style/backbones/) are
shared with ``moodshift train style``.

How a run goes: the photo is scaled so its longer side is ``size``; a pyramid of levels halves
it down to ~128 px. Optimisation starts at the coarsest level (from the content or from noise)
and each level's result, upsampled, starts the next, so the expensive full-size steps only
refine detail. Several style images (an emotion blend) each add their weighted Gram loss.
The image is optimised as full-size luminance plus half-size colour (optimize_image.py), and
shifted by a random pixel or two each step, which together remove the colour speckle of the
MobileNet backbone (before/after sheets in docs/images/optimize_*.png).

Speed (docs/optimize.md, bench/bench_optimize.py): Adam with a warm-up and a cosine learning-rate
decay inside each level converges far faster than the seed's heavy-momentum Nadam; the last 30 %
of each level's steps are not shifted, so the low-rate end of a level converges without the
shift's noise. The backbone can run in bfloat16 (``precision``), the Gram matrices and losses
staying float32; the default is fp32, which reached a given loss sooner here.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from moodshift.errors import UserError
from moodshift.style.backbones import Backbone, load_backbone
from moodshift.style.engines.optimize_image import ImageParameter
from moodshift.style.engines.optimize_schedule import cosine_lr, level_steps, pyramid, work_size
from moodshift.style.engines.optimize_settings import (
    MIN_STYLE_SIDE,
    OptimizeSettings,
    parse_options,
)
from moodshift.style.losses import content_loss, gram, style_loss, tv_loss
from moodshift.training.precision import use_bf16
from moodshift.training.run import memory_available

# TV is a sum over pixels; its weight is meant at the seed's 512x512 working size and scaled by
# 512² / pixels elsewhere so that one weight gives the same smoothing at every size.
TV_REFERENCE_PIXELS = 512 * 512
# Peak memory per working pixel (forward activations kept for backward, their gradients and the
# optimiser state): the ru_maxrss difference between 256 and 512 px runs was ~1.75 KB/px for
# mobilenet and ~2.25 KB/px for vgg19; rounded up for the jitter cache and the pyramid.
BYTES_PER_PIXEL = {"mobilenet": 2_500, "efficientnet": 2_500, "vgg16": 2_800, "vgg19": 3_000}
BASE_BYTES = 600 * 2**20
# A front end that shows progress or offers a cancel button sets this in the thread running the
# optimisation: it is called after every step with (steps done, steps planned), and an exception
# it raises ends the run (the web studio's optimize jobs).
STEP_LISTENER: ContextVar[Callable[[int, int], None] | None] = ContextVar(
    "moodshift_optimize_step_listener", default=None)


@dataclass
class LossParts:
    content: float
    style: float
    tv: float
    total: float


@dataclass
class OptimizeResult:
    """What a run did: for the engine's log, the benchmark and tests."""

    backbone: str
    levels: list[tuple[int, int]]
    steps_done: int
    seconds: float
    stopped_by_budget: bool
    final: LossParts
    history: list[tuple[float, int, float]] = field(default_factory=list)  # (s, level, total)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def to_tensor(image: np.ndarray, size: tuple[int, int] | None = None) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, h, w) float 0..1, resized (Lanczos) to size=(h, w) if given."""
    if size is not None and tuple(image.shape[:2]) != tuple(size):
        image = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.LANCZOS))
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255.0


def to_uint8(x: torch.Tensor, size: tuple[int, int] | None = None) -> np.ndarray:
    arr = (x[0].detach().clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    if size is not None and tuple(arr.shape[:2]) != tuple(size):
        arr = np.asarray(Image.fromarray(arr).resize((size[1], size[0]), Image.LANCZOS))
    return arr


def memory_needed(size: tuple[int, int], backbone: str) -> int:
    return BASE_BYTES + size[0] * size[1] * BYTES_PER_PIXEL.get(backbone, 3_000)


def check_memory(size: tuple[int, int], backbone: str) -> None:
    need, have = memory_needed(size, backbone), memory_available()
    if have is not None and need > have:
        raise UserError(f"--size {max(size)}: optimising {size[1]}x{size[0]} px with {backbone} "
                        f"needs about {need / 2**30:.1f} GB of memory, {have / 2**30:.1f} GB is "
                        "available; use a smaller --size")


def check_styles(styles: Sequence[tuple[np.ndarray, float]]) -> None:
    if not styles:
        raise UserError("the optimize engine needs at least one style image")
    for i, (img, weight) in enumerate(styles, 1):
        arr = np.asarray(img)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise UserError(f"style image {i}: expected RGB uint8 (H, W, 3), got {arr.dtype} "
                            f"{arr.shape}")
        if min(arr.shape[:2]) < MIN_STYLE_SIDE:
            raise UserError(f"style image {i} is too small ({arr.shape[1]}x{arr.shape[0]} px); "
                            f"it needs at least {MIN_STYLE_SIDE} px on its shorter side")
        if not weight >= 0:
            raise UserError(f"style image {i}: weight must be non-negative, got {weight}")
    if sum(w for _, w in styles) <= 0:
        raise UserError("style weights must not all be zero")


class Objective:
    """Total Gatys loss of an image at one pyramid level.

    With bf16 the backbone's forward (and so its backward) runs under bfloat16 autocast; its
    features are cast back to float32 before the Gram matrices and losses, and the targets
    (photo features, painting Grams) and ``evaluate`` are always float32.
    """

    def __init__(self, backbone: Backbone, content: torch.Tensor,
                 styles: Sequence[tuple[np.ndarray, float]], weights: Mapping[str, float],
                 jitter: int = 0, seed: int = 0, bf16: bool = False) -> None:
        self.backbone = backbone
        self.bf16 = bf16
        self.weights = dict(weights)
        self.size = tuple(content.shape[-2:])
        self.tv_scale = TV_REFERENCE_PIXELS / float(self.size[0] * self.size[1])
        self.jitter = jitter
        self.shift = (0, 0)
        self.rng = np.random.default_rng(seed)
        self.content = content
        self._shift_cache: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
        with torch.no_grad():
            self.content_feats = {k: v for k, v in backbone(content).items()
                                  if k in backbone.content_layers}
            total = sum(w for _, w in styles)
            self.style_targets = []
            for img, w in styles:
                if w <= 0:
                    continue
                h, wd = img.shape[:2]
                scale = max(self.size) / max(h, wd)  # strokes keep their size relative to the photo
                side = (max(MIN_STYLE_SIDE // 2, round(h * scale)),
                        max(MIN_STYLE_SIDE // 2, round(wd * scale)))
                feats = backbone(to_tensor(img, side))
                grams = {k: gram(feats[k])[0] for k in backbone.style_layers}
                self.style_targets.append((grams, w / total))

    def draw_shift(self) -> None:
        """Pick this step's random shift. Once per step, not per loss evaluation: L-BFGS's line
        search evaluates several times per step and needs the same function each time."""
        self.shift = (0, 0) if not self.jitter else tuple(
            int(v) for v in self.rng.integers(-self.jitter, self.jitter + 1, size=2))  # type: ignore

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, LossParts]:
        shifted, content_feats = x, self.content_feats
        dy, dx = self.shift
        if self.jitter and (dy or dx):  # shift both images alike: the content target stays aligned
            shifted = torch.roll(x, (dy, dx), dims=(2, 3))
            content_feats = self._shifted_content(dy, dx)
        feats = self._features(shifted)
        c = content_loss(feats, content_feats, self.backbone.content_layers)
        s = sum(w * style_loss(feats, grams, self.backbone.style_layers)
                for grams, w in self.style_targets)
        t = tv_loss(x) * self.tv_scale
        total = self.weights["content"] * c + self.weights["style"] * s + self.weights["tv"] * t
        return total, LossParts(*(float(v.detach()) for v in (c, s, t, total)))

    def _features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if not self.bf16:
            return self.backbone(x)
        # channels-last: oneDNN's bf16 convolutions are ~1.4x faster than fp32 in that layout
        # and slower than fp32 in the default one (measured at 256 and 512 px, docs/optimize.md)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            feats = self.backbone(x.contiguous(memory_format=torch.channels_last))
        return {k: v.float() for k, v in feats.items()}

    def _shifted_content(self, dy: int, dx: int) -> dict[str, torch.Tensor]:
        # At most (2 jitter + 1)² shifts: computed once each, then reused.
        if (dy, dx) not in self._shift_cache:
            with torch.no_grad():
                self._shift_cache[(dy, dx)] = self.backbone.features(
                    torch.roll(self.content, (dy, dx), dims=(2, 3)),
                    self.backbone.content_layers)
        return self._shift_cache[(dy, dx)]

    def evaluate(self, x: torch.Tensor) -> LossParts:
        """The loss without jitter (for reports and benchmarks)."""
        jitter, bf16, self.jitter, self.bf16 = self.jitter, self.bf16, 0, False
        try:
            with torch.no_grad():
                return self(x)[1]
        finally:
            self.jitter, self.bf16 = jitter, bf16


def _optimizer(name: str, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    if name == "lbfgs":
        return torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=20,
                                 line_search_fn="strong_wolfe")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    # The seed's Adam settings (beta1 0.99, eps 0.1) with Nesterov momentum (Nadam).
    return torch.optim.NAdam(params, lr=lr, betas=(0.99, 0.999), eps=1e-1)


def optimize_image(image: np.ndarray, styles: Sequence[tuple[np.ndarray, float]],
                   settings: OptimizeSettings, backbone: Backbone | None = None,
                   progress: bool = True, record_every: int = 0,
                   stop_at_loss: float | None = None,
                   max_seconds: float | None = None) -> tuple[np.ndarray, OptimizeResult]:
    """Stylise `image` by optimisation; returns the result at working size and a report.

    record_every > 0 records the full loss (without jitter) every that many steps in the
    report's history; with stop_at_loss the run ends once a recorded loss at the full size is
    at or below it (the benchmark's time-to-loss measurement); max_seconds is a hard stop
    (measuring time excluded), unlike time_budget which is shared out over the levels.
    """
    check_styles(styles)
    if settings.backbone in ("vgg19", "vgg16", "auto") and backbone is None:
        backbone = load_backbone(settings.backbone, settings.vgg_weights)
    elif backbone is None:
        backbone = load_backbone(settings.backbone)
    full = work_size(tuple(image.shape[:2]), settings.size)
    check_memory(full, backbone.name)
    weights = {**backbone.default_weights, **settings.weights}
    optimizer = settings.optimizer_for(backbone.name)
    lr = settings.lr_for(optimizer)
    # L-BFGS builds a curvature model of one fixed function: a shift that changes from step to
    # step breaks it (measured: 2.4x the loss after 12 steps), so it runs without jitter.
    jitter = 0 if optimizer == "lbfgs" else settings.jitter
    levels = pyramid(full, settings)
    levels = levels[-min(len(levels), settings.steps):]  # at least one step per level
    plan = level_steps(settings.steps, len(levels), settings.level_shares)
    costs = [s * h * w for s, (h, w) in zip(plan, levels)]
    torch.manual_seed(settings.seed)
    bf16 = use_bf16(settings.precision)

    from tqdm import tqdm

    started = time.perf_counter()
    history: list[tuple[float, int, float]] = []
    steps_done, stopped, eval_seconds = 0, False, 0.0
    current: torch.Tensor | None = None
    previous_content = torch.zeros(1, 3, 1, 1)  # the last level's photo (set with current)
    parts = LossParts(0.0, 0.0, 0.0, 0.0)
    bar = tqdm(total=settings.steps, desc=f"optimize ({backbone.name})", unit="step",
               disable=not progress, leave=False)
    listener = STEP_LISTENER.get()
    try:
        for li, (size, n_steps) in enumerate(zip(levels, plan)):
            content = to_tensor(image, size)
            objective = Objective(backbone, content, styles, weights, jitter,
                                  settings.seed + li, bf16=bf16)
            if current is None:
                start = (content if settings.init == "content"
                         else torch.rand_like(content) * 0.2 + 0.4)  # grey-ish noise
            elif settings.init == "noise":  # no photo detail: the coarse result, upsampled
                start = F.interpolate(current, size=size, mode="bicubic",
                                      align_corners=False).clamp(0, 1)
            else:  # the coarse result's change to the photo, upsampled, on the photo's detail
                start = (content + F.interpolate(current - previous_content, size=size,
                                                 mode="bicubic", align_corners=False)).clamp(0, 1)
            param = ImageParameter(start, settings.chroma_factor)
            opt = _optimizer(optimizer, list(param.parameters()), lr)
            level_deadline = None
            level_started = time.perf_counter()
            if settings.time_budget is not None:  # split the budget like the planned work
                spent = time.perf_counter() - started
                share = costs[li] / sum(costs[li:])
                level_deadline = started + spent + (settings.time_budget - spent) * share
            for step in range(n_steps):
                now = time.perf_counter()
                if (level_deadline is not None and now >= level_deadline) or (
                        max_seconds is not None and now - started - eval_seconds >= max_seconds):
                    stopped = True
                    break
                progress = step / max(1, n_steps - 1)
                if level_deadline is not None:
                    progress = max(progress, (now - level_started)
                                   / max(1e-9, level_deadline - level_started))
                if optimizer == "adam":  # each level settles at its own low rate
                    for group in opt.param_groups:
                        group["lr"] = cosine_lr(step, n_steps, lr, settings.lr_final, progress)
                # the last steps of a level, at a low rate, converge without the shift's noise
                objective.jitter = jitter if progress < settings.jitter_share else 0
                objective.draw_shift()

                # called by opt.step within this iteration, so the loop variables are current
                def closure() -> torch.Tensor:
                    nonlocal parts
                    opt.zero_grad()  # noqa: B023
                    loss, parts = objective(param())  # noqa: B023
                    loss.backward()
                    return loss

                opt.step(closure)
                param.project()
                steps_done += 1
                bar.update(1)
                if listener is not None:
                    listener(steps_done, settings.steps)
                bar.set_postfix(level=f"{size[1]}x{size[0]}", total=f"{parts.total:.3g}",
                                content=f"{parts.content:.3g}", style=f"{parts.style:.3g}",
                                tv=f"{parts.tv:.3g}", refresh=False)
                if record_every and (step % record_every == 0 or step == n_steps - 1):
                    eval_start = time.perf_counter()  # measuring is not part of the run's time
                    total = objective.evaluate(param.image()).total
                    history.append((eval_start - started - eval_seconds, li, total))
                    eval_seconds += time.perf_counter() - eval_start
                    if stop_at_loss is not None and li == len(levels) - 1 \
                            and total <= stop_at_loss:
                        break
                if not math.isfinite(parts.total):
                    raise UserError("the optimisation diverged (loss is not finite); try "
                                    "--optimizer nadam or fewer --steps")
            current, previous_content = param.image(), content
            final_objective = objective
    except KeyboardInterrupt:
        bar.close()
        raise
    bar.close()
    if settings.time_budget is not None and steps_done < settings.steps:
        stopped = True
    final = final_objective.evaluate(current)
    result = OptimizeResult(backbone=backbone.name, levels=[(w, h) for h, w in levels],
                            steps_done=steps_done,
                            seconds=time.perf_counter() - started - eval_seconds,
                            stopped_by_budget=stopped, final=final, history=history)
    return to_uint8(current), result


def stylize_optimize(image: np.ndarray, styles: list[tuple[np.ndarray, float]],
                     options: Mapping[str, object]) -> np.ndarray:
    """The engine entry point used by style.stylize_image: same size as `image`, uint8 RGB."""
    settings = parse_options(options)
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise UserError(f"expected an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    out, _ = optimize_image(img, styles, settings)
    return to_uint8(to_tensor(out), tuple(img.shape[:2])) if out.shape[:2] != img.shape[:2] \
        else out
