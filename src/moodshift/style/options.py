"""The names of the stylize engines and of their options: one home for the choices that the
library validates and the front ends offer."""

from __future__ import annotations

from moodshift.training.precision import PRECISIONS

__all__ = ["BACKBONES", "BACKBONE_CHOICES", "ENGINES", "ENGINE_OPTIONS", "INITS", "OPTIMIZERS",
           "PRECISIONS"]

ENGINES = ("fast", "optimize", "trained")
# Which stylize options each engine takes (the command line refuses the others).
ENGINE_OPTIONS: dict[str, tuple[str, ...]] = {
    "fast": (),
    "optimize": ("steps", "size", "backbone", "optimizer", "time_budget", "init", "vgg_weights"),
    "trained": ("model", "size"),
}
BACKBONES = ("vgg19", "vgg16", "mobilenet", "efficientnet")
BACKBONE_CHOICES = BACKBONES + ("auto",)
OPTIMIZERS = ("auto", "adam", "nadam", "lbfgs")
INITS = ("content", "noise")
