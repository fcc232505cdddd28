"""Opening a LiteRT (``ai-edge-litert``) interpreter for the MediaPipe ``.tflite`` networks.

The runtime announces its XNNPACK delegate with an ``INFO:`` line written by C++ straight to
file descriptor 2 on every load, which would land in the middle of moodshift's own one-line
messages and JSON-friendly stderr. It is silenced by pointing fd 2 at /dev/null while the
interpreter is created and its tensors allocated; a load that fails still raises its Python
exception with the runtime's message.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def open_interpreter(path: str | Path, threads: int = 1) -> Any:
    """A ready (tensors allocated) LiteRT interpreter for the .tflite file at ``path``."""
    from ai_edge_litert.interpreter import Interpreter

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return interpreter
