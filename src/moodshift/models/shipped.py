"""The models moodshift ships in its package: name -> files, sha256, licence, input.

One table that the model store (``registry``: status, verify) and the features that load the
models (expression, style, generate, text) both read, so a digest is written down once and the
store needs to import no feature. Each model's MODEL_CARD.md repeats its digests for readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
MODELS_DATA = DATA / "models"


@dataclass(frozen=True)
class ShippedFile:
    path: Path
    sha256: str


@dataclass(frozen=True)
class ShippedModel:
    name: str
    files: tuple[ShippedFile, ...]
    input: str                   # what the network takes, for readers and the model card
    licence: str = "MIT"
    onnx_net: str = ""           # runtime.NETS entry `models pull` exports to ONNX ("" none)


def _file(relative: str, sha256: str) -> ShippedFile:
    return ShippedFile(DATA / relative, sha256)


SHIPPED: dict[str, ShippedModel] = {m.name: m for m in (
    ShippedModel("moodshift-expression", (
        _file("models/expression/msnet.safetensors",
              "f685d1da5ce5156ac457c40bb85def1d3c47ca8293a7f4eb051d520096e5cffe"),
        # the same weights quantised by `moodshift models quantize`
        _file("models/expression/msnet.int8.onnx",
              "1b4a9dcca99a64f6cf94893d4c19dc50408280670b3c7d797fb44e8137068b66"),
    ), "grey face crop 44x44 (48x48 with a centre crop), 0..1", onnx_net="moodshift-expression"),
    # one style network per emotion (EMOTIONS order), made by `moodshift train style`
    ShippedModel("moodshift-style-angry", (
        _file("models/style/angry.onnx",
              "dcaaee8cf82eb60d456bd7f3749bc05961d82fc67a256a8fe65862d7f765a876"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-disgust", (
        _file("models/style/disgust.onnx",
              "ef3e725386ad658a97855728933f93db594c36abe31a3ad2995f78d85521cfb5"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-fear", (
        _file("models/style/fear.onnx",
              "5f054b19a6d80686bbac7839a1c15890871a84eb23af3c5f14deb45e96709989"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-happy", (
        _file("models/style/happy.onnx",
              "0ad84947d35a172fe03af138824a524588181c45752545cfa794295674f35ca4"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-sad", (
        _file("models/style/sad.onnx",
              "aa5d47ed27886fd01c68bfb83062029e2711f5918887c2d75c0cdc6c013a03f7"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-surprise", (
        _file("models/style/surprise.onnx",
              "3134f3c8ddb7bfde38291f072a4a3cd1cb05eff6455f168d5129e534e011fa51"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-style-neutral", (
        _file("models/style/neutral.onnx",
              "1eed94faf88ba75db1b202813ea890b41dd34631c3ee6ab0294dfb293c3e3d87"),
    ), "RGB image, float32 NCHW in 0..1, any size (multiples of 4)"),
    ShippedModel("moodshift-gan", (
        _file("models/gan/generator.safetensors",
              "cd697386f11e350f5ff7abc18b81f054b475d74cb3e43e7666ba9ea0f8ddeab4"),
    ), "latent (64) + emotion, age group, gender conditions -> 48x48 grey face"),
    ShippedModel("moodshift-affect-emotion", (
        _file("models/affect/emotion.safetensors",
              "c9d04925fd9837d2ed97f59577c05a6616a602d919890f906052162961cddb58"),
    ), "noise + emotion -> RGB image"),
    ShippedModel("moodshift-affect-vad", (
        _file("models/affect/vad.safetensors",
              "d160bf83500341744900cb1a84b5924bcce434b5352d3a93748172e5bc23edba"),
    ), "noise + valence, arousal, dominance -> RGB image"),
    ShippedModel("moodshift-stylegan-directions", (
        _file("models/stylegan/directions.safetensors",
              "543823cfb5d0a4cefc1cfec05dee78035594780cea4edb8c2850be51f27491a7"),
    ), "MobileStyleGAN style (512) -> positions along 7 emotion, age and gender directions"),
    ShippedModel("moodshift-expression-offsets", (
        _file("models/editing/mesh-offsets.safetensors",
              "f38acb78eee6b4390983ab210a164c25bee4d11aa7356874d129a965da4a7b5d"),
    ), "per-emotion offsets of MediaPipe's 468 mesh points (eye distance 1), by "
       "`moodshift train expression-offsets`"),
    ShippedModel("moodshift-text-head", (
        _file("text/head.safetensors",
              "afc317892b2efde41f0dae3a886b3b7765dd9758063003b4fff554d900fc3988"),
    ), "all-MiniLM-L6-v2 sentence embedding (384) + 7 emotion cue counts"),
    # heads of the human-rated mood model (weights, then the JSON with views and calibration)
    ShippedModel("moodshift-mood-default", (
        _file("models/mood/default.safetensors",
              "baedb1840708b95659b1718102e4fee7e6e23c65362bf19e5bddf844b978310a"),
        _file("models/mood/default.json",
              "c84349d49d235ca967c3734eb3b6fa25802117a6d09d1413b6dfae4a786ba80f"),
    ), "EfficientNet-Lite1 features of one 240x240 view + colour statistics"),
    ShippedModel("moodshift-mood-oasis-only", (
        _file("models/mood/oasis-only.safetensors",
              "aa93459f92aea26ca6be1be7b500708b9abaa8dc1bc2d9d5803c5d334537146c"),
        _file("models/mood/oasis-only.json",
              "40124e3df7d1c6c2db6677c719b9aa25014c15229e22921397fd94d89d2f3415"),
    ), "EfficientNet-Lite1 features of one 240x240 view + colour statistics"),
    ShippedModel("moodshift-mood-emotion6-only", (
        _file("models/mood/emotion6-only.safetensors",
              "f53679978573d04968f47ec3c5f818d914d6e43700310e033b76b3717a2088ba"),
        _file("models/mood/emotion6-only.json",
              "edcdaad2556de9109053ddd675ca074a420ccd75d1649ed3bd35359404306384"),
    ), "EfficientNet-Lite1 features of one 240x240 view + colour statistics"),
)}


def shipped_file(name: str, index: int = 0) -> ShippedFile:
    """File ``index`` of shipped model ``name``."""
    return SHIPPED[name].files[index]
