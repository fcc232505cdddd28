"""EfficientNet-Lite0's ImageNet features as a perceptual-loss backbone.

The network is the mood model's port (moodshift.mood.backbone; weights from ``models pull`` as
``efficientnet-lite0``), here read layer by layer instead of pooled. Named layers, chosen to
mirror the MobileNet backbone's (one texture layer per resolution, each the widest ReLU6
activation there):

    conv0       stem output, 1/2 resolution, 32 channels
    b1_expand   block 1's expansion (input of stage 2): 1/2, 96 channels
    b3_expand   stage 3's first expansion: 1/4, 144 channels
    b5_expand   stage 4's first expansion: 1/8, 240 channels
    b11_expand  stage 6's first expansion: 1/16, 672 channels

Content: b5_expand (1/8, like MobileNet's b6_expand). Input RGB 0..1 is scaled to the weights'
(x - 127) / 128 inside. Batch norm uses its stored ImageNet statistics (eval mode).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from moodshift.style.backbones.base import Backbone

STORE_NAME = "efficientnet-lite0"
CONTENT_LAYERS = ("b5_expand",)
STYLE_LAYERS = ("conv0", "b1_expand", "b3_expand", "b5_expand", "b11_expand")
# For the optimize engine: the MobileNet backbone's balance carried over by measured size. On
# 160 px portraits against the procedural styles, this network's content loss is ~12x and its
# style loss ~8x MobileNet's, so style/content gets ~1.5x MobileNet's ratio of 20 at a tenth
# of its content weight (docs/trained-style.md).
WEIGHTS = {"content": 1e3, "style": 3e4, "tv": 1e-2}


class EfficientNetFeatures(Backbone):
    """Frozen EfficientNet-Lite0 layers by name (see the module docstring)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.name = "efficientnet"
        self.content_layers = CONTENT_LAYERS
        self.style_layers = STYLE_LAYERS
        self.default_weights = dict(WEIGHTS)
        self.net = net
        self.freeze()

    def features(self, x: torch.Tensor, wanted: tuple[str, ...]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        y = self.net.stem(x * (255.0 / 128.0) - (127.0 / 128.0))
        if "conv0" in wanted:
            out["conv0"] = y
        for i, block in enumerate(self.net._blocks):
            if len(out) == len(wanted):
                break
            expanded = block.expanded(y)
            if f"b{i}_expand" in wanted:
                out[f"b{i}_expand"] = expanded
            y = block.finish(y, expanded)
        return out


@lru_cache(maxsize=1)
def load_efficientnet() -> EfficientNetFeatures:
    """The frozen EfficientNet-Lite0 backbone (one instance per process); needs
    ``moodshift models pull efficientnet-lite0``."""
    from moodshift.models.store import load_tensors
    from moodshift.mood.backbone import build

    return EfficientNetFeatures(build(load_tensors(STORE_NAME)))
