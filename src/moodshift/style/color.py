"""Strength, colour preservation and colour grading applied around a style network.

Strength: we blend the stylised result with the content (``blend``) in CIELAB, mixing lightness
linearly and keeping chroma from cancelling. The Magenta way, interpolating the style vector
towards the content's own (``interpolate_style``), looks more coherent at middle values, but
strength 0 does not give the photo back (the transformer still re-renders it, softer and
re-toned) and it exists only for the arbitrary engine. A blend has exact end points (0 = the
input, 1 = the full effect), works for every engine, costs ~20 ms at 1024 px and moves lightness
and chroma monotonically, which the mood direction relies on.

Colour preservation (Gatys et al. 2016, "Preserving color in neural artistic style transfer"):
keep the stylised luminance and put back the content's chroma, in BT.601 YCbCr.

Grading: lightness, contrast, saturation and warmth in CIELAB, the quantities the mood model
measures. Grades can be anchored to the content photo (palette ``tone = "photo"``, the default),
so an emotion's mood direction holds whatever the photo's exposure, or act on the stylised
result alone (``tone = "style"``), which keeps a painting's absolute palette.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# BT.601 full-range RGB <-> YCbCr (JPEG convention).
_TO_YCC = np.array([[0.299, 0.587, 0.114],
                    [-0.168736, -0.331264, 0.5],
                    [0.5, -0.418688, -0.081312]], np.float32)
_FROM_YCC = np.linalg.inv(_TO_YCC).astype(np.float32)
WARMTH_SHIFT = 18.0  # b* (and a third of it on a*) added at warmth = 1
MID_GREY_L = 50.0    # brightness moves mean L* by (brightness - 1) x this
STATS_SIDE = 256     # image statistics are taken on a copy this small


@dataclass(frozen=True)
class Grade:
    """Colour grading: 1 (0 for warmth) means 'no change'."""

    brightness: float = 1.0  # mean L* += (brightness - 1) * 50: 1.1 lifts it by 5 L*
    contrast: float = 1.0    # multiplies the SD of L*
    saturation: float = 1.0  # multiplies mean chroma (a*, b*)
    warmth: float = 0.0      # + towards yellow/red, - towards blue

    def is_identity(self) -> bool:
        return self == Grade()


def _check(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    return arr


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")


def to_lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(_check(image).astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2Lab)


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def grade_statistics(lab: np.ndarray) -> tuple[float, float, float]:
    """Mean L*, SD of L*, mean chroma (on a <= 256 px copy: statistics need no more)."""
    h, w = lab.shape[:2]
    scale = STATS_SIDE / max(h, w)
    if scale < 1.0:
        lab = cv2.resize(lab, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    return (float(lab[..., 0].mean()), float(lab[..., 0].std()),
            float(np.hypot(lab[..., 1], lab[..., 2]).mean()))


Stats = tuple[float, float, float]


def grade_lab(lab: np.ndarray, grade: Grade, reference: np.ndarray | None = None,
              stats: Stats | None = None, reference_stats: Stats | None = None) -> np.ndarray:
    """Grade a Lab image in place (see apply_grade); returns it.

    stats / reference_stats, when given, replace the image's and the reference's own statistics
    (style/bands.py grades a large image band by band with its whole-image statistics)."""
    if reference_stats is None and reference is not None:
        reference_stats = grade_statistics(reference)
    if grade.is_identity() and reference_stats is None:
        return lab
    mean, sd, chroma = stats if stats is not None else grade_statistics(lab)
    if reference_stats is None:
        target_mean, target_sd, target_chroma = mean, sd, chroma
    else:
        ref_mean, ref_sd, ref_chroma = reference_stats
        target_mean, target_sd = ref_mean, float(np.sqrt(ref_sd * sd))
        target_chroma = max(ref_chroma, 0.5 * chroma)
    # brightness is additive, not multiplicative: a dark photo must visibly change too
    target_mean += (grade.brightness - 1.0) * MID_GREY_L
    gain = target_sd * grade.contrast / max(sd, 1e-3)
    lab[..., 0] = np.clip((lab[..., 0] - mean) * gain + target_mean, 0.0, 100.0)
    lab[..., 1:] *= target_chroma * grade.saturation / max(chroma, 1e-3)
    # the tint is damped by desaturation, so a 'cool, desaturated' grade cannot add colour
    tint = WARMTH_SHIFT * grade.warmth * min(grade.saturation, 1.0)
    lab[..., 2] += tint
    lab[..., 1] += tint / 3.0
    return lab


def apply_grade(image: np.ndarray, grade: Grade, reference: np.ndarray | None = None) -> np.ndarray:
    """Colour-grade an RGB uint8 image in CIELAB.

    Brightness shifts mean L* by (brightness - 1) x 50; contrast multiplies the SD of L*;
    saturation the mean chroma; warmth adds a yellow (+) or blue (-) tint. With a reference
    (the content photo) the starting statistics are the photo's: its mean L*, the geometric
    mean of its and the image's SD of L* (the style's texture keeps half its say), and the larger
    of its chroma and half the image's (a grey photo can still gain colour). A dark photo made
    'sad' thus gets darker instead of being pulled to the style painting's absolute brightness.
    """
    image = _check(image)
    if grade.is_identity() and reference is None:
        return image.copy()
    ref = to_lab(reference) if reference is not None else None
    return from_lab(grade_lab(to_lab(image), grade, ref))


def blend_lab(content: np.ndarray, stylised: np.ndarray, strength: float) -> np.ndarray:
    """Mix two Lab images; each pixel's chroma is the mix of the two chromas.

    A plain mix of two different hues partly cancels: middle strengths would turn muddy and
    lose saturation (undoing a 'happy' grade).
    """
    mixed = cv2.addWeighted(content, 1.0 - strength, stylised, strength, 0.0)
    wanted = (np.hypot(content[..., 1], content[..., 2]) * (1.0 - strength)
              + np.hypot(stylised[..., 1], stylised[..., 2]) * strength)
    mixed[..., 1:] *= (wanted / np.maximum(np.hypot(mixed[..., 1], mixed[..., 2]), 1e-3))[..., None]
    return mixed


def blend(content: np.ndarray, stylised: np.ndarray, strength: float) -> np.ndarray:
    """Strength blend of RGB uint8 images: 0 returns the content unchanged, 1 the stylised."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    content, stylised = _check(content), _check(stylised)
    _same_shape(content, stylised)
    if strength <= 0.0:
        return content.copy()
    if strength >= 1.0:
        return stylised.copy()
    return from_lab(blend_lab(to_lab(content), to_lab(stylised), strength))


