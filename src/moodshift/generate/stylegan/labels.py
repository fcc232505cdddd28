"""What moodshift's face models read on a generated face: the labels the directions are fit to.

Each face (RGB uint8, any size) goes through face-api's SSD detector (the best box; the central
box FFHQ's alignment puts the face in when nothing is found), face-api's age/gender net, and two
expression nets: moodshift's msnet and face-api's expression net (their mean is the emotion
reading used for fitting and calibration). fer is deliberately left out: it is the independent
judge of ``moodshift eval gan``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodshift.emotions import EMOTIONS

LABEL_SIZE = 256          # faces are labelled at this side (downscaled from 1024)
# FFHQ crops are aligned: the face fills about the central 60 % of the frame.
CENTRE_BOX = (0.2, 0.2, 0.6, 0.6)
LABEL_JUDGES = ("moodshift", "faceapi")


@dataclass
class FaceLabels:
    """Per face: age (years), p(male), msnet and face-api expression probabilities, number of
    faces the detector found, and the box used."""

    age: np.ndarray          # (n,)
    p_male: np.ndarray       # (n,)
    msnet: np.ndarray        # (n, 7)
    faceapi: np.ndarray      # (n, 7)
    faces_found: np.ndarray  # (n,) int
    boxes: np.ndarray        # (n, 4) int

    @property
    def emotion_probs(self) -> np.ndarray:
        return (self.msnet + self.faceapi) / 2.0

    @property
    def emotion(self) -> np.ndarray:
        return self.emotion_probs.argmax(1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"age": self.age, "p_male": self.p_male, "msnet": self.msnet,
                "faceapi": self.faceapi, "faces_found": self.faces_found, "boxes": self.boxes}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> FaceLabels:
        return cls(**{k: np.asarray(a[k]) for k in
                      ("age", "p_male", "msnet", "faceapi", "faces_found", "boxes")})

    @classmethod
    def concat(cls, parts: list[FaceLabels]) -> FaceLabels:
        return cls(**{k: np.concatenate([p.arrays()[k] for p in parts]) for k in
                      ("age", "p_male", "msnet", "faceapi", "faces_found", "boxes")})


def centre_box(size: int) -> tuple[int, int, int, int]:
    x, y, w, h = CENTRE_BOX
    return (round(x * size), round(y * size), round(w * size), round(h * size))


class FaceLabeller:
    """Loads the detector, age/gender and the two labelling expression nets once."""

    def __init__(self) -> None:
        from moodshift.expression.load import load_expression_model
        from moodshift.faces.agegender import FaceApiAgeGender
        from moodshift.faces.detect import load_detector

        self.detector = load_detector("ssd")
        self.agegender = FaceApiAgeGender()
        self.expression = [load_expression_model(name) for name in LABEL_JUDGES]

    def box(self, face: np.ndarray) -> tuple[tuple[int, int, int, int], int]:
        found = self.detector.detect(face)
        if not found:
            return centre_box(face.shape[0]), 0
        return tuple(int(v) for v in found[0].box), len(found)  # type: ignore[return-value]

    def __call__(self, faces: np.ndarray) -> FaceLabels:
        from moodshift.generate.stylegan.generator import resize

        n = len(faces)
        out = FaceLabels(np.zeros(n), np.zeros(n), np.zeros((n, len(EMOTIONS))),
                         np.zeros((n, len(EMOTIONS))), np.zeros(n, np.int64),
                         np.zeros((n, 4), np.int64))
        for i, face in enumerate(faces):
            face = resize(np.asarray(face, np.uint8), LABEL_SIZE)
            box, count = self.box(face)
            ag = self.agegender.predict(face, [box])[0]
            out.age[i] = ag.age
            out.p_male[i] = ag.gender_probability if ag.gender == "male" else \
                1.0 - ag.gender_probability
            out.msnet[i] = self.expression[0].predict(face, [box])[0]
            out.faceapi[i] = self.expression[1].predict(face, [box])[0]
            out.faces_found[i] = count
            out.boxes[i] = box
        return out
