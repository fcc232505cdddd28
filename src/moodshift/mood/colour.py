"""Image-level colour affect: valence, arousal and dominance measured from colour alone.

What this measures
------------------
The mood a picture's *colours* tend to evoke in a viewer, following Valdez & Mehrabian (1994),
"Effects of color on emotions", J. Exp. Psychol. Gen. 123(4):394-409. On standardised brightness B
and saturation S they found

    Pleasure  P =  .69 B + .22 S
    Arousal   A = -.31 B + .60 S
    Dominance D = -.76 B + .32 S

and that blue, blue-green and green were the most pleasant hues, yellow and green-yellow the least.

How we apply it to photographs
------------------------------
* B is the image's mean CIELAB lightness L*, S its mean chroma C*ab (Munsell value and chroma, the
  scales Valdez & Mehrabian varied, are close to L* and C*ab up to a scale factor).
* Standardisation: Valdez & Mehrabian z-scored over their set of colour chips; a photograph is not a
  chip, so we z-score against photographs instead. The reference means/SDs below were measured on
  100 LFW portraits (image means after downsampling to 128 px; moodshift is mostly used on
  portraits) and rounded: an average portrait reads as about 0. That 0 is a reference point, not
  "emotionally neutral".
* Hue (our reading of the paper's hue findings): each pixel's hue gets a pleasantness in [-1, 1]
  (+1 green/blue-green/blue, -1 yellow/green-yellow, purples mildly positive, reds/oranges about
  0), weighted by how chromatic the pixel is so that greys contribute nothing. It adds at most
  +-0.3 to P because hue effects in the paper were much smaller than brightness effects.
* Arousal extensions (not from Valdez & Mehrabian; hand-set weights): RMS contrast (SD of L*) and
  Hasler & Suesstrunk (2003) colourfulness, both z-scored, raise arousal. Busy, contrasty, varied
  colour reads as more activating; a flat image as calmer.
* Each sum is clipped and squashed with tanh into [-1, 1].

What it cannot claim
--------------------
It does not see people, faces, expressions or content: a smiling face in a dim blue room reads as
low valence. It has not been calibrated against human ratings of photographs; the weights are the
published chip coefficients plus hand-set extensions, so treat values as relative (image A is
brighter-moodier than image B), not as a measured emotion. Colour-affect effects vary between
people and cultures and are modest in size.

The measure is deterministic and cheap: images are area-downsampled to 128 px first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from moodshift.emotions import VAD

MAX_SIDE = 128  # colour statistics are stable at this size and it keeps the call well under 20 ms

# Reference (mean, SD) of per-image statistics over 100 LFW portraits, rounded (see module doc).
REF_LIGHTNESS = (43.0, 12.0)      # mean L*
REF_CHROMA = (14.5, 6.0)          # mean C*ab
REF_CONTRAST = (25.0, 4.5)        # SD of L*
REF_COLOURFULNESS = (40.0, 15.0)  # Hasler & Suesstrunk M

# Hue pleasantness anchors: (CIELAB hue angle in degrees, pleasantness). Angles are the usual
# CIELAB positions of the Munsell hue families: R~25, YR~60, Y~90, GY~112, G~150, BG~195, B~240,
# PB~280, P~315, RP~350.
HUE_ANCHORS = np.array([
    (25.0, 0.0), (60.0, -0.3), (90.0, -1.0), (112.0, -1.0), (150.0, 0.8), (195.0, 1.0),
    (240.0, 1.0), (280.0, 0.5), (315.0, 0.3), (350.0, 0.2),
])
HUE_WEIGHT = 0.3
CHROMA_FULL = 30.0  # C*ab at which a pixel's hue counts fully
Z_CLIP = 4.0
SQUASH = 1.5        # tanh(x / SQUASH): +-1.5 (about two reference SDs of P) maps to +-0.76


@dataclass(frozen=True)
class MoodReading:
    """The colour-affect estimate and the statistics it came from (for explanations/JSON)."""

    vad: VAD
    lightness: float         # mean L* (0..100)
    chroma: float            # mean C*ab
    contrast: float          # SD of L*
    colourfulness: float     # Hasler & Suesstrunk M
    hue_pleasantness: float  # chroma-weighted hue term in [-1, 1]

    def to_json(self) -> dict[str, object]:
        out = {k: round(float(v), 4) for k, v in asdict(self).items() if k != "vad"}
        return {**self.vad.to_json(), **out}


def _hue_pleasantness(hue_deg: np.ndarray) -> np.ndarray:
    """Piecewise-linear, periodic interpolation of the anchors."""
    xs, ys = HUE_ANCHORS[:, 0], HUE_ANCHORS[:, 1]
    xs = np.concatenate([xs[-1:] - 360.0, xs, xs[:1] + 360.0])
    ys = np.concatenate([ys[-1:], ys, ys[:1]])
    return np.interp(np.mod(hue_deg, 360.0), xs, ys)


def _prepare(image: np.ndarray) -> np.ndarray:
    """RGB float32 in 0..1, area-downsampled so the longer side is at most MAX_SIDE."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    arr = arr[..., :3]
    h, w = arr.shape[:2]
    scale = MAX_SIDE / max(h, w)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        arr = cv2.resize(np.ascontiguousarray(arr), size, interpolation=cv2.INTER_AREA)
    f = arr.astype(np.float32)
    return f / 255.0 if arr.dtype == np.uint8 or f.max() > 1.0 else f


def _z(value: float, ref: tuple[float, float]) -> float:
    return float(np.clip((value - ref[0]) / ref[1], -Z_CLIP, Z_CLIP))


def measure_mood_details(image: np.ndarray) -> MoodReading:
    """Colour-affect valence/arousal/dominance of an RGB image, with the statistics used."""
    rgb = _prepare(image)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2Lab)
    lum, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a))
    hue_term = float(np.mean(_hue_pleasantness(hue) * np.minimum(chroma / CHROMA_FULL, 1.0)))

    r, g, bl = rgb[..., 0] * 255.0, rgb[..., 1] * 255.0, rgb[..., 2] * 255.0
    rg, yb = r - g, 0.5 * (r + g) - bl
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))

    stats = (float(lum.mean()), float(chroma.mean()), float(lum.std()), colourfulness)
    bz, sz = _z(stats[0], REF_LIGHTNESS), _z(stats[1], REF_CHROMA)
    kz, mz = _z(stats[2], REF_CONTRAST), _z(stats[3], REF_COLOURFULNESS)

    pleasure = 0.69 * bz + 0.22 * sz + HUE_WEIGHT * hue_term
    arousal = -0.31 * bz + 0.60 * sz + 0.25 * kz + 0.15 * mz
    dominance = -0.76 * bz + 0.32 * sz
    vad = VAD(*(float(np.tanh(x / SQUASH)) for x in (pleasure, arousal, dominance)))
    return MoodReading(vad, *stats, hue_pleasantness=hue_term)


def measure_mood(image: np.ndarray) -> VAD:
    """Image-level valence, arousal, dominance in [-1, 1] from colour affect (see module doc)."""
    return measure_mood_details(image).vad
