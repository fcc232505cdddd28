"""OpenCV's Haar cascade face detector: the fallback when face-api's weights are not cached.

Score: the cascade reports, for each face, how many raw detections were merged into it
(``numDetections`` of ``detectMultiScale2``, at least ``min_neighbors``). We map that count n to
``n / (n + min_neighbors)``: 0.5 for a face that just passed the threshold, approaching 1 as more
neighbouring windows agree. It orders faces; it is not a calibrated probability.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from moodshift.errors import UserError
from moodshift.faces.base import Detection

NAME = "haar"
CASCADE = "haarcascade_frontalface_default.xml"


def cascade_path() -> Path:
    import cv2

    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if folder is None or not hasattr(cv2, "CascadeClassifier"):
        raise UserError("this OpenCV build has no Haar cascades (opencv-python-headless 5.x "
                        "dropped them); install opencv-python-headless<5")
    return Path(folder) / CASCADE


class HaarFaceDetector:
    """FaceDetector using cv2.CascadeClassifier with the frontal-face default cascade."""

    name = NAME

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5,
                 min_size_fraction: float = 0.05) -> None:
        import cv2

        path = cascade_path()
        self.classifier = cv2.CascadeClassifier(str(path))
        if self.classifier.empty():
            raise UserError(f"{path}: cannot load OpenCV's Haar cascade")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        self.min_size_fraction = min_size_fraction

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3), highest score first."""
        import cv2

        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        grey = cv2.equalizeHist(grey)
        side = max(16, int(self.min_size_fraction * min(grey.shape)))
        rects, counts = self.classifier.detectMultiScale2(
            grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(side, side))
        height, width = grey.shape
        found = []
        for (x, y, w, h), n in zip(np.asarray(rects).reshape(-1, 4), np.asarray(counts).ravel()):
            x0, y0 = max(int(x), 0), max(int(y), 0)
            x1, y1 = min(int(x + w), width), min(int(y + h), height)
            if x1 > x0 and y1 > y0:
                found.append(Detection((x0, y0, x1 - x0, y1 - y0),
                                       float(n) / (float(n) + self.min_neighbors)))
        return sorted(found, key=lambda d: -d.score)
