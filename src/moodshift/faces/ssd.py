"""face-api's SSD MobileNetV1 face detector (network: ONNX via onnxruntime, or the PyTorch port).

Pipeline (as face-api's ``SsdMobilenetv1.locateFaces`` with an image tensor): zero-pad the image
to a square at the bottom/right, TF-bilinear resize to 512x512, scale to [-1, 1], MobileNetV1
(depthwise + pointwise convs, ReLU6) and six box predictors (5118 anchors), decode with the
anchors and variances (10, 10, 5, 5), sigmoid face score, greedy NMS (IoU 0.5, score > 0.5).
Weights: ``faceapi-ssd`` from the model cache (see moodshift.models.sources.faceapi); the network
runs through moodshift.models.runtime (PyTorch port: moodshift.faces.ssd_net), the rest is numpy.
"""

from __future__ import annotations

import numpy as np

from moodshift.faces.base import Detection
from moodshift.faces.crops import square_input, to_nchw
from moodshift.models.runtime import Tensors, load_net, sigmoid

NAME = "faceapi-ssd"
INPUT_SIZE = 512
VARIANCES = (10.0, 10.0, 5.0, 5.0)


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
                 iou_threshold: float = 0.5, max_results: int = 100, backend: str = "auto") -> None:
        self.net = load_net(NAME, tensors, backend)
        self.min_score, self.iou_threshold, self.max_results = min_score, iou_threshold, max_results

    def network_input(self, image: np.ndarray) -> np.ndarray:
        """(1, 3, 512, 512) float32: padded bottom/right to a square, resized, x / 127.5 - 1."""
        square = square_input(image, INPUT_SIZE, centre=False)
        return to_nchw(square[None] / np.float32(127.5) - np.float32(1.0))

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All 5118 decoded boxes (ymin, xmin, ymax, xmax; padded-square [0, 1]) and scores."""
        enc, logits, anchors = self.net(self.network_input(image))
        return decode_boxes(anchors[0], enc[0]), sigmoid(logits[0])

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
