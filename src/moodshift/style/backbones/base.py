"""What every backbone is: a frozen feature extractor with its layers and loss weights."""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass

import torch

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
