"""Fine-tune the top of EfficientNet-Lite1 (stages 6-7 and the 1x1 head conv) for valence and
arousal, and compare it with the shipped frozen-feature RBF kernel head on the folds of
`moodshift train mood` (10 folds grouped by image content, seed 0). An experiment, not shipped.

    nice -n 10 env OMP_NUM_THREADS=2 PYTHONPATH=src .venv/bin/python \
        tools/mood_finetune_experiment.py cache   # stage-5 maps, centre + flip -> /tmp/mood4
    nice -n 10 env OMP_NUM_THREADS=2 PYTHONPATH=src .venv/bin/python \
        tools/mood_finetune_experiment.py cv --folds 0 1 2 --epochs 3

`cache` runs the frozen stem and stages 1-5 once per image (centre view and its mirror; float16)
and reads the shipped head's features from the `train mood` feature cache. `cv` fine-tunes the
top per fold (ImageNet start; BatchNorm statistics frozen; a linear head initialised by ridge on
the frozen pooled head features; targets z-scored per data set with the training fold's means
and SDs and mapped back with them, as `train mood` does; a random mirror per image and epoch),
predicts the mean of the centre view and its mirror, and writes out-of-fold predictions of both
heads per fold (resumable) and the Pearson r per data set, also for the mean of the two.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DATA = ("../shared/datasets/affect/oasis", "../shared/datasets/affect/emotion6")
OUT = Path("/tmp/mood4")
BACKBONE = "efficientnet-lite1"
CUT = 4            # the cached maps are the output of stage index 4 (stage 5, 112 channels)


def load_net():
    from moodshift.models.store import load_tensors
    from moodshift.mood.backbone import build

    return build(load_tensors(BACKBONE), BACKBONE)


def cache(args: argparse.Namespace) -> None:
    import torch

    from moodshift.imageio import load_image
    from moodshift.mood.features import input_size, make_views, normalise
    from moodshift.mood.ratings import read_rated_folder
    from moodshift.mood.training.feature_cache import extract_all

    torch.set_num_threads(args.threads)
    net = load_net()
    last = net.stage_ends[CUT]
    maps, va, sets, groups, feats = [], [], [], [], []
    started = time.perf_counter()
    for folder in args.data:
        r = read_rated_folder(folder)
        # the shipped head's input: centre-view features + colour, from train mood's cache
        cached = extract_all(r.paths, ["centre"], backbone=BACKBONE)
        feats += [np.concatenate([f.views["centre"], f.colour]) for f in cached]
        for i, path in enumerate(r.paths):
            x = torch.from_numpy(normalise(make_views(load_image(path), ["centre", "centre-flip"],
                                                      input_size(BACKBONE))))
            with torch.no_grad():
                y = net.stem(x)
                for block in net._blocks[:last + 1]:
                    y = block(y)
            maps.append(y.numpy().astype(np.float16))
            if (i + 1) % 200 == 0:
                print(f"{r.name}: {i + 1}/{len(r)} ({time.perf_counter() - started:.0f} s)",
                      flush=True)
        va.append(np.stack([r.valence, r.arousal], axis=1))
        sets += [r.layout.name] * len(r)
        groups += r.groups()
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "maps.npz", maps=np.stack(maps), va=np.concatenate(va), sets=np.array(sets),
             groups=np.array(groups), x=np.stack(feats).astype(np.float32))
    print(f"cached {len(sets)} images in {time.perf_counter() - started:.0f} s")


class Top:
    """Stages 6-7, the head conv and a linear valence/arousal output (shared by the sets)."""

    def __init__(self, net, first: int):
        import torch

        self.blocks = torch.nn.ModuleList(net._blocks[first:])
        self.conv, self.bn = net._conv_head, net._bn1
        self.out = torch.nn.Linear(self.bn.num_features, 2)
        self.modules = torch.nn.ModuleList([self.blocks, self.conv, self.bn, self.out])

    def pooled(self, x):
        import torch

        for block in self.blocks:
            x = block(x)
        return torch.clamp(self.bn(self.conv(x)), 0.0, 6.0).mean(dim=(2, 3))

    def __call__(self, x):
        return self.out(self.pooled(x))


def fit_fold(maps, z, tr, te, args, log):
    """Out-of-fold z predictions (len(te), 2) of the fine-tuned top and timings."""
    import torch

    torch.manual_seed(0)
    net = load_net()
    top = Top(net, net.stage_ends[CUT] + 1)
    top.modules.eval()            # BatchNorm keeps the ImageNet statistics
    xtr = torch.from_numpy(maps[tr])          # (n, 2, C, H, W) float16
    ztr = torch.from_numpy(z[tr]).float()

    def pooled_all(idx_rows, view):
        out = []
        with torch.no_grad():
            for s in range(0, len(idx_rows), 64):
                out.append(top.pooled(idx_rows[s:s + 64, view].float()))
        return torch.cat(out)

    # linear output from ridge on the frozen pooled features (both mirrors as rows)
    h = torch.cat([pooled_all(xtr, 0), pooled_all(xtr, 1)])
    mu, sd = h.mean(0), h.std(0) + 1e-6
    hs = (h - mu) / sd
    y = torch.cat([ztr, ztr])
    w = torch.linalg.solve(hs.T @ hs + args.ridge * torch.eye(hs.shape[1]), hs.T @ y)
    with torch.no_grad():
        top.out.weight.copy_((w / sd[:, None]).T)
        top.out.bias.copy_(-(mu / sd) @ w)
    backbone = [p for m in (top.blocks, top.conv, top.bn) for p in m.parameters()]
    opt = torch.optim.AdamW([{"params": backbone, "lr": args.lr},
                             {"params": top.out.parameters(), "lr": args.lr * 10}],
                            weight_decay=args.wd)
    gen = torch.Generator().manual_seed(0)
    xte = torch.from_numpy(maps[te])

    def predict():
        with torch.no_grad():
            return (sum(top.out(pooled_all(xte, v)) for v in (0, 1)) / 2).numpy()

    per_epoch = [predict()]       # epoch 0: the ridge start (a linear probe of the frozen top)
    epoch_s = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(xtr), generator=gen)
        flips = torch.randint(0, 2, (len(xtr),), generator=gen)
        total = 0.0
        for s in range(0, len(order), args.batch):
            b = order[s:s + args.batch]
            x = xtr[b, flips[b]].float()
            loss = torch.nn.functional.mse_loss(top(x), ztr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        epoch_s.append(time.perf_counter() - t0)
        log(f"  epoch {epoch + 1}: loss {total / len(order):.4f} ({epoch_s[-1]:.0f} s)")
        t0 = time.perf_counter()
        per_epoch.append(predict())
        infer = (time.perf_counter() - t0) / (2 * len(xte))
    n_params = sum(p.numel() for p in top.modules.parameters())
    return np.stack(per_epoch), {"epoch_s": epoch_s, "infer_ms_per_view": 1000 * infer,
                                 "params": n_params}


def table(done, va, sets, preds):
    from moodshift.mood.metrics import pearson

    rows = []
    m = np.isin(np.arange(len(va)), done)
    for name, p in preds.items():
        r = {}
        for s in sorted(set(sets.tolist())):
            k = m & (sets == s)
            r[s] = [pearson(p[k, 0], va[k, 0]), pearson(p[k, 1], va[k, 1])]
        rows.append((name, r))
    return rows


def cv(args: argparse.Namespace) -> None:
    import torch

    from moodshift.mood.training.cv import _to_set_scale, cv_kernel, grouped_folds
    from moodshift.mood.training.heads import Calibration

    torch.set_num_threads(args.threads)
    data = np.load(OUT / "maps.npz")
    maps, va, sets, groups, x = (data["maps"], data["va"], data["sets"],
                                 list(data["groups"]), data["x"])
    folds = grouped_folds(groups, sets, 10, 0)
    kfile = OUT / "kernel_oof.npy"
    if not kfile.exists():   # the shipped head: gamma 1, alpha 0.3, 128 components
        np.save(kfile, cv_kernel(x, va, sets, folds, 128, [1.0], np.array([0.3]))[0, 0])
    kernel = np.load(kfile)
    run = OUT / args.tag
    run.mkdir(exist_ok=True)
    logf = open(run / "log.txt", "a")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    for f in args.folds:
        target = run / f"fold{f}.npz"
        if target.exists():
            continue
        tr, te = folds != f, folds == f
        cals = [Calibration.fit(va[tr, i], sets[tr]) for i in range(2)]
        z = np.stack([c.to_z(va[:, i], sets) for i, c in enumerate(cals)], axis=1)
        log(f"fold {f}: {tr.sum()} train, {te.sum()} test; {vars(args)}")
        t0 = time.perf_counter()
        pz, info = fit_fold(maps, z.astype(np.float32), tr, te, args, log)
        per_epoch = np.stack([_to_set_scale(p, cals, sets[te]) for p in pz])
        info["fold_s"] = time.perf_counter() - t0
        np.savez(target, idx=np.flatnonzero(te), pred=per_epoch[-1], per_epoch=per_epoch,
                 info=json.dumps(info))
        log(f"fold {f}: {info['fold_s']:.0f} s, {info['params']} parameters, "
            f"{info['infer_ms_per_view']:.2f} ms per view for the top")
    done, tuned = [], np.full_like(kernel, np.nan)
    for target in sorted(run.glob("fold*.npz")):
        d = np.load(target)
        tuned[d["idx"]] = d["pred"]
        done += d["idx"].tolist()
    epochs, with_epochs = {}, []
    for target in sorted(run.glob("fold*.npz")):
        d = np.load(target)
        if "per_epoch" not in d.files:      # written before per-epoch predictions were kept
            continue
        with_epochs += d["idx"].tolist()
        for e, p in enumerate(d["per_epoch"]):
            epochs.setdefault(e, np.full_like(kernel, np.nan))[d["idx"]] = p
    log(f"fine-tuned top after each epoch ({len(with_epochs)} images; "
        "0: ridge on the frozen top's pooled features):")
    for name, r in table(with_epochs, va, sets, {f"epoch {e}": p for e, p in epochs.items()}):
        log(f"  {name:10s} " + "  ".join(f"{s} v {r[s][0]:.3f} a {r[s][1]:.3f}" for s in r))
    for f in sorted({int(folds[i]) for i in done}):
        idx = np.flatnonzero(folds == f)
        log(f"fold {f}:")
        for name, r in table(idx, va, sets, {"kernel": kernel, "fine-tuned": tuned,
                                             "mean": (kernel + tuned) / 2}):
            log(f"  {name:10s} " + "  ".join(f"{s} v {r[s][0]:.3f} a {r[s][1]:.3f}" for s in r))
    log(f"pooled over {len(done)} images of folds done:")
    for name, r in table(done, va, sets, {"kernel": kernel, "fine-tuned": tuned,
                                         "mean": (kernel + tuned) / 2}):
        log(f"  {name:10s} " + "  ".join(f"{s} v {r[s][0]:.3f} a {r[s][1]:.3f}" for s in r))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--data", nargs="+", default=list(DATA))
    c.add_argument("--threads", type=int, default=2)
    v = sub.add_parser("cv")
    v.add_argument("--folds", type=int, nargs="+", default=list(range(10)))
    v.add_argument("--epochs", type=int, default=3)
    v.add_argument("--lr", type=float, default=1e-4)
    v.add_argument("--wd", type=float, default=0.05)
    v.add_argument("--batch", type=int, default=32)
    v.add_argument("--ridge", type=float, default=1000.0)
    v.add_argument("--threads", type=int, default=2)
    v.add_argument("--tag", default="run")
    args = p.parse_args()
    cache(args) if args.cmd == "cache" else cv(args)


if __name__ == "__main__":
    main()
