"""Attribute directions in MobileStyleGAN's style space and how a style is moved along them.

A directions file (safetensors, from ``moodshift train directions``) holds, for each attribute
(the seven emotions, ``age`` = older, ``male``), a unit normal of a linear boundary fit to what
moodshift's face models read on generated faces (InterFaceGAN, Shen et al. 2020), made
conditionally independent (the other attributes projected out), plus the calibrated positions
along them. Styles are edited by *setting* their position along the chosen normals:
``w' = w + N^T (N N^T)^-1 (t - N (w - mean))``, the smallest change of w that puts it at the
targets t on every chosen normal at once (so asking for "sad" does not also change age unless
asked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.models.shipped import shipped_file
from moodshift.people import REPRESENTATIVE_AGE

ATTRIBUTES: tuple[str, ...] = (*EMOTIONS, "age", "male")
SHIPPED = shipped_file("moodshift-stylegan-directions")
SHIPPED_DIR = SHIPPED.path.parent
SHIPPED_NAME = SHIPPED.path.name
SHIPPED_SHA256 = SHIPPED.sha256   # also in the MODEL_CARD.md beside the file
# Age groups are aimed at these ages (years).
AGE_TARGETS = REPRESENTATIVE_AGE
# Where the smile is held (in standard deviations along the happy direction) for emotions
# other than happy and neutral.
SMILE_OFF = -1.5


@dataclass
class Directions:
    mean: np.ndarray                 # (512,) the mean style the positions are measured from
    normals: np.ndarray              # (K, 512) unit normals, conditionally independent
    raw_normals: np.ndarray          # (K, 512) the boundaries as fitted
    offsets: np.ndarray              # (K,) position of each boundary (n . (w - mean) = offset)
    targets: np.ndarray              # (K,) calibrated position for "show this attribute"
    age_slope: float                 # years per unit along the age normal
    age_intercept: float             # age read at position 0
    male_targets: tuple[float, float] = (0.0, 0.0)   # (female, male) positions
    info: dict[str, object] = field(default_factory=dict)

    def index(self, name: str) -> int:
        return ATTRIBUTES.index(name)

    def positions(self, styles: np.ndarray) -> np.ndarray:
        """(n, K) position of each style along each normal."""
        return (np.asarray(styles, np.float64) - self.mean) @ self.normals.T

    def age_position(self, years: float) -> float:
        return (years - self.age_intercept) / self.age_slope

    def gender_position(self, gender: str, age_group: str | None = None) -> float:
        """Where faces of a gender are set along the male normal: calibrated per age group
        (``info["gender_positions"]``, see train.calibrate_gender) when there is one, else the
        5th / 95th percentile of the labelled faces' positions."""
        calibrated = dict(self.info.get("gender_positions", {}))  # type: ignore[arg-type]
        if age_group in calibrated and gender in calibrated[age_group]:
            return float(calibrated[age_group][gender])
        return self.male_targets[1 if gender == "male" else 0]

    def age_group_position(self, group: str, gender: str | None = None) -> float:
        """Where faces of an age group (and gender, when asked) are set along the age normal:
        the calibrated position (``info["age_positions_by_gender"]`` for a gender,
        ``info["age_positions"]`` otherwise; see train.calibrate_age) or, in files made before
        that calibration existed, the age line's position for the group's typical age."""
        by_gender = dict(self.info.get("age_positions_by_gender", {}))  # type: ignore[arg-type]
        if gender is not None and gender in by_gender.get(group, {}):
            return float(by_gender[group][gender])
        calibrated = dict(self.info.get("age_positions", {}))  # type: ignore[arg-type]
        if group in calibrated:
            return float(calibrated[group])
        return self.age_position(AGE_TARGETS[group])

    def set_positions(self, styles: np.ndarray, wanted: dict[str, float]) -> np.ndarray:
        """Styles moved (minimally) so they sit at ``wanted`` positions along those normals."""
        styles = np.asarray(styles, np.float64)
        if not wanted:
            return styles.astype(np.float32)
        rows = [self.index(k) for k in wanted]
        n = self.normals[rows]                                   # (m, 512)
        t = np.array([wanted[k] for k in wanted])
        cur = (styles - self.mean) @ n.T                          # (b, m)
        delta = (t[None, :] - cur) @ np.linalg.solve(n @ n.T, n)  # (b, 512)
        return (styles + delta).astype(np.float32)

    def emotion_wanted(self, emotion: str, target: float | None = None,
                       share: float = 1.0) -> dict[str, float]:
        """Positions that show ``emotion``: its own direction at ``share`` of ``target``
        (default: the calibrated one), its partners (``info["partners"]``, e.g. fear also moves along
        surprise) at the same number of standard deviations and, for every emotion but happy
        and neutral, the smile held at SMILE_OFF (FFHQ faces mostly smile, and a smile
        overrides other expressions; those directions are fit with the smile projected out,
        see fit.CONDITIONED_ON); the smile is left alone when the two directions are too close
        to set apart."""
        k = self.index(emotion)
        wanted = {emotion: share * float(self.targets[k] if target is None else target)}
        spreads = self.spreads
        for partner in self.partners.get(emotion, ()):
            wanted[partner] = wanted[emotion] / spreads[k] * float(spreads[self.index(partner)])
        h = self.index("happy")
        if emotion not in ("happy", "neutral") and abs(self.normals[k] @ self.normals[h]) < 0.7:
            wanted["happy"] = SMILE_OFF * float(self.spreads[h])
        return wanted

    @property
    def partners(self) -> dict[str, list[str]]:
        """Emotions steered along other emotions' directions too (from the calibration)."""
        return dict(self.info.get("partners", {}))  # type: ignore[arg-type]

    @property
    def spreads(self) -> np.ndarray:
        return np.asarray(self.info.get("spreads", np.ones(len(ATTRIBUTES))), np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean.astype(np.float32), "normals": self.normals.astype(np.float32),
                "raw_normals": self.raw_normals.astype(np.float32),
                "offsets": self.offsets.astype(np.float32),
                "targets": self.targets.astype(np.float32),
                "age_line": np.array([self.age_slope, self.age_intercept], np.float32),
                "male_targets": np.array(self.male_targets, np.float32)}

    def save(self, path: Path) -> str:
        """Write atomically; returns the file's sha256."""
        from safetensors.numpy import save_file

        from moodshift.imageio import atomic_write
        from moodshift.models.store import sha256_file

        # safetensors writes the raw buffer: Fortran-ordered arrays would come back transposed
        arrays = {k: np.ascontiguousarray(v) for k, v in self.arrays().items()}
        meta = {"attributes": json.dumps(list(ATTRIBUTES)),
                "info": json.dumps(self.info, sort_keys=True)}
        atomic_write(path, lambda tmp: save_file(arrays, str(tmp), metadata=meta))
        return sha256_file(path)


