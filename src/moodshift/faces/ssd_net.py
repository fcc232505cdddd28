"""The PyTorch port of face-api's SSD MobileNetV1 network (torch; see moodshift.faces.ssd).

Only used to export the ONNX model (``moodshift models pull``) and as the fallback when that
export is missing; inference code imports it lazily through moodshift.models.runtime.
"""

from __future__ import annotations

import torch

from moodshift.faces.tflayers import Conv, Tensors, depthwise_filter, tensor

BN_EPSILON = 0.0010000000474974513
DOWNSAMPLE_AT = (2, 4, 6, 12)          # MobileNet layers whose depthwise conv has stride 2


def _pointwise(t: Tensors, prefix: str, idx: int, stride: int) -> Conv:
    """face-api's "pointwise conv layer": conv (1x1 or 3x3) + folded BN offset, then ReLU6."""
    return Conv.from_tf(tensor(t, f"{prefix}/Conv2d_{idx}_pointwise/weights"),
                        tensor(t, f"{prefix}/Conv2d_{idx}_pointwise/convolution_bn_offset"),
                        stride)


def _depthwise_bn(t: Tensors, idx: int, stride: int) -> Conv:
    """Depthwise 3x3 conv with its batch norm folded into the filter and a bias."""
    p = f"MobilenetV1/Conv2d_{idx}_depthwise"
    gamma, beta = tensor(t, f"{p}/BatchNorm/gamma"), tensor(t, f"{p}/BatchNorm/beta")
    mean, var = tensor(t, f"{p}/BatchNorm/moving_mean"), tensor(t, f"{p}/BatchNorm/moving_variance")
    scale = gamma / torch.sqrt(var + BN_EPSILON)
    weight = depthwise_filter(tensor(t, f"{p}/depthwise_weights")) * scale.view(-1, 1, 1, 1)
    return Conv(weight, beta - mean * scale, stride, groups=int(weight.shape[0]))


class SsdNet:
    """(n, 3, 512, 512) in [-1, 1] -> box encodings, face logits and the (constant) anchors."""

    def __init__(self, t: Tensors) -> None:
        self.conv0 = _pointwise(t, "MobilenetV1", 0, 2)
        self.pairs = [(_depthwise_bn(t, i, 2 if i in DOWNSAMPLE_AT else 1),
                       _pointwise(t, "MobilenetV1", i, 1)) for i in range(1, 14)]
        self.extra = [_pointwise(t, "Prediction", i, 2 if i % 2 else 1) for i in range(8)]
        self.predictors = [
            (Conv.from_tf(tensor(t, f"Prediction/BoxPredictor_{i}/BoxEncodingPredictor/weights"),
                          tensor(t, f"Prediction/BoxPredictor_{i}/BoxEncodingPredictor/biases")),
             Conv.from_tf(tensor(t, f"Prediction/BoxPredictor_{i}/ClassPredictor/weights"),
                          tensor(t, f"Prediction/BoxPredictor_{i}/ClassPredictor/biases")))
            for i in range(6)]
        self.anchors = tensor(t, "Output/extra_dim").reshape(-1, 4)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(n, A, 4) box encodings (ty, tx, th, tw), (n, A) face logits and (n, A, 4) anchors
        (ymin, xmin, ymax, xmax), A = 5118. The anchors (constant) ride along as an output so
        the ONNX file is all the detector needs."""
        out = self.conv0(x).clamp_(0, 6)
        conv11 = out
        for i, (dw, pw) in enumerate(self.pairs, start=1):
            out = pw(dw(out).clamp_(0, 6)).clamp_(0, 6)
            if i == 11:
                conv11 = out
        feats = [conv11, out]
        y = out
        for i, layer in enumerate(self.extra):
            y = layer(y).clamp_(0, 6)
            if i % 2:
                feats.append(y)
        n = x.shape[0]
        boxes, logits = [], []
        for feat, (box_conv, cls_conv) in zip(feats, self.predictors):
            boxes.append(box_conv(feat).permute(0, 2, 3, 1).reshape(n, -1, 4))
            logits.append(cls_conv(feat).permute(0, 2, 3, 1).reshape(n, -1, 3)[:, :, 1])
        return torch.cat(boxes, 1), torch.cat(logits, 1), self.anchors.expand(n, -1, -1)


def build(tensors: Tensors) -> SsdNet:
    return SsdNet(tensors)
