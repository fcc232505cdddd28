"""face-api's Tiny Face Detector (a Tiny-YOLOv2 with separable convs).

Pipeline (as face-api's ``TinyFaceDetector.locateFaces``): zero-pad the image to a square at the
bottom/right, TF-bilinear resize to ``input_size`` (a multiple of 32, default 416),
``(rgb - [117.001, 114.697, 97.404]) / 255``; a VALID 3x3 conv, five separable convs with 2x2
max pools, all with leaky ReLU (0.1), and a 1x1 conv to a 13x13 grid x 5 anchors x
(tx, ty, tw, th, score); decode YOLO-style, keep score > 0.5, greedy NMS at IoU 0.4.
Weights: ``faceapi-tiny`` from the model cache; the network runs through moodshift.models.runtime
(ONNX at 416, else the PyTorch port in moodshift.faces.tiny_net), the rest is numpy.
"""

from __future__ import annotations

import numpy as np

from moodshift.errors import UserError
from moodshift.faces.base import Detection
from moodshift.faces.crops import square_input, to_nchw
from moodshift.faces.ssd import nms
from moodshift.models.runtime import NETS, Tensors, load_net, sigmoid

NAME = "faceapi-tiny"
MEAN_RGB = (117.001, 114.697, 97.404)
ANCHORS = np.array([(1.603231, 2.094468), (6.041143, 7.080126), (2.882459, 3.518061),
                    (4.266906, 5.178857), (9.041765, 10.66308)], dtype=np.float64)
IOU_THRESHOLD = 0.4
ONNX_SIZE = NETS[NAME].input_shape[-1]     # the exported network's fixed input size


def decode(pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells, cells, anchors, 5) -> boxes (k, 4: x0, y0, x1, y1 in the padded square's [0, 1])
    and scores (k,), one per cell and anchor."""
    cells = pred.shape[0]
    pred = pred.astype(np.float64)
    sig = sigmoid(pred[..., [0, 1, 4]])
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
                 min_score: float = 0.5, backend: str = "auto") -> None:
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {input_size}")
        if input_size != ONNX_SIZE:
            if backend == "onnx":
                raise UserError(f"the ONNX tiny detector takes {ONNX_SIZE} px, not {input_size}")
            backend = "torch"
        self.net = load_net(NAME, tensors, backend)
        self.input_size, self.min_score = input_size, min_score

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All decoded boxes (x0, y0, x1, y1; padded-square [0, 1]) and their scores."""
        square = square_input(image, self.input_size, centre=False)
        x = to_nchw((square[None] - np.asarray(MEAN_RGB, np.float32)) / np.float32(255))
        (pred,) = self.net(x)
        return decode(pred[0])

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
