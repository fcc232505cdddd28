"""Fine-tune all of EfficientNet-Lite1 for valence and arousal on a GPU and compare it with the
shipped frozen-feature kernel head, on the folds of `moodshift train mood` (10 folds grouped by
image content, seed 0). An experiment, not shipped; the follow-up of "Fine-tuning the top
stages" in docs/mood-experiments.md.

    # with the project's venv (OpenCV available): the set to take to the GPU -> .devcarry
    # (keep it out of git: research-use images; e.g. list it in .git/info/exclude)
    nice -n 10 env OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python \
        tools/mood_gpu_finetune.py prepare --dest .devcarry
    # where the GPU is (torch, numpy, pillow, safetensors, scipy; no OpenCV needed)
    PYTHONUNBUFFERED=1 PYTHONPATH=src python3 tools/mood_gpu_finetune.py run \
        --data .devcarry --out results --budget-s 400

`prepare` cuts every rated image's "centre" view exactly as the mood features do
(`moodshift.mood.features.make_views`, 240 px for Lite1) and stores it as WebP (the highest
quality that fits --target-mb), with the ratings mapped to [-1, 1], the content groups, the
fold of `grouped_folds(groups, sets, 10, 0)` and the colour features of the original image
(`colour_features`, as the feature cache computes them) in meta.json.gz, plus the Lite1
weights as float16 safetensors (without the ImageNet classifier, which no variant uses).
Because the views are recompressed, `run` recomputes the frozen baseline on the carried views,
so every variant sees the same pixels.

`run`, per fold (train mood's folds; targets z-scored per data set with the training fold's
means and SDs and mapped back with them):

* V0: the shipped recipe on frozen features: multi-depth pooled features of the centre view +
  colour -> RBF kernel ridge (gamma 1, alpha 0.3, 128 principal components), `cv_kernel`.
* V1: all of Lite1 fine-tuned (BatchNorm running statistics frozen, affine parameters
  trained), a linear valence/arousal output on the pooled 1,280 head features (one function
  for both sets, started from ridge on the frozen features) and, for Emotion6 rows, a 7-way
  emotion output (KL to the raters' shares, weight 0.5); AdamW (backbone lr 3e-5, outputs 1e-3,
  weight decay 0.05), batch 64, cosine decay over the epochs, random resized crops of the view
  (area 0.6-1, aspect 3/4-4/3, resized back) and random mirrors done on the GPU; bf16 autocast
  on CUDA. 10 % of the training fold (grouped the same way) is an inner validation split; the
  epoch with the best inner mean r is kept. Test prediction: mean of the view and its mirror.
* V2: V0's kernel head fitted on the multi-depth features + colour of that fold's fine-tuned
  network (train and test images of the fold).
* V3: the mean of V0's and V2's predictions.

Writes OUT/mood_gpu_finetune.json (after every fold), mood_gpu_finetune_oof.npz and
mood_gpu_finetune.log. `--budget-s` stops cleanly before a fold that would not finish in time
(and abandons a fold that runs past it), keeping the folds already done. `--limit N` (the
first N images of each set), `--folds`, `--epochs` make a quick smoke run; CUDA is used when
available, else the CPU (float32, no autocast).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

BACKBONE = "efficientnet-lite1"
DATA = ("../shared/datasets/affect/oasis", "../shared/datasets/affect/emotion6")
VIEW = "centre"
N_FOLDS, FOLD_SEED = 10, 0           # train mood's folds
INNER_FOLDS = 10                     # one inner fold of ten = the 10 % validation split
COMPONENTS, GAMMA, ALPHA = 128, 1.0, 0.3    # the shipped kernel head
RIDGE_START = 1000.0                 # ridge penalty of the V1 output's start (as the CPU run)
COLUMNS = (("oasis", 0, "oasis_v"), ("oasis", 1, "oasis_a"),
           ("emotion6", 0, "emotion6_v"), ("emotion6", 1, "emotion6_a"))
SHIPPED = {"oasis_v": 0.720, "oasis_a": 0.646, "emotion6_v": 0.772, "emotion6_a": 0.375}
META, VIEWS_FILE, WEIGHTS_FILE = "meta.json.gz", "views_webp.npz", "lite1-f16.safetensors"
RESULT = "mood_gpu_finetune"
LOCAL_CHECK = "v0_cpu_check.json"   # V0 computed on CPU before the run (optional, for comparison)


# ---------------------------------------------------------------------------------------------
# moodshift's own code, importable without OpenCV


def mood_modules():
    """moodshift's backbone port, folds, calibration, kernel head pieces and Pearson r.

    ``moodshift.mood/__init__`` imports the colour model, which imports OpenCV; the GPU machine
    has no OpenCV. The modules used here need only numpy, scipy and torch, so where the package
    cannot be imported it is registered without running its ``__init__`` and the submodules
    load unchanged from src/."""
    import types

    note = "moodshift.mood imported normally"
    try:
        import moodshift.mood  # noqa: F401
    except ImportError as exc:
        import moodshift

        pkg = types.ModuleType("moodshift.mood")
        pkg.__path__ = [str(Path(moodshift.__file__).parent / "mood")]
        pkg.__package__ = "moodshift.mood"
        sys.modules["moodshift.mood"] = pkg
        moodshift.mood = pkg
        note = (f"moodshift.mood's __init__ not importable ({exc}); its submodules backbone, "
                "metrics, training.cv and training.heads loaded without it")
    from moodshift.mood import backbone
    from moodshift.mood.metrics import pearson
    from moodshift.mood.training import cv, heads

    return types.SimpleNamespace(backbone=backbone, pearson=pearson, cv=cv, heads=heads,
                                 note=note)


# ---------------------------------------------------------------------------------------------
# prepare (here)


def _encode(view: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(view).save(buf, format="WEBP", quality=quality, method=6)
    return buf.getvalue()


def _decode(blob: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im.convert("RGB"))


def prepare(args: argparse.Namespace) -> None:
    from safetensors.numpy import save_file

    from moodshift.emotions import EMOTIONS
    from moodshift.imageio import load_image
    from moodshift.models.store import load_tensors, read_manifest
    from moodshift.mood.features import (
        COLOUR_NAMES,
        as_uint8_rgb,
        colour_features,
        input_size,
        make_views,
    )
    from moodshift.mood.ratings import read_rated_folder
    from moodshift.mood.training.cv import grouped_folds

    started = time.perf_counter()
    size = input_size(BACKBONE)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    rows, views = [], []
    for folder in args.src:
        r = read_rated_folder(folder)
        groups = r.groups()
        for i, path in enumerate(r.paths):
            rgb = load_image(path)           # as the feature cache: views and colour from this
            views.append(make_views(as_uint8_rgb(rgb), [VIEW], size)[0])
            rows.append({"image": path.name, "set": r.layout.name,
                         "valence": float(r.valence[i]), "arousal": float(r.arousal[i]),
                         "emotions": (None if r.emotions is None
                                      else [float(p) for p in r.emotions[i]]),
                         "group": groups[i],
                         "colour": [float(c) for c in colour_features(rgb)]})
            if (i + 1) % 300 == 0:
                print(f"{r.name}: {i + 1}/{len(r)} ({time.perf_counter() - started:.0f} s)",
                      flush=True)
    sets = np.array([row["set"] for row in rows])
    folds = grouped_folds([row["group"] for row in rows], sets, N_FOLDS, FOLD_SEED)
    for row, f in zip(rows, folds):
        row["fold"] = int(f)

    # the highest WebP quality whose total stays under the target (estimated on a sample of
    # views, then checked on all of them)
    sample = views[:: max(1, len(views) // 150)]
    quality = args.quality
    if quality is None:
        quality = 40
        for q in range(95, 39, -1):
            if np.mean([len(_encode(v, q)) for v in sample]) * len(views) <= args.target_mb * 1e6:
                quality = q
                break
    blobs = [_encode(v, quality) for v in views]
    while args.quality is None and sum(map(len, blobs)) > args.target_mb * 1e6 and quality > 40:
        quality -= 1
        blobs = [_encode(v, quality) for v in views]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    np.savez(dest / VIEWS_FILE, data=np.frombuffer(b"".join(blobs), dtype=np.uint8),
             offsets=offsets)

    tensors = load_tensors(BACKBONE)
    carried = {k: v.astype(np.float16) for k, v in tensors.items() if not k.startswith("_fc.")}
    save_file(carried, str(dest / WEIGHTS_FILE))
    record = read_manifest().get(BACKBONE)

    # what the recompression and the float16 weights change: frozen features of a few views
    import torch

    from moodshift.mood.backbone import build
    from moodshift.mood.features import normalise

    torch.set_num_threads(1)
    pick = np.linspace(0, len(views) - 1, args.check).round().astype(int)
    orig = np.stack([views[i] for i in pick])
    dec = np.stack([_decode(blobs[i]) for i in pick])
    half = {k: v.astype(np.float32) for k, v in carried.items()}
    half.update({k: np.zeros_like(v) for k, v in tensors.items() if k.startswith("_fc.")})
    with torch.no_grad():
        net32, net16 = build(tensors, BACKBONE), build(half, BACKBONE)
        f_ref = net32(torch.from_numpy(normalise(orig)))[0].numpy()
        f_webp = net32(torch.from_numpy(normalise(dec)))[0].numpy()
        f_both = net16(torch.from_numpy(normalise(dec)))[0].numpy()

    def agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        corr = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)]
        rel = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
        return {"mean_corr": round(float(np.mean(corr)), 5),
                "min_corr": round(float(np.min(corr)), 5),
                "mean_rel_err": round(float(np.mean(rel)), 5)}

    diff = np.abs(orig.astype(np.int16) - dec.astype(np.int16))
    check = {"images": len(pick),
             "pixel_mae": round(float(diff.mean()), 3),
             "psnr_db": round(float(10 * np.log10(255 ** 2 / np.mean(diff.astype(float) ** 2))),
                              2),
             "features_webp_vs_original": agreement(f_ref, f_webp),
             "features_webp_f16_weights_vs_original": agreement(f_ref, f_both)}
    meta = {"backbone": BACKBONE, "input_size": size, "view": VIEW, "webp_quality": quality,
            "folds": {"k": N_FOLDS, "seed": FOLD_SEED, "by": "moodshift grouped_folds"},
            "emotions": list(EMOTIONS), "colour_names": list(COLOUR_NAMES),
            "weights": {"file": WEIGHTS_FILE, "dtype": "float16",
                        "source_sha256": record.sha256 if record else None,
                        "dropped": sorted(k for k in tensors if k.startswith("_fc."))},
            "check": check, "rows": rows}
    (dest / META).write_bytes(gzip.compress(json.dumps(meta).encode()))
    sizes = {p.name: p.stat().st_size for p in sorted(dest.iterdir()) if p.is_file()}
    print(json.dumps({"quality": quality, "n": len(rows), "sizes": sizes,
                      "total_mb": round(sum(sizes.values()) / 1e6, 2), "check": check,
                      "seconds": round(time.perf_counter() - started, 1)}, indent=1))


# ---------------------------------------------------------------------------------------------
# run (GPU machine)


class OutOfTime(Exception):
    pass


def _columns_r(m, pred: np.ndarray, va: np.ndarray, sets: np.ndarray, rows: np.ndarray
               ) -> dict[str, float]:
    out = {}
    for s, axis, name in COLUMNS:
        k = rows & (sets == s)
        out[name] = round(m.pearson(pred[k, axis], va[k, axis]), 4) if k.sum() > 1 else None
    vals = [v for v in out.values() if v is not None and np.isfinite(v)]
    out["mean"] = round(float(np.mean(vals)), 4) if vals else None
    return out


def _finite(obj):
    """NaN and infinities -> None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def kernel_fold(m, x: np.ndarray, va: np.ndarray, sets: np.ndarray, tr: np.ndarray,
                te: np.ndarray) -> np.ndarray:
    """The shipped kernel head for one fold: the body of moodshift's `cv_kernel` (one gamma,
    one alpha), for features that differ per fold."""
    h = m.heads
    std = h.Standardiser.fit(x[tr])
    a, b = std(x[tr]), std(x[te])
    basis, scale = h.pca_basis(a, COMPONENTS)
    a, b = a @ basis / scale, b @ basis / scale
    cals = [h.Calibration.fit(va[tr, i], sets[tr]) for i in range(2)]
    z = np.stack([c.to_z(va[tr, i], sets[tr]) for i, c in enumerate(cals)], axis=1)
    pred = h.kernel_ridge_path(h.rbf_kernel(a, a, GAMMA), z, h.rbf_kernel(b, a, GAMMA),
                               np.array([ALPHA]))[0]
    return m.cv._to_set_scale(pred, cals, sets[te])


