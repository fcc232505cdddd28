"""VGG16 / VGG19 feature layers (Simonyan & Zisserman 2015), defined here without torchvision.

Weights are torchvision-format checkpoints (``vgg19-dcbb9e9d.pth``, ``vgg16-397923af.pth``);
only the ``features.<index>.weight|bias`` tensors are read, so a full classifier checkpoint or a
features-only one both work. Where they come from, in order: ``--vgg-weights PATH``, the torch
hub cache (``$TORCH_HOME/hub/checkpoints``), else a download from the official URL into that
cache. Every file is checked by sha256: torchvision names its files ``<arch>-<first 8 hex digits
of the sha256>.pth`` and torch.hub verifies that prefix, so we do the same (a full digest can be
given instead). Used by the optimize engine and by ``moodshift train style`` (train_style).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from moodshift.errors import InputFileError, UserError
from moodshift.models.store import sha256_file
from moodshift.style.backbones.base import Backbone, print_once_to_stderr

# Channel plans; "M" is a 2x2 max-pool. torchvision's `features` indexes conv, ReLU and pool
# modules in one Sequential, so conv i's weights are `features.<index>.weight`.
CONFIGS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}
FILES = {"vgg19": "vgg19-dcbb9e9d.pth", "vgg16": "vgg16-397923af.pth"}
URL = "https://download.pytorch.org/models/{file}"
DOWNLOAD_TIMEOUT_S = 20
# torchvision's ImageNet normalisation (its VGG weights were trained on it).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
# Gatys et al.'s layers, as in the Keras/TensorFlow tutorial the seed followed: content from
# conv5_2, style from conv1_1 .. conv5_1 (all after their ReLU).
CONTENT_LAYERS = ("conv5_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
# The seed's weights, meaningful with the loss normalisation documented in style/losses.py.
SEED_WEIGHTS = {"content": 1e4, "style": 1e-2, "tv": 30.0}


def layer_plan(arch: str) -> list[tuple[str, int, int, int]]:
    """(layer name, torchvision features index, in channels, out channels) for every conv."""
    plan, index, block, conv, channels = [], 0, 1, 1, 3
    for item in CONFIGS[arch]:
        if item == "M":
            index, block, conv = index + 1, block + 1, 1
            continue
        plan.append((f"conv{block}_{conv}", index, channels, int(item)))
        index, conv, channels = index + 2, conv + 1, int(item)  # conv + ReLU
    return plan


def expected_shapes(arch: str) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for _, index, cin, cout in layer_plan(arch):
        shapes[f"features.{index}.weight"] = (cout, cin, 3, 3)
        shapes[f"features.{index}.bias"] = (cout,)
    return shapes


def expected_digest(arch: str) -> str:
    """The official checkpoint's sha256 prefix (from its torchvision file name)."""
    return FILES[arch].split("-")[1].split(".")[0]


def check_sha256(path: Path, expected: str) -> None:
    actual = sha256_file(path)
    if not actual.startswith(expected.lower()):
        raise InputFileError(path, f"checksum mismatch: sha256 {actual[:12]}… does not match "
                                   f"the expected {expected[:12]}…")


def hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def download(arch: str, target: Path) -> Path:
    """Fetch the official checkpoint into `target` (atomically, after checking its digest)."""
    from moodshift.imageio import atomic_write

    url = URL.format(file=FILES[arch])

    class DownloadFailed(Exception):   # carries the network's error past atomic_write's own
        pass

    def fetch(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
            except OSError as exc:
                raise DownloadFailed() from exc
        check_sha256(tmp, expected_digest(arch))

    try:
        return atomic_write(target, fetch)
    except DownloadFailed as failed:
        raise failed.__cause__ from None


def find_vgg_weights(arch: str, path: Path | None = None,
                     log: Callable[[str], None] = print_once_to_stderr) -> Path:
    """The checkpoint to use for `arch`: the given file, the hub cache, or a fresh download."""
    if arch not in FILES:
        raise UserError(f"unknown VGG variant {arch!r}; valid: {', '.join(FILES)}")
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "VGG weights file not found")
        return path
    cached = hub_checkpoint_dir() / FILES[arch]
    if cached.is_file():
        return cached
    try:
        log(f"moodshift: downloading {URL.format(file=FILES[arch])} to {cached}")
        return download(arch, cached)
    except (OSError, UserError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise UserError(f"{arch} weights not found: looked for {cached} and the download "
                        f"failed ({reason}); pass --vgg-weights PATH") from None


def read_features_state(path: Path, arch: str,
                        expected_sha256: str | None = None) -> dict[str, torch.Tensor]:
    """The `features.*` tensors of a torchvision checkpoint, checked by digest and shape.

    expected_sha256 defaults to the official file's digest prefix; pass "" to skip the check
    (only for checkpoints you made yourself).
    """
    path = Path(path)
    digest = expected_digest(arch) if expected_sha256 is None else expected_sha256
    if digest:
        check_sha256(path, digest)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle, zip and runtime errors alike
        raise InputFileError(path, f"not a readable PyTorch checkpoint ({exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise InputFileError(path, "not a state dict of tensors")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    tensors: dict[str, torch.Tensor] = {}
    for key, shape in expected_shapes(arch).items():
        if key not in state:
            raise InputFileError(path, f"missing tensor {key} for {arch}")
        value = state[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise InputFileError(path, f"{key} has shape {got}, {arch} expects {shape}")
        tensors[key] = value.float()
    return tensors


class VGGFeatures(Backbone):
    """VGG conv layers up to the deepest one the losses need; each layer's ReLU output."""

    def __init__(self, arch: str, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.name = arch
        self.content_layers = CONTENT_LAYERS
        self.style_layers = STYLE_LAYERS
        self.default_weights = dict(SEED_WEIGHTS)
        self.plan = layer_plan(arch)
        last = max(i for i, (n, *_) in enumerate(self.plan) if n in self.layers)
        self.plan = self.plan[:last + 1]
        self.convs = torch.nn.ModuleList()
        for _, index, cin, cout in self.plan:
            conv = torch.nn.Conv2d(cin, cout, 3, padding=1)
            conv.weight.data.copy_(state[f"features.{index}.weight"])
            conv.bias.data.copy_(state[f"features.{index}.bias"])
            self.convs.append(conv)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.freeze()

    def features(self, x: torch.Tensor, wanted: tuple[str, ...]) -> dict[str, torch.Tensor]:
        h = (x - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        block = 1
        for (name, *_), conv in zip(self.plan, self.convs):
            this_block = int(name[4:].split("_")[0])
            if this_block != block:  # a max-pool sits between blocks
                h, block = F.max_pool2d(h, 2), this_block
            h = F.relu(conv(h))
            if name in wanted:
                out[name] = h
            if len(out) == len(wanted):
                break
        return out


def load_vgg(arch: str, path: Path, expected_sha256: str | None = None) -> VGGFeatures:
    """A frozen VGG backbone from a torchvision checkpoint (digest and shapes checked)."""
    return VGGFeatures(arch, read_features_state(path, arch, expected_sha256))
