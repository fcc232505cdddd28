"""face-api's Tiny Face Detector (a Tiny-YOLOv2 with separable convs), ported to PyTorch.

Pipeline (as face-api's ``TinyFaceDetector.locateFaces``): zero-pad the image to a square at the
bottom/right, TF-bilinear resize to ``input_size`` (a multiple of 32, default 416),
``(rgb - [117.001, 114.697, 97.404]) / 255``; a VALID 3x3 conv, five separable convs with 2x2
max pools, all with leaky ReLU (0.1), and a 1x1 conv to a 13x13 grid x 5 anchors x
(tx, ty, tw, th, score); decode YOLO-style, keep score > 0.5, greedy NMS at IoU 0.4.
Weights: ``faceapi-tiny`` from the model cache.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.faces.base import Detection
from moodshift.faces.crops import square_input
from moodshift.faces.ssd import nms
from moodshift.faces.tflayers import (SeparableConv, Tensors, load_conv, max_pool_same,
                                      nhwc_to_nchw)

NAME = "faceapi-tiny"
MEAN_RGB = (117.001, 114.697, 97.404)
ANCHORS = np.array([(1.603231, 2.094468), (6.041143, 7.080126), (2.882459, 3.518061),
                    (4.266906, 5.178857), (9.041765, 10.66308)], dtype=np.float64)
IOU_THRESHOLD = 0.4
LEAK = 0.10000000149011612


class TinyNet:
    """(n, 3, s, s) normalised input -> (n, s/32, s/32, 5 anchors, 5) raw predictions."""

    def __init__(self, t: Tensors) -> None:
        self.conv0 = load_conv(t, "conv0")     # face-api runs this one with VALID padding
        self.seps = [SeparableConv.load(t, f"conv{i}") for i in range(1, 6)]
        self.head = load_conv(t, "conv8")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(F.conv2d(x, self.conv0.weight, self.conv0.bias), LEAK)
        out = max_pool_same(out, 2, 2)
        for i, sep in enumerate(self.seps):
            out = F.leaky_relu(sep(out), LEAK)
            out = max_pool_same(out, 2, 2 if i < 4 else 1)
        out = self.head(out).permute(0, 2, 3, 1)
        return out.reshape(out.shape[0], out.shape[1], out.shape[2], len(ANCHORS), 5)


def decode(pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells, cells, anchors, 5) -> boxes (k, 4: x0, y0, x1, y1 in the padded square's [0, 1])
    and scores (k,), one per cell and anchor."""
    cells = pred.shape[0]
    pred = pred.astype(np.float64)
    sig = 1.0 / (1.0 + np.exp(-pred[..., [0, 1, 4]]))
    row, col = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    cx = (col[..., None] + sig[..., 0]) / cells
    cy = (row[..., None] + sig[..., 1]) / cells
    w = np.exp(pred[..., 2]) * ANCHORS[:, 0] / cells
    h = np.exp(pred[..., 3]) * ANCHORS[:, 1] / cells
    x0, y0 = cx - w / 2, cy - h / 2
    boxes = np.stack([x0, y0, x0 + w, y0 + h], axis=-1).reshape(-1, 4)
    return boxes, sig[..., 2].reshape(-1)


class TinyFaceDetector:
    """FaceDetector backed by face-api's Tiny Face Detector (faster, less accurate than SSD)."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None, input_size: int = 416,
                 min_score: float = 0.5) -> None:
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {input_size}")
        if tensors is None:
            from moodshift.models.store import load_tensors
            tensors = load_tensors(NAME)
        self.net = TinyNet(tensors)
        self.input_size, self.min_score = input_size, min_score

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All decoded boxes (x0, y0, x1, y1; padded-square [0, 1]) and their scores."""
        square = square_input(image, self.input_size, centre=False)
        x = nhwc_to_nchw((square[None] - np.asarray(MEAN_RGB, np.float32)) / np.float32(255))
        with torch.inference_mode():
            pred = self.net(x)[0].numpy()
        return decode(pred)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image as pixel boxes clipped to the image, best first."""
        height, width = image.shape[:2]
        side = max(height, width)
        boxes, scores = self.raw(image)
        found: list[Detection] = []
        for i in nms(boxes, scores, IOU_THRESHOLD, self.min_score, len(scores)):
            x0, y0, x1, y1 = (float(v) * side for v in boxes[i])
            bx0, by0 = min(max(round(x0), 0), width), min(max(round(y0), 0), height)
            bx1, by1 = min(max(round(x1), 0), width), min(max(round(y1), 0), height)
            if bx1 > bx0 and by1 > by0:
                found.append(Detection((bx0, by0, bx1 - bx0, by1 - by0), float(scores[i])))
        return found
