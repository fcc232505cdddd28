"""Small checks several test modules share: is a pulled model there, what does an import load."""

from __future__ import annotations

import json
import subprocess
import sys


def stylegan_pulled() -> bool:
    """Whether MobileStyleGAN's files are in the model cache (`moodshift models pull`)."""
    from moodshift.errors import ModelMissingError
    from moodshift.generate.stylegan.generator import require_pulled

    try:
        require_pulled()
    except ModelMissingError:
        return False
    return True


def pulled_net(cls, name: str, backend: str):
    """``cls(tensors, backend="torch")`` or ``cls(backend="onnx")`` for the converted network
    ``name``; skips the test (with the reason) when `models pull` has not fetched or exported
    it."""
    import pytest

    from moodshift.errors import ModelMissingError
    from moodshift.models.runtime import onnx_path
    from moodshift.models.store import load_tensors

    try:
        tensors = load_tensors(name)
    except ModelMissingError:
        pytest.skip(f"{name} is not converted (run `moodshift models pull`; `make test` does)")
    if backend == "torch":
        return cls(tensors, backend="torch")
    if onnx_path(name) is None:
        pytest.skip(f"{name} has no ONNX export (run `moodshift models pull --force`)")
    return cls(backend="onnx")


def modules_loaded_by(imports: str, watched: tuple[str, ...]) -> list[str]:
    """Which of the ``watched`` modules a fresh interpreter has loaded after ``import
    <imports>`` (a comma-separated module list), sorted."""
    code = (f"import json, sys, {imports}; "
            f"print(json.dumps(sorted(m for m in {list(watched)!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