def run(args: argparse.Namespace) -> None:
    t_start = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - t_start

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    logf = open(out_dir / f"{RESULT}.log", "a")

    def log(msg: str) -> None:
        line = f"[{elapsed():6.1f} s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    import torch
    import torch.nn.functional as F

    m = mood_modules()
    log(m.note)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False     # fp32 feature passes stay fp32
        torch.backends.cuda.matmul.allow_tf32 = False
    gpu = torch.cuda.get_device_name(device) if cuda else None
    log(f"torch {torch.__version__} (CUDA {torch.version.cuda}), device {device}"
        + (f" ({gpu})" if gpu else "") + f", budget {args.budget_s:.0f} s")

    # ---- data
    data = Path(args.data)
    meta = json.loads(gzip.decompress((data / META).read_bytes()))
    size = int(meta["input_size"])
    rows_all = meta["rows"]
    keep = list(range(len(rows_all)))
    if args.limit:
        keep, count = [], {}
        for i, row in enumerate(rows_all):
            if count.get(row["set"], 0) < args.limit:
                keep.append(i)
                count[row["set"]] = count.get(row["set"], 0) + 1
    rows = [rows_all[i] for i in keep]
    n = len(rows)
    sets = np.array([r["set"] for r in rows])
    va = np.array([[r["valence"], r["arousal"]] for r in rows], dtype=np.float64)
    groups = [r["group"] for r in rows]
    colour = np.array([r["colour"] for r in rows], dtype=np.float64)
    has_emo = np.array([r["emotions"] is not None for r in rows])
    emo = np.array([r["emotions"] if r["emotions"] is not None else [0.0] * 7 for r in rows])
    folds = np.array([r["fold"] for r in rows])
    if not args.limit:    # the carried folds are train mood's: recompute them to be sure
        again = m.cv.grouped_folds(groups, sets, N_FOLDS, FOLD_SEED)
        if not np.array_equal(again, folds):
            raise SystemExit("carried folds differ from grouped_folds(groups, sets, 10, 0)")
        log("folds: identical to grouped_folds(groups, sets, 10, 0)")

    check_file = data / LOCAL_CHECK
    local_check = json.loads(check_file.read_text()) if check_file.exists() else None
    from concurrent.futures import ThreadPoolExecutor

    from PIL import features as pil_features

    if not pil_features.check("webp"):
        raise SystemExit("this Pillow cannot decode WebP (the carried views)")

    t0 = time.perf_counter()
    packed = np.load(data / VIEWS_FILE)
    buf, offsets = packed["data"].tobytes(), packed["offsets"]
    with ThreadPoolExecutor(16) as pool:
        decoded = list(pool.map(lambda i: _decode(buf[offsets[i]:offsets[i + 1]]), keep))
    imgs = torch.from_numpy(np.stack(decoded)).to(device)        # (n, S, S, 3) uint8
    assert imgs.shape[1:] == (size, size, 3), imgs.shape
    log(f"{n} views decoded to {tuple(imgs.shape)} uint8 on {device} "
        f"({time.perf_counter() - t0:.1f} s); sets " +
        ", ".join(f"{s} {int((sets == s).sum())}" for s in sorted(set(sets.tolist()))))

    from safetensors.numpy import load_file

    half = load_file(str(data / WEIGHTS_FILE))
    tensors = {k: v.astype(np.float32) for k, v in half.items()}
    n_classes, head_c = m.backbone.N_CLASSES, m.backbone.HEAD_CHANNELS
    tensors["_fc.weight"] = np.zeros((n_classes, head_c), np.float32)   # not carried, unused
    tensors["_fc.bias"] = np.zeros(n_classes, np.float32)

    def fresh_net():
        net = m.backbone.build(tensors, BACKBONE)       # eval mode: BatchNorm statistics fixed
        return net.to(device, memory_format=torch.channels_last)

    def as_input(x_uint8_nhwc):
        x = x_uint8_nhwc.permute(0, 3, 1, 2).float()    # NCHW shape, channels-last memory
        return (x - 127.0) / 128.0                      # moodshift.mood.features.normalise

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)

    def pooled(net, x):
        y = net.stem(x)
        for block in net._blocks:
            y = block(y)
        return torch.clamp(net._bn1(net._conv_head(y)), 0.0, 6.0).mean(dim=(2, 3))

    def chunks(idx: np.ndarray):
        """Index batches of one fixed size (the last padded by repeating its last index, so
        cuDNN autotunes one shape), with the count of real rows."""
        for s in range(0, len(idx), args.eval_batch):
            part = idx[s:s + args.eval_batch]
            k = len(part)
            if k < args.eval_batch:
                part = np.concatenate([part, np.full(args.eval_batch - k, part[-1])])
            yield torch.as_tensor(part, device=device), k

    def multi_depth(net, idx: np.ndarray) -> np.ndarray:
        """moodshift's features (EfficientNetLite.forward) of the centre view, float32."""
        out = []
        with torch.no_grad():
            for b, k in chunks(idx):
                out.append(net(as_input(imgs[b]))[0][:k].float().cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def augment(x_uint8_nhwc):
        """Random resized crop (area 0.6-1 of the view, aspect 3/4-4/3, clipped to the view)
        resized back to the view's size, and a random mirror: one affine grid per image."""
        b = x_uint8_nhwc.shape[0]
        u = torch.rand(b, 5, device=device)
        area = 0.6 + 0.4 * u[:, 0]
        ratio = torch.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * u[:, 1])
        w = torch.sqrt(area * ratio).clamp(max=1.0)    # fractions of the side
        h = torch.sqrt(area / ratio).clamp(max=1.0)
        cx = (2 * u[:, 2] - 1) * (1 - w)
        cy = (2 * u[:, 3] - 1) * (1 - h)
        mirror = torch.where(u[:, 4] < 0.5, -1.0, 1.0)
        theta = torch.zeros(b, 2, 3, device=device)
        theta[:, 0, 0], theta[:, 0, 2] = w * mirror, cx
        theta[:, 1, 1], theta[:, 1, 2] = h, cy
        x = x_uint8_nhwc.permute(0, 3, 1, 2).float()
        grid = F.affine_grid(theta, [b, 3, size, size], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return ((x - 127.0) / 128.0).contiguous(memory_format=torch.channels_last)

    def predict_z(net, head, idx: np.ndarray) -> np.ndarray:
        """Valence/arousal z of the view and its mirror, averaged."""
        out = []
        with torch.no_grad():
            for b, k in chunks(idx):
                x = as_input(imgs[b])
                with autocast():
                    h1, h2 = pooled(net, x), pooled(net, x.flip(3))
                p = head(h1.float()) + head(h2.float())        # the output layer in float32
                out.append((p[:k] / 2).cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def inner_r(pz: np.ndarray, z: np.ndarray, idx: np.ndarray) -> list[float]:
        rs = []
        for s, axis, _ in COLUMNS:
            k = sets[idx] == s
            rs.append(m.pearson(pz[k, axis], z[idx][k, axis]) if k.sum() > 2 else float("nan"))
        return rs

    # ---- V0: frozen features, the shipped kernel head (moodshift's cv_kernel)
    t0 = time.perf_counter()
    net0 = fresh_net()
    x0 = np.concatenate([multi_depth(net0, np.arange(n)), colour], axis=1)
    t_feat = time.perf_counter() - t0
    del net0
    v0 = m.cv.cv_kernel(x0, va, sets, folds, COMPONENTS, [GAMMA], np.array([ALPHA]))[0, 0]
    v0_s = time.perf_counter() - t0
    first = int(np.unique(folds)[0])
    same = kernel_fold(m, x0, va, sets, folds != first, folds == first)
    if not np.allclose(same, v0[folds == first], atol=1e-8):
        raise SystemExit("kernel_fold does not reproduce cv_kernel")
    all_rows = np.ones(n, bool)
    log(f"V0: {x0.shape[1]} features per image ({t_feat:.1f} s on {device}), kernel head over "
        f"{N_FOLDS} folds {v0_s - t_feat:.1f} s; kernel_fold reproduces cv_kernel on fold "
        f"{first}")
    r0 = _columns_r(m, v0, va, sets, all_rows)
    log("V0 all folds: " + "  ".join(f"{k} {v}" for k, v in r0.items())
        + "  | shipped: " + "  ".join(f"{k} {v}" for k, v in SHIPPED.items()))

    # ---- per fold: V1 (fine-tune), V2 (kernel head on the fine-tuned features)
    v1 = np.full((n, 2), np.nan)
    v2 = np.full((n, 2), np.nan)
    fold_info: dict[int, dict] = {}
    done: list[int] = []
    stopped = None
    run_folds = [f for f in args.folds if (folds == f).any()]

    def write() -> None:
        rows_done = np.isin(folds, done)
        v3 = (v0 + v2) / 2
        preds = {"V0": v0, "V1": v1, "V2": v2, "V3": v3}
        variants = {}
        for name, p in preds.items():
            variants[name] = {
                "r": _columns_r(m, p, va, sets, rows_done) if done else None,
                "per_fold": {str(f): _columns_r(m, p, va, sets, folds == f) for f in done}}
        variants["V0"]["r_all_folds"] = r0
        variants["V0"]["minus_shipped_all_folds"] = {
            k: (round(r0[k] - v, 4) if r0[k] is not None else None) for k, v in SHIPPED.items()}
        variants["V0"]["seconds"] = round(v0_s, 1)
        variants["V1"]["epochs_chosen"] = {str(f): fold_info[f]["epoch"] for f in done}
        variants["V1"]["seconds_per_fold"] = {str(f): fold_info[f]["v1_s"] for f in done}
        variants["V2"]["seconds_per_fold"] = {str(f): fold_info[f]["v2_s"] for f in done}
        result = {
            "torch": torch.__version__, "cuda": torch.version.cuda, "gpu": gpu,
            "device": str(device), "args": vars(args), "n_images": n,
            "carried": {"webp_quality": meta["webp_quality"], "check": meta.get("check"),
                        "weights": meta["weights"]},
            "import_note": m.note, "shipped_reference": SHIPPED, "local_v0_check": local_check,
            "folds_done": done, "folds_requested": run_folds, "stopped_early": stopped,
            "rows_scored": int(rows_done.sum()), "variants": variants,
            "v1_fold_details": {str(f): fold_info[f] for f in done},
            "elapsed_s": round(elapsed(), 1)}
        tmp = out_dir / f"{RESULT}.json.tmp"
        tmp.write_text(json.dumps(_finite(result), indent=1, allow_nan=False))
        tmp.replace(out_dir / f"{RESULT}.json")
        np.savez(out_dir / f"{RESULT}_oof.npz", v0=v0, v1=v1, v2=v2, v3=v3, va=va, sets=sets,
                 folds=folds, done=np.array(done, dtype=int),
                 images=np.array([r["image"] for r in rows]))

    write()
    reserve = args.reserve_s        # what a fold needs after its last epoch (refined by fold 0)
    for f in run_folds:
        if fold_info:
            need = max(i["fold_s"] for i in fold_info.values())
            if elapsed() + need > args.budget_s:
                stopped = (f"before fold {f}: {elapsed():.0f} s elapsed + {need:.0f} s for a "
                           f"fold > budget {args.budget_s:.0f} s")
                log("stopping " + stopped)
                break
        t_fold = time.perf_counter()
        try:
            info, pz, net = finetune_fold(
                f, m, args, device, imgs, folds, sets, va, groups, has_emo, emo, fresh_net,
                chunks, as_input, pooled, augment, predict_z, inner_r, autocast, log, elapsed,
                reserve)
        except OutOfTime as exc:
            stopped = f"fold {f} abandoned: {exc}"
            log("stopping: " + stopped)
            break
        tr, te = folds != f, folds == f
        v1[te] = m.cv._to_set_scale(pz, info.pop("cals"), sets[te])
        t2 = time.perf_counter()
        x2 = np.concatenate([multi_depth(net, np.arange(n)), colour], axis=1)
        v2[te] = kernel_fold(m, x2, va, sets, tr, te)
        del net
        info["v2_s"] = round(time.perf_counter() - t2, 1)
        info["fold_s"] = round(time.perf_counter() - t_fold, 1)
        reserve = max(args.reserve_s, info["after_train_s"] + info["v2_s"] + 5.0)
        fold_info[f] = info
        done.append(f)
        write()
        log(f"fold {f} done in {info['fold_s']:.0f} s (V1 {info['v1_s']:.0f} s, epoch "
            f"{info['epoch']} kept, V2 {info['v2_s']:.1f} s)")
        rows_f = folds == f
        for name, p in (("V0", v0), ("V1", v1), ("V2", v2), ("V3", (v0 + v2) / 2)):
            r = _columns_r(m, p, va, sets, rows_f)
            log(f"  {name} " + "  ".join(f"{k} {v}" for k, v in r.items()))
    write()

    rows_done = np.isin(folds, done)
    print()
    log(f"out-of-fold Pearson r over the {int(rows_done.sum())} images of folds {done}"
        + (f" (stopped: {stopped})" if stopped else ""))
    header = f"{'variant':34s} {'OASIS v':>8s} {'OASIS a':>8s} {'E6 v':>8s} {'E6 a':>8s} " \
             f"{'mean r':>8s}"
    print(header)
    names = {"V0": "V0 frozen + kernel head", "V1": "V1 fine-tuned, linear output",
             "V2": "V2 fine-tuned + kernel head", "V3": "V3 mean of V0 and V2"}
    if done:
        for key, p in (("V0", v0), ("V1", v1), ("V2", v2), ("V3", (v0 + v2) / 2)):
            r = _columns_r(m, p, va, sets, rows_done)
            print(f"{names[key]:34s} " + " ".join(
                f"{r[c]:8.3f}" if r[c] is not None else f"{'-':>8s}"
                for c in ("oasis_v", "oasis_a", "emotion6_v", "emotion6_a", "mean")))
    print(f"{'V0, all 10 folds':34s} " + " ".join(
        f"{r0[c]:8.3f}" if r0[c] is not None else f"{'-':>8s}"
        for c in ("oasis_v", "oasis_a", "emotion6_v", "emotion6_a", "mean")))
    if local_check and not args.limit:
        for label, r in local_check["rows"].items():
            print(f"{label[:34]:34s} " + " ".join(f"{v:8.3f}" for v in r))
    print(f"{'shipped (card)':34s} " + " ".join(f"{SHIPPED[c]:8.3f}" for c in SHIPPED)
          + f" {np.mean(list(SHIPPED.values())):8.3f}")
    log(f"epochs kept per fold: {({f: fold_info[f]['epoch'] for f in done})}; "
        f"total {elapsed():.0f} s")


def finetune_fold(f, m, args, device, imgs, folds, sets, va, groups, has_emo, emo, fresh_net,
                  chunks, as_input, pooled, augment, predict_z, inner_r, autocast, log, elapsed,
                  reserve):
    """V1 for fold f: the fine-tuned network at its best inner epoch, the test rows' z
    predictions and what happened."""
    import torch
    import torch.nn.functional as F

    t_fold = time.perf_counter()
    torch.manual_seed(1000 + f)
    cuda = device.type == "cuda"
    tr_idx, te_idx = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
    cals = [m.heads.Calibration.fit(va[tr_idx, i], sets[tr_idx]) for i in range(2)]
    z = np.zeros_like(va)
    z[tr_idx] = np.stack([c.to_z(va[tr_idx, i], sets[tr_idx]) for i, c in enumerate(cals)], 1)
    inner = m.cv.grouped_folds([groups[i] for i in tr_idx], sets[tr_idx], INNER_FOLDS, 100 + f)
    fit_idx, val_idx = tr_idx[inner != 0], tr_idx[inner == 0]

    net = fresh_net()
    net._fc.requires_grad_(False)
    head = torch.nn.Linear(m.backbone.HEAD_CHANNELS, 2).to(device)
    emo_head = torch.nn.Linear(m.backbone.HEAD_CHANNELS, 7).to(device)

    # the valence/arousal output starts from ridge on the frozen pooled features (view and
    # mirror of every fitting image as rows); the emotion output from the mean shares
    t0 = time.perf_counter()
    feats = []
    with torch.no_grad():
        for b, k in chunks(fit_idx):
            x = as_input(imgs[b])
            feats += [pooled(net, x)[:k], pooled(net, x.flip(3))[:k]]
        h = torch.cat(feats[0::2] + feats[1::2]).double()
        y = torch.as_tensor(np.concatenate([z[fit_idx], z[fit_idx]]), device=device)
        mu, sd = h.mean(0), h.std(0) + 1e-6
        hs = (h - mu) / sd
        y_mean = y.mean(0)
        eye = torch.eye(hs.shape[1], dtype=hs.dtype, device=device)
        w = torch.linalg.solve(hs.T @ hs + RIDGE_START * eye, hs.T @ (y - y_mean))
        head.weight.copy_((w / sd[:, None]).T.float())
        head.bias.copy_((y_mean - (mu / sd) @ w).float())
        emo_fit = fit_idx[has_emo[fit_idx]]
        emo_head.weight.zero_()
        if len(emo_fit):
            mean_p = np.clip(emo[emo_fit].mean(axis=0), 1e-8, 1.0)
            emo_head.bias.copy_(torch.as_tensor(np.log(mean_p), dtype=torch.float32))
    start_s = time.perf_counter() - t0

    backbone_params = [p for name, p in net.named_parameters() if not name.startswith("_fc.")]
    out_params = list(head.parameters()) + list(emo_head.parameters())
    kw = {"fused": True} if cuda else {}
    opt = torch.optim.AdamW([{"params": backbone_params, "lr": args.lr_backbone},
                             {"params": out_params, "lr": args.lr_head}],
                            weight_decay=args.wd, **kw)
    steps_per_epoch = max(1, len(fit_idx) // args.batch)      # last partial batch dropped
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))

    z_dev = torch.as_tensor(z, dtype=torch.float32, device=device)
    emo_dev = torch.as_tensor(emo, dtype=torch.float32, device=device)
    has_dev = torch.as_tensor(has_emo, dtype=torch.float32, device=device)
    fit_dev = torch.as_tensor(fit_idx, device=device)

    def state():
        return [{k: v.detach().clone() for k, v in mod.state_dict().items()}
                for mod in (net, head, emo_head)]

    hist = {"inner_r": [], "inner_mean_r": [], "train_loss": [], "epoch_s": []}
    r_start = inner_r(predict_z(net, head, val_idx), z, val_idx)
    hist["inner_r_start"] = [round(float(r), 4) for r in r_start]
    best, best_r, best_state = 0, -np.inf, None
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = fit_dev[torch.randperm(len(fit_idx), device=device)]
        loss_sum = torch.zeros((), device=device)
        for s in range(steps_per_epoch):
            b = order[s * args.batch:(s + 1) * args.batch]
            x = augment(imgs[b])
            with autocast():
                hb = pooled(net, x).float()
            out_va, out_emo = head(hb), emo_head(hb)           # the outputs in float32
            loss_va = F.mse_loss(out_va, z_dev[b])
            p, mask = emo_dev[b], has_dev[b]
            kl = (torch.xlogy(p, p) - p * F.log_softmax(out_emo, dim=1)).sum(dim=1)
            loss_emo = (kl * mask).sum() / mask.sum().clamp(min=1.0)
            loss = loss_va + args.emo_weight * loss_emo
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach()
        rs = inner_r(predict_z(net, head, val_idx), z, val_idx)
        mean_r = float(np.nanmean(rs)) if np.isfinite(rs).any() else float("nan")
        hist["inner_r"].append([round(float(r), 4) for r in rs])
        hist["inner_mean_r"].append(round(mean_r, 4))
        hist["train_loss"].append(round(float(loss_sum) / steps_per_epoch, 4))
        hist["epoch_s"].append(round(time.perf_counter() - t0, 2))
        if mean_r > best_r or best_state is None:
            best, best_r, best_state = epoch, mean_r, state()
        log(f"f{f} e{epoch}/{args.epochs} loss {hist['train_loss'][-1]:.4f} inner r "
            + " ".join(f"{r:.3f}" for r in rs) + f" = {mean_r:.3f} ({hist['epoch_s'][-1]:.1f} s)")
        if elapsed() + reserve > args.budget_s:
            raise OutOfTime(f"{elapsed():.0f} s elapsed after epoch {epoch} + {reserve:.0f} s "
                            f"to finish > budget {args.budget_s:.0f} s")
    for mod, st in zip((net, head, emo_head), best_state):
        mod.load_state_dict(st)
    t0 = time.perf_counter()
    pz = predict_z(net, head, te_idx)
    info = {"epoch": best, "best_inner_mean_r": round(best_r, 4), "n_fit": len(fit_idx),
            "n_inner_val": len(val_idx), "n_test": len(te_idx), "start_s": round(start_s, 2),
            "steps_per_epoch": steps_per_epoch, **hist, "cals": cals}
    info["after_train_s"] = round(time.perf_counter() - t0, 2)
    info["v1_s"] = round(time.perf_counter() - t_fold, 1)
    return info, pz, net


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("prepare", help="cut, compress and pack the carry set (here)")
    c.add_argument("--src", nargs="+", default=list(DATA))
    c.add_argument("--dest", default=".devcarry")
    c.add_argument("--target-mb", type=float, default=14.8, help="for all WebP views together")
    c.add_argument("--quality", type=int, default=None, help="WebP quality (default: fit target)")
    c.add_argument("--check", type=int, default=16, help="views for the feature check")
    r = sub.add_parser("run", help="V0-V3 on the carried views (GPU machine)")
    r.add_argument("--data", default=".devcarry")
    r.add_argument("--out", required=True)
    r.add_argument("--budget-s", type=float, default=400.0)
    r.add_argument("--reserve-s", type=float, default=20.0,
                   help="time kept for a fold's last steps before its first fold is measured")
    r.add_argument("--folds", type=int, nargs="+", default=list(range(N_FOLDS)))
    r.add_argument("--epochs", type=int, default=15)
    r.add_argument("--batch", type=int, default=64)
    r.add_argument("--eval-batch", type=int, default=256)
    r.add_argument("--lr-backbone", type=float, default=3e-5)
    r.add_argument("--lr-head", type=float, default=1e-3)
    r.add_argument("--wd", type=float, default=0.05)
    r.add_argument("--emo-weight", type=float, default=0.5)
    r.add_argument("--limit", type=int, default=0, help="first N images of each set (smoke)")
    r.add_argument("--device", default="auto", help="auto (CUDA when available), cuda, cpu")
    args = p.parse_args()
    prepare(args) if args.cmd == "prepare" else run(args)


if __name__ == "__main__":
    main()
