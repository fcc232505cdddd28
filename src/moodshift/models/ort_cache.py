"""onnxruntime sessions that start from a graph optimised once and kept in the cache.

Creating a session optimises the graph (constant folding, fusions, this CPU's blocked layouts):
for face-api's SSD and the mood backbone that is most of the ~0.1 s and ~0.05 s a fresh process
spends on them. The first session writes its optimised graph to
``cache_dir()/onnx/optimized/<name>-<key>.onnx``; later ones load that with optimisation off.
The key covers the source file (path, size, modification time), the onnxruntime version and
this CPU (model and instruction-set flags), because a fully optimised graph holds kernels laid
out for the CPU that made it. A file that fails to load is removed and made again; where the
cache cannot be written, sessions are created as usual.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from moodshift.models.store import cache_dir

OPTIMIZED_DIR = "optimized"


@lru_cache(maxsize=1)
def machine_key() -> str:
    """onnxruntime's version, the machine, and the CPU's model and flags, hashed."""
    import onnxruntime as ort

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            lines = [line for line in fh if line.startswith(("model name", "flags"))]
        cpu = "".join(sorted(set(lines)))
    except OSError:
        pass
    text = f"{ort.__version__}|{platform.machine()}|{cpu}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def optimized_path(source: Path) -> Path:
    stat = source.stat()
    key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{machine_key()}"
                         .encode()).hexdigest()[:20]
    return cache_dir() / "onnx" / OPTIMIZED_DIR / f"{source.stem}-{key}.onnx"


def cached_session(source: Path, options: Callable[[], Any]) -> Any:
    """A CPU session of ``source`` with ``options()`` (fresh SessionOptions each time)."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    target = optimized_path(source)
    if target.exists():
        opts = options()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(target), sess_options=opts, providers=providers)
        except Exception:  # noqa: BLE001 - a damaged file: made again below
            _remove(target)
    opts = options()
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        opts.optimized_model_filepath = tmp
    except OSError:
        tmp = None  # a read-only cache: no file, the session is made as usual
    try:
        session = ort.InferenceSession(str(source), sess_options=opts, providers=providers)
        if tmp is not None and os.path.getsize(tmp) > 0:
            for old in target.parent.glob(f"{source.stem}-*.onnx"):  # other versions of it
                if old.name != target.name and len(old.stem) == len(target.stem):
                    _remove(old)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; cache files get the usual mode
            os.replace(tmp, target)
            tmp = None
        return session
    finally:
        if tmp is not None:
            _remove(Path(tmp))


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