def _from_file(path: Path, expected_sha256: str | None) -> Directions:
    from safetensors import safe_open

    from moodshift.models.store import load_verified_file

    try:
        if expected_sha256:
            arrays = load_verified_file(path, expected_sha256)
        else:
            from safetensors.numpy import load_file
            arrays = load_file(str(path))
        with safe_open(str(path), "np") as fh:
            meta = fh.metadata() or {}
        attrs = tuple(json.loads(meta.get("attributes", "[]")))
        info = json.loads(meta.get("info", "{}"))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's problem
        raise UserError(f"{path}: not a readable directions file ({exc})") from None
    if attrs != ATTRIBUTES or arrays.get("normals", np.zeros(0)).shape != (len(ATTRIBUTES), 512):
        raise UserError(f"{path}: not a directions file for {', '.join(ATTRIBUTES)}")
    f64 = {k: np.asarray(v, np.float64) for k, v in arrays.items()}
    return Directions(mean=f64["mean"], normals=f64["normals"], raw_normals=f64["raw_normals"],
                      offsets=f64["offsets"], targets=f64["targets"],
                      age_slope=float(f64["age_line"][0]), age_intercept=float(f64["age_line"][1]),
                      male_targets=(float(f64["male_targets"][0]),
                                    float(f64["male_targets"][1])), info=info)


def directions_file(path: Path | str | None = None) -> Path:
    """The file ``load_directions(path)`` reads: the shipped one (None), or ``path`` itself or
    the directions file in that folder."""
    if path is None:
        return SHIPPED_DIR / SHIPPED_NAME
    target = Path(path).expanduser()
    return target / SHIPPED_NAME if target.is_dir() else target


def load_directions(path: Path | str | None = None) -> Directions:
    """The shipped directions (checksum verified) or a `moodshift train directions` output."""
    from moodshift.errors import ModelMissingError

    target = directions_file(path)
    if path is None:
        if not SHIPPED_SHA256 or not target.is_file():
            raise ModelMissingError(f"{target}: the shipped style-space directions are missing "
                                    "(make them with `moodshift train directions`)")
        return _from_file(target, SHIPPED_SHA256)
    if not target.is_file():
        raise UserError(f"{path}: no directions file here (make one with "
                        "`moodshift train directions --out FOLDER`)")
    return _from_file(target, None)
