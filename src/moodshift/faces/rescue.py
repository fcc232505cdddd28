"""A second look for faces the detector missed: the same detector on a padded canvas.

face-api's SSD resizes every image to 512x512. On a small, tightly framed portrait (LFW's 150 px
crops: one face 50-75 px wide filling the frame) the face then spans 250+ px of the network input,
beyond most of its anchors, and SSD misses about one portrait in ten. Padding the photo by half its
side on every edge (edge pixels replicated, so no hard border appears) shrinks the face to the
size SSD was trained on; on ``portraits/lfw`` this finds the face on all 100 portraits.

The second look runs only when the first finds nothing, and only on photos up to MAX_SIDE px
that are not extremely elongated, so photos where faces are found (group
photos, every face-api demo image) are unchanged: no new false positives there. Boxes found on
the canvas are mapped back and must have their centre inside the photo. Each detection says which
pass found it (``Detection.source``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from moodshift.faces.base import Detection, FaceDetector

PAD_FRACTION = 0.5
MAX_SIDE = 1024   # the second look is for small portraits; larger photos skip it


class PaddedRetryDetector:
    """Wraps a detector: its own detections, or, when there are none, those on a padded canvas."""

    def __init__(self, inner: FaceDetector, pad_fraction: float = PAD_FRACTION) -> None:
        self.inner, self.pad_fraction = inner, pad_fraction
        self.name = inner.name

    def detect(self, image: np.ndarray) -> list[Detection]:
        found = [replace(d, source=self.name) for d in self.inner.detect(image)]
        if found:
            return found
        height, width = image.shape[:2]
        pad = int(round(self.pad_fraction * max(height, width)))
        # only small, portrait-like photos (SSD sees 512 px anyway): a huge or extreme-aspect
        # image gets no padded copy (which would cost memory for nothing)
        if pad < 1 or max(height, width) > MAX_SIDE or min(height, width) < 0.25 * max(height,
                                                                                    width):
            return []
        canvas = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
        out: list[Detection] = []
        for d in self.inner.detect(canvas):
            x, y, w, h = d.box
            cx, cy = x - pad + w / 2, y - pad + h / 2
            if not (0 <= cx < width and 0 <= cy < height):
                continue  # a "face" in the replicated border
            x0, y0 = max(x - pad, 0), max(y - pad, 0)
            x1, y1 = min(x - pad + w, width), min(y - pad + h, height)
            if x1 > x0 and y1 > y0:
                out.append(Detection((x0, y0, x1 - x0, y1 - y0), d.score,
                                     source=f"{self.name}+padded"))
        return out
