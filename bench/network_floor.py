"""How close the fast engine's transformer runs to this CPU's floor, at 1024x1024.

Run as a script (a fresh process, 2 threads): prints one JSON object with the network's
convolution GFLOP at that size (counted from the ONNX graph), the compile time, the first and
the best of three further runs for each runtime, and the GFLOP/s achieved.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

SIDE = 1024


def conv_gflop(model_bytes: bytes, height: int, width: int) -> float:
    """2 x multiply-adds of every Conv node at this input size (shape inference by onnx)."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = onnx.load_from_string(model_bytes)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value, dims[2].dim_value = height, width
    model = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.value_info) + list(model.graph.output)}
    weights = {t.name: numpy_helper.to_array(t).shape for t in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out, kernel = shapes[node.output[0]], weights[node.input[1]]
            total += 2 * int(np.prod(out)) * int(np.prod(kernel[1:]))
    return total / 1e9


def timed(run, x: np.ndarray, vec: np.ndarray) -> tuple[float, float]:
    started = time.perf_counter()
    run(x, vec)
    first = time.perf_counter() - started
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        run(x, vec)
        best = min(best, time.perf_counter() - started)
    return first, best


def main() -> None:
    from moodshift.style.engines import fast
    from moodshift.style.procedural import style_image_for

    rng = np.random.default_rng(0)
    x = rng.random((1, SIDE, SIDE, 3), dtype=np.float32)
    vec = fast.style_vector(style_image_for("sad")).reshape(1, 1, 1, 100)
    gflop = conv_gflop(fast._transform_model()[0], SIDE, SIDE)
    result: dict[str, object] = {"size": f"{SIDE}x{SIDE}", "conv_gflop": round(gflop, 2),
                                 "threads": fast.THREADS}
    which = sys.argv[1] if len(sys.argv) > 1 else "openvino"
    started = time.perf_counter()
    if which.startswith("openvino"):  # openvino (float32) or openvino-bf16
        os.environ[fast.RUNTIME_ENV] = "openvino"
        os.environ[fast.PRECISION_ENV] = "bf16" if which.endswith("bf16") else "f32"
        run = fast._openvino_transform(SIDE, SIDE)
        if run is None:
            raise SystemExit("OpenVINO is not available")
    else:
        sess = fast._session("arbitrary_transform.onnx")
        names = [i.name for i in sess.get_inputs()]

        def run(a: np.ndarray, v: np.ndarray) -> np.ndarray:
            return sess.run(None, {names[0]: a, names[1]: v})[0]
    setup = time.perf_counter() - started
    first, best = timed(run, x, vec)
    result |= {"runtime": which, "setup_s": round(setup, 3), "first_run_s": round(first, 3),
               "best_run_s": round(best, 3), "gflop_per_s_first": round(gflop / first, 1),
               "gflop_per_s_best": round(gflop / best, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
