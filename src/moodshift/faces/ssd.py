"""face-api's SSD MobileNetV1 face detector, ported to PyTorch.

Pipeline (as face-api's ``SsdMobilenetv1.locateFaces`` with an image tensor): zero-pad the image
to a square at the bottom/right, TF-bilinear resize to 512x512, scale to [-1, 1], MobileNetV1
(depthwise + pointwise convs, ReLU6) and six box predictors (5118 anchors), decode with the
anchors and variances (10, 10, 5, 5), sigmoid face score, greedy NMS (IoU 0.5, score > 0.5).
Weights: ``faceapi-ssd`` from the model cache (see moodshift.models.faceapi_source).
"""

from __future__ import annotations

import numpy as np
import torch

from moodshift.faces.base import Detection
from moodshift.faces.crops import square_input
from moodshift.faces.tflayers import Conv, Tensors, depthwise_filter, nhwc_to_nchw, tensor

NAME = "faceapi-ssd"
INPUT_SIZE = 512
BN_EPSILON = 0.0010000000474974513
VARIANCES = (10.0, 10.0, 5.0, 5.0)
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
    """The network: image batch (n, 3, 512, 512) in [-1, 1] -> box encodings and face logits."""

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
        self.anchors = np.asarray(t["Output/extra_dim"], dtype=np.float32).reshape(-1, 4)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, A, 4) box encodings (ty, tx, th, tw) and (n, A) face logits, A = 5118."""
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
        return torch.cat(boxes, 1), torch.cat(logits, 1)


def decode_boxes(anchors: np.ndarray, enc: np.ndarray) -> np.ndarray:
    """Anchor-relative encodings -> (A, 4) ymin, xmin, ymax, xmax in the padded square's [0, 1]."""
    size = anchors[:, 2:] - anchors[:, :2]
    centre = anchors[:, :2] + size / 2
    v = np.asarray(VARIANCES, dtype=np.float32)
    half = np.exp(enc[:, 2:] / v[2:]) * size / 2
    mid = enc[:, :2] / v[:2] * size + centre
    return np.concatenate([mid - half, mid + half], axis=1)


def iou_one_to_many(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    def area(b: np.ndarray) -> np.ndarray:
        return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    lo = np.maximum(box[:2], others[:, :2])
    hi = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    union = area(box) + area(others) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, min_score: float,
        max_results: int) -> list[int]:
    """Greedy non-maximum suppression over scores > min_score, best first (face-api's rule)."""
    order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > min_score]
    keep: list[int] = []
    for i in order:
        if len(keep) >= max_results:
            break
        if not keep or iou_one_to_many(boxes[i], boxes[keep]).max() <= iou_threshold:
            keep.append(i)
    return keep


class SsdFaceDetector:
    """FaceDetector backed by face-api's SSD MobileNetV1 (weights loaded once, at construction)."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None, min_score: float = 0.5,
                 iou_threshold: float = 0.5, max_results: int = 100) -> None:
        if tensors is None:
            from moodshift.models.store import load_tensors
            tensors = load_tensors(NAME)
        self.net = SsdNet(tensors)
        self.min_score, self.iou_threshold, self.max_results = min_score, iou_threshold, max_results

    def network_input(self, image: np.ndarray) -> torch.Tensor:
        """(1, 3, 512, 512): padded bottom/right to a square, resized, x / 127.5 - 1."""
        square = square_input(image, INPUT_SIZE, centre=False)
        return nhwc_to_nchw(square[None] / np.float32(127.5) - np.float32(1.0))

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All 5118 decoded boxes (ymin, xmin, ymax, xmax; padded-square [0, 1]) and scores."""
        with torch.inference_mode():
            enc, logits = self.net(self.network_input(image))
        boxes = decode_boxes(self.net.anchors, enc[0].numpy())
        return boxes, torch.sigmoid(logits[0]).numpy()

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image as pixel boxes clipped to the image, best first."""
        height, width = image.shape[:2]
        side = max(height, width)
        boxes, scores = self.raw(image)
        found: list[Detection] = []
        for i in nms(boxes, scores, self.iou_threshold, self.min_score, self.max_results):
            ymin, xmin, ymax, xmax = np.clip(boxes[i], 0.0, 1.0) * side
            x0, y0 = min(round(float(xmin)), width), min(round(float(ymin)), height)
            x1, y1 = min(round(float(xmax)), width), min(round(float(ymax)), height)
            if x1 > x0 and y1 > y0:
                found.append(Detection((x0, y0, x1 - x0, y1 - y0), float(scores[i])))
        return found
