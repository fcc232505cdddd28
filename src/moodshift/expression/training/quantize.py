"""int8 quantisation of the shipped expression network (`moodshift models quantize`).

Static post-training quantisation with ONNX Runtime: weights int8 per output channel,
activations uint8 with ranges calibrated on real training faces, QDQ format (so any ONNX Runtime
can run it, and CPUs with VNNI/AMX run the convolutions in int8). On this project's 2-core Xeon
the network runs ~2.5x faster than float32 with the same FER2013 accuracy (MODEL_CARD.md).

Calibration uses the same crops and normalisation the runtime feeds the network, and a fixed
random sample of the training split, so the output is reproducible from the command line.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.errors import UserError


@dataclass(frozen=True)
class QuantizeResult:
    path: Path
    sha256: str
    size: int
    calibration_images: int
    top1_agreement: float        # share of held-out faces where int8 and float32 agree
    max_prob_difference: float

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "sha256": self.sha256, "size": self.size,
                "calibration_images": self.calibration_images,
                "top1_agreement": round(self.top1_agreement, 4),
                "max_prob_difference": round(self.max_prob_difference, 4)}


def _faces(data: str, n: int, seed: int, store_size: int) -> tuple[np.ndarray, np.ndarray]:
    """n calibration crops from the training split and n check crops from validation."""
    from moodshift.expression.facecrop import resize_to
    from moodshift.expression.training.datasets import load_splits

    splits = load_splits(data, size=None)
    rng = np.random.default_rng(seed)

    def sample(images: list[np.ndarray]) -> np.ndarray:
        if not images:
            raise UserError(f"{data}: no images to calibrate with")
        pick = rng.choice(len(images), size=min(n, len(images)), replace=False)
        return np.stack([images[i] if images[i].shape == (store_size, store_size)
                         else resize_to(images[i], store_size) for i in sorted(pick)])

    return sample(splits.train.images), sample(splits.val.images)


def quantize_shipped(data: str, out: Path, n: int = 512, seed: int = 0,
                     log: Callable[[str], None] = print) -> QuantizeResult:
    """Quantise the shipped float network to int8 at ``out``, calibrated on faces from ``data``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from moodshift.expression import own_runtime
    from moodshift.imageio import atomic_write_bytes, check_writable_dir
    from moodshift.models.onnx_export import export_net
    from moodshift.models.runtime import OnnxNet, softmax
    from moodshift.models.store import load_verified_file, sha256_file

    if n <= 0:
        raise UserError(f"--n {n}: must be a positive number of calibration faces")
    out = Path(out)
    check_writable_dir(out.parent)
    config = own_runtime.shipped_config()
    calibration, check = _faces(data, n, seed, int(config["store_size"]))
    log(f"calibrating on {len(calibration)} training faces from {data}")
    tensors = load_verified_file(own_runtime.shipped_weights(), own_runtime.SHIPPED_SHA256)
    with tempfile.TemporaryDirectory(prefix="moodshift-quantize-") as tmp:
        folder = Path(tmp)
        float_path = export_net(own_runtime.NET_NAME, folder, tensors,
                                source_sha256=own_runtime.SHIPPED_SHA256)
        float_model = own_runtime.OnnxMoodshiftExpression(float_path, config)
        inputs = float_model.network_input(calibration)
        batches = iter([{"input": np.ascontiguousarray(inputs[i:i + 64])}
                        for i in range(0, len(inputs), 64)])

        class Faces(CalibrationDataReader):
            def get_next(self) -> dict[str, np.ndarray] | None:
                return next(batches, None)

        prepared = folder / "prepared.onnx"
        quant_pre_process(str(float_path), str(prepared))
        int8_path = folder / "int8.onnx"
        quantize_static(str(prepared), str(int8_path), Faces(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True)
        # Check against the float network on faces the calibration never saw.
        x = float_model.network_input(check)
        p_float = softmax(OnnxNet(float_path)(x)[0])
        p_int8 = softmax(OnnxNet(int8_path)(x)[0])
        atomic_write_bytes(out, int8_path.read_bytes())
    result = QuantizeResult(out, sha256_file(out), out.stat().st_size, len(calibration),
                            float(np.mean(p_float.argmax(1) == p_int8.argmax(1))),
                            float(np.abs(p_float - p_int8).max()))
    log(f"wrote {out} ({result.size / 1e6:.2f} MB, sha256 {result.sha256}); top-1 agrees with "
        f"float32 on {result.top1_agreement:.1%} of {len(check)} validation faces")
    return result
