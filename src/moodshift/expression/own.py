"""moodshift's own expression classifier (``MoodshiftExpression``, name ``moodshift``).

Preprocessing reproduces training: each face box is made a square of side
``max(w, h) * (1 + 2 * MARGIN)`` around its centre; parts outside the photo repeat the border
pixels. MARGIN matches FER2013's framing: on 150 FER2013 validation faces (upscaled to 160 px,
centred on a grey 400 px canvas) the detectors' boxes came out almost exactly the size of the
FER2013 crop (crop side / box side, median: face-api SSD 0.96, Tiny 1.01, Haar 1.07), so
MARGIN = 0 (no growth) reproduces the framing the network was trained on. The crop is
converted to grey (ITU-R 601 luma, as Pillow's "L"), resized to the stored size (48 px, Pillow
bilinear with antialiasing), and the network sees the central view (44 px) plus its mirror image;
the two softmax outputs are averaged. A box covering the whole image means the image is already a
face crop: it is used as it is, without margin (a non-square one is centred on a square
canvas, border pixels repeated).

Weights: the shipped ``msnet`` in ``moodshift/data/models/expression/`` (checked against
``SHIPPED_SHA256``), or any training output: a ``checkpoint.pt``, an ``<arch>.safetensors`` with
its ``<arch>.json`` beside it, or a folder holding those.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.expression import nets
from moodshift.expression.augment import view_batch
from moodshift.expression.facecrop import MARGIN, face_crops
from moodshift.expression.own_runtime import SHIPPED_ARCH, SHIPPED_DIR, SHIPPED_SHA256
from moodshift.faces.base import Box
from moodshift.training.checkpoint import first_line, load_weights
from moodshift.training.precision import use_bf16

NAME = "moodshift"


def fuse_conv_bn(model: torch.nn.Module) -> torch.nn.Module:
    """Fold every batch norm that directly follows a convolution inside an nn.Sequential into
    that convolution (inference only: same outputs, one pass less over memory)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in list(model.modules()):
        if not isinstance(module, torch.nn.Sequential):
            continue
        names = list(module._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = module._modules[a], module._modules[b]
            if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
                module._modules[a] = fuse_conv_bn_eval(conv, bn)
                module._modules[b] = torch.nn.Identity()
    return model


def _config_for(path: Path) -> dict[str, object]:
    cfg = path.with_suffix(".json")
    if not cfg.is_file():
        raise UserError(f"{path}: no {cfg.name} beside the weights (arch and preprocessing)")
    try:
        return json.loads(cfg.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{cfg}: unreadable model config ({exc})") from None


class MoodshiftExpression:
    """ExpressionModel for moodshift's own networks (see the module docstring)."""

    name = NAME

    def __init__(self, model: torch.nn.Module, config: dict[str, object],
                 source: str = "", precision: str = "auto", margin: float = MARGIN,
                 flip_average: bool = True) -> None:
        self.model = fuse_conv_bn(model.eval()).to(memory_format=torch.channels_last)
        self.config = config
        self.source = source
        self.margin = margin
        self.flip_average = flip_average
        self.store_size = int(config["store_size"])
        self.img_size = int(config["img_size"])
        self.crop_fraction = float(config["crop_fraction"])
        self.channels = int(config["channels"])
        self.mean = float(config["mean"])
        self.std = float(config["std"])
        self.bf16 = use_bf16(precision)
        if list(config.get("classes", EMOTIONS)) != list(EMOTIONS):
            raise UserError(f"{source}: model classes {config.get('classes')} differ from "
                            f"{list(EMOTIONS)}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], config: dict[str, object],
                   source: str = "", **kw: object) -> "MoodshiftExpression":
        model = nets.build(str(config["arch"]), **dict(config.get("options", {})))  # type: ignore
        load_weights(model, state, source, str(config["arch"]))
        return cls(model, config, source, **kw)  # type: ignore[arg-type]

    @classmethod
    def shipped(cls, **kw: object) -> "MoodshiftExpression":
        """The model shipped inside the package, checksum-verified."""
        from moodshift.errors import ModelMissingError
        from moodshift.models.store import load_verified_file

        path = SHIPPED_DIR / f"{SHIPPED_ARCH}.safetensors"
        if not SHIPPED_SHA256 or not path.exists():
            raise ModelMissingError(f"{path}: the shipped expression model is missing from this "
                                    "installation (train one with `moodshift train expression`)")
        arrays = load_verified_file(path, SHIPPED_SHA256)
        state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}
        return cls.from_state(state, _config_for(path), str(path), **kw)

    @classmethod
    def from_path(cls, path: str | Path, **kw: object) -> "MoodshiftExpression":
        """A training output: checkpoint.pt, <arch>.safetensors (+ .json), or their folder."""
        state, config, source = read_model_file(path)
        return cls.from_state(state, config, source, **kw)

    # ------------------------------------------------------------------ inference
    def prepare(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """uint8 (n, store_size, store_size) grey face crops."""
        return face_crops(image, boxes, self.store_size, self.margin)

    def predict_crops(self, crops: np.ndarray, batch: int = 64) -> np.ndarray:
        """Probabilities (n, 7) for uint8 grey crops already at store_size.

        The central view and its mirror run as two forward passes of ``batch`` faces: on the
        2-core test machine two passes of 64 were 1.5x faster than one pass of 128."""
        if len(crops) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        x_all = torch.from_numpy(np.ascontiguousarray(crops))
        outs = []
        with torch.inference_mode():
            for i in range(0, len(x_all), batch):
                x = view_batch(x_all[i:i + batch], self.img_size, self.crop_fraction,
                               self.channels, mean=self.mean, std=self.std)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                    p = torch.softmax(self.model(x).double(), dim=1)
                    if self.flip_average:
                        mirror = x.flip(-1).contiguous(memory_format=torch.channels_last)
                        p = (p + torch.softmax(self.model(mirror).double(), dim=1)) / 2
                outs.append(p.numpy())
        probs = np.concatenate(outs)
        return probs / probs.sum(1, keepdims=True)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(len(boxes), 7) probabilities in EMOTIONS order, each row summing to 1."""
        if not boxes:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        return self.predict_crops(self.prepare(image, boxes))


def read_model_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, object], str]:
    """(state dict, config, file used) of a training output: checkpoint.pt, <arch>.safetensors
    with its <arch>.json, or a folder holding them. Raises UserError naming the file."""
    p = Path(path)
    if p.is_dir():
        cands = sorted(p.glob("*.safetensors"))
        if cands:
            p = cands[0]
        elif (p / "checkpoint.pt").is_file():
            p = p / "checkpoint.pt"
        else:
            raise UserError(f"{path}: no *.safetensors or checkpoint.pt in this folder")
    if not p.is_file():
        raise UserError(f"{path}: no such model file")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(p))
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise UserError(f"{p}: not a readable safetensors file ({first_line(exc)})") from None
        return state, _config_for(p), str(p)
    from moodshift.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(p, "a moodshift expression checkpoint", ("model", "config"))
    return ckpt["model"], ckpt["config"], str(p)


class _OnnxWrapper(torch.nn.Module):
    """Single-view graph: normalised (n, c, s, s) -> softmax (n, 7)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)


def export_onnx(model: MoodshiftExpression, path: str | Path, check: bool = True) -> float:
    """Write an ONNX graph of the network (input ``faces``: normalised float (n, c, s, s), the
    central view; output ``probabilities`` (n, 7)) and, with check, compare it with torch on
    random crops through onnxruntime. Returns the largest absolute difference (0 without check)."""
    path = Path(path)
    net = _OnnxWrapper(model.model).eval().float()
    s = model.img_size
    dummy = torch.randn(2, model.channels, s, s)
    from moodshift.models.onnx_export import export_module

    export_module(net, dummy, path, True, input_names=["faces"], output_names=["probabilities"],
                  dynamic_axes={"faces": {0: "n"}, "probabilities": {0: "n"}},
                  check_shapes=None if check else [])
    if not check:
        return 0.0
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (8, model.store_size, model.store_size), dtype=np.uint8)
    x = view_batch(torch.from_numpy(crops), s, model.crop_fraction, model.channels,
                   mean=model.mean, std=model.std).contiguous()
    with torch.inference_mode():
        want = net(x).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"faces": x.numpy()})[0]
    diff = float(np.abs(got - want).max())
    if diff > 1e-4:
        raise RuntimeError(f"{path}: ONNX output differs from torch by {diff:.2e}")
    return diff