def finish(content: np.ndarray, stylised: np.ndarray, grade: Grade, strength: float,
           anchored: bool = True) -> np.ndarray:
    """Grade the stylised image (anchored to the content or not), then blend: one Lab pass."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    _same_shape(_check(content), _check(stylised))
    if strength <= 0.0:
        return content.copy()
    lab_content = to_lab(content)
    # grading the photo itself (no strokes: the face-aware blend's base) converts it once
    lab = lab_content.copy() if stylised is content else to_lab(stylised)
    lab = grade_lab(lab, grade, lab_content if anchored else None)
    return from_lab(lab if strength >= 1.0 else blend_lab(lab_content, lab, strength))


def interpolate_style(style_vec: np.ndarray, content_vec: np.ndarray,
                      strength: float) -> np.ndarray:
    """The Magenta strength control: move the style vector towards the content's own."""
    return (strength * np.asarray(style_vec, np.float32)
            + (1.0 - strength) * np.asarray(content_vec, np.float32))


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    ycc = _check(image).astype(np.float32) @ _TO_YCC.T
    ycc[..., 1:] += 128.0
    return ycc


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    shifted = ycc.astype(np.float32).copy()
    shifted[..., 1:] -= 128.0
    return (np.clip(shifted @ _FROM_YCC.T, 0.0, 255.0) + 0.5).astype(np.uint8)


def preserve_color(content: np.ndarray, stylised: np.ndarray) -> np.ndarray:
    """Luminance from the stylised image, chroma (Cb, Cr) from the content."""
    content, stylised = _check(content), _check(stylised)
    _same_shape(content, stylised)
    ycc = rgb_to_ycbcr(content)
    ycc[..., 0] = rgb_to_ycbcr(stylised)[..., 0]
    return ycbcr_to_rgb(ycc)
