"""Import OpenVINO's runtime without its model-conversion tool.

``import openvino`` also imports ``openvino.tools.ovc`` (the converter, for ``convert_model``),
which costs about 0.15 s and sends a usage-telemetry event from a background thread. moodshift
only reads ONNX/IR files and compiles them, so that part is left out: while openvino's package
initialisation runs, ``openvino.tools.ovc`` is marked as absent, which its ``__init__`` already
tolerates (it then has no ``openvino.convert_model``). Code that imports
``openvino.tools.ovc`` explicitly later still gets it.
"""

from __future__ import annotations

import sys
from types import ModuleType

CONVERTER = "openvino.tools.ovc"


def import_openvino() -> ModuleType:
    """The ``openvino`` module (ImportError where it is not installed)."""
    loaded = sys.modules.get("openvino")
    if loaded is not None:
        return loaded
    blocked = CONVERTER not in sys.modules
    if blocked:
        sys.modules[CONVERTER] = None  # type: ignore[assignment]  # "import ..." -> ImportError
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(CONVERTER, 0) is None:
            del sys.modules[CONVERTER]
    return openvino
