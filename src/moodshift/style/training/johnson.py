"""The feed-forward style transfer network of Johnson, Alahi & Fei-Fei (ECCV 2016).

Layout as in the paper's supplementary material (and seed 001): every conv block is
convolution + instance normalisation + ReLU (Ulyanov et al.'s instance norm, which Johnson's
released code adopted in place of batch norm); a 9x9 stride-1 block, two 3x3 stride-2
downsampling blocks, five residual blocks (two 3x3 convs each, no ReLU after the sum), two
"nearest-neighbour upsample x2 + 3x3 conv" blocks (Odena et al. 2016: avoids the checkerboard
artefacts of transposed convolutions) and a final 9x9 stride-1 conv to RGB.

Widths are ``width`` x (1, 2, 4, 4..., 2, 1): 32 gives the paper's 32/64/128 channels
(1.7 M parameters). A slimmer width (16: 0.42 M parameters) runs about 4x faster, which is what
makes CPU training and sub-second 512 px inference possible on a laptop; the shipped models say
which width they use in their model card.

Input and output are NCHW RGB in 0..1. The output goes through a sigmoid (the paper's scaled
tanh, shifted to 0..1). Padding is reflective (no dark borders). The network is fully
convolutional; height and width should be multiples of 4 (two stride-2 steps), which
``pad_to_multiple`` guarantees.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_WIDTH = 32      # the paper's channel count of the first block
RESIDUAL_BLOCKS = 5
MULTIPLE = 4            # two stride-2 downsamplings


class ConvBlock(nn.Module):
    """Reflection pad + conv (+ instance norm + ReLU unless it is the output layer)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1,
                 norm: bool = True, relu: bool = True) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)
        # affine instance norm: a learnt scale and shift per channel, as in Johnson's code
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    """Two 3x3 conv blocks; the second has no ReLU, and the input is added back."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.a = ConvBlock(channels, channels, 3)
        self.b = ConvBlock(channels, channels, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(self.a(x))


class UpsampleBlock(nn.Module):
    """Nearest-neighbour upsampling x2 followed by a conv block."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.block = ConvBlock(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class TransformerNet(nn.Module):
    """Image in, stylised image out (both NCHW RGB 0..1, same size)."""

    def __init__(self, width: int = DEFAULT_WIDTH) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        self.width = width
        w1, w2, w4 = width, 2 * width, 4 * width
        self.down = nn.Sequential(ConvBlock(3, w1, 9), ConvBlock(w1, w2, 3, stride=2),
                                  ConvBlock(w2, w4, 3, stride=2))
        self.residual = nn.Sequential(*[ResidualBlock(w4) for _ in range(RESIDUAL_BLOCKS)])
        self.up = nn.Sequential(UpsampleBlock(w4, w2), UpsampleBlock(w2, w1))
        self.out = ConvBlock(w1, 3, 9, norm=False, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(self.up(self.residual(self.down(x)))))




def pad_to_multiple(x: torch.Tensor, multiple: int = MULTIPLE) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad an NCHW batch at bottom/right to a multiple; returns it and the original h, w."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if min(h, w) > multiple else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, h, w


def export_onnx(net: TransformerNet, path: Path, fp16: bool = False,
                metadata: dict[str, str] | None = None, atol: float = 2e-3,
                check_side: int = 96) -> Path:
    """Export ``net`` to ONNX with dynamic batch, height and width, atomically.

    The export is checked against torch on a random ``check_side`` image (and on a non-square
    size, to prove the spatial axes really are free) before it is moved into place. With fp16
    the weights are stored as float16 (half the file size) and cast back to float32 inside the
    graph, so the model still takes and returns float32 and computes in float32.
    """
    from moodshift.models.onnx_export import export_module

    net = net.eval()
    axes = {"image": {0: "batch", 2: "height", 3: "width"},
            "stylized": {0: "batch", 2: "height", 3: "width"}}
    shapes = [[(1, 3, check_side, check_side)], [(1, 3, check_side // 2, check_side + 4)]]
    return export_module(net, torch.rand(1, 3, 64, 64), Path(path), True,
                         input_names=["image"], output_names=["stylized"], atol=atol,
                         dynamic_axes=axes, check_shapes=shapes,
                         finish=lambda tmp: _finish_graph(tmp, fp16, metadata or {}),
                         # what the fp16 file computes, for the check
                         reference=_rounded_copy(net) if fp16 else net)


def _rounded_copy(net: TransformerNet) -> TransformerNet:
    """A copy of net whose floating-point weights went through float16 and back."""
    import copy

    twin = copy.deepcopy(net)
    with torch.no_grad():
        for p in twin.parameters():
            p.copy_(p.half().float())
    return twin.eval()


def _finish_graph(path: Path, fp16: bool, metadata: dict[str, str]) -> None:
    """Add metadata to an exported ONNX file and optionally store its weights as float16."""
    import onnx

    model = onnx.load(str(path))
    if fp16:
        _weights_to_fp16(model.graph)
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = str(key), str(value)
    onnx.save(model, str(path))


def _weights_to_fp16(graph) -> None:
    """Rewrite a graph's float32 initializers as float16 + a Cast node back to float32."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    casts = []
    kept = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or len(init.dims) == 0:
            kept.append(init)
            continue
        arr = numpy_helper.to_array(init)
        half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name],
                                      to=onnx.TensorProto.FLOAT, name=init.name + "_cast"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
