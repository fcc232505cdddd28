"""The optimised image's parameterisation: luminance at full size, colour at a coarser one.

Gram losses on the MobileNet backbone leave high-frequency *colour* speckle: its first conv has
stride 2, so pixel-scale colour alternations are barely seen by the features and nothing holds
them back. Optimising chroma (Cb, Cr of JPEG's YCbCr) at 1/chroma_factor resolution, upsampled
bilinearly, makes such speckle unrepresentable while brush strokes, which live mostly in the
luminance, stay full resolution (the trick JPEG plays on the eye, used here on the optimiser).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R BT.601 full-range RGB <-> YCbCr (as JPEG), rows: Y, Cb, Cr.
_RGB_TO_YCC = torch.tensor([[0.299, 0.587, 0.114],
                            [-0.168736, -0.331264, 0.5],
                            [0.5, -0.418688, -0.081312]])
_YCC_TO_RGB = torch.linalg.inv(_RGB_TO_YCC)


def rgb_to_ycc(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YCC.to(x), x)


def ycc_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _YCC_TO_RGB.to(x), x)


class ImageParameter(torch.nn.Module):
    """An RGB image (1, 3, H, W) in 0..1 made from trainable luma and (coarser) chroma."""

    def __init__(self, rgb: torch.Tensor, chroma_factor: int = 1) -> None:
        super().__init__()
        self.size = tuple(rgb.shape[-2:])
        self.factor = max(1, int(chroma_factor))
        if self.factor == 1:
            # contiguous: L-BFGS flattens gradients with view(), which strided tensors refuse
            self.rgb = torch.nn.Parameter(rgb.clone(memory_format=torch.contiguous_format))
            return
        ycc = rgb_to_ycc(rgb)
        h, w = self.size
        small = (max(1, -(-h // self.factor)), max(1, -(-w // self.factor)))
        self.luma = torch.nn.Parameter(ycc[:, :1].clone(memory_format=torch.contiguous_format))
        self.chroma = torch.nn.Parameter(F.interpolate(ycc[:, 1:], size=small, mode="area")
                                         .contiguous())

    def forward(self) -> torch.Tensor:
        if self.factor == 1:
            return self.rgb
        chroma = F.interpolate(self.chroma, size=self.size, mode="bilinear", align_corners=False)
        return ycc_to_rgb(torch.cat([self.luma, chroma], dim=1)).clamp(0.0, 1.0)

    @torch.no_grad()
    def project(self) -> None:
        """Keep the parameters in range after an optimiser step (the seed clipped to 0..1)."""
        if self.factor == 1:
            self.rgb.clamp_(0.0, 1.0)
        else:
            self.luma.clamp_(0.0, 1.0)
            self.chroma.clamp_(-0.5, 0.5)

    @torch.no_grad()
    def image(self) -> torch.Tensor:
        return self.forward().clamp(0.0, 1.0)
