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


def modules_loaded_by(imports: str, watched: tuple[str, ...]) -> list[str]:
    """Which of the ``watched`` modules a fresh interpreter has loaded after ``import
    <imports>`` (a comma-separated module list), sorted."""
    code = (f"import json, sys, {imports}; "
            f"print(json.dumps(sorted(m for m in {list(watched)!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
