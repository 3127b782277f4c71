"""``reid evaluate``: CMC / mAP of a checkpoint on a query/gallery split, plus CMC and retrieval pictures."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

TABLE_RANKS = (1, 5, 10, 20)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="rank-k and mAP of a trained checkpoint on query/gallery",
        description="Evaluate a checkpoint from `reid train` with the Market-1501 protocol (same-camera "
        "matches of the query's identity are ignored). Writes cmc.png, retrieval.png and evaluation.json.",
    )
    p.add_argument("--weights", required=True, metavar="CKPT", help="checkpoint written by `reid train` (best.pt)")
    p.add_argument("--data", metavar="DIR",
                   help="dataset folder with query/ and bounding_box_test/ (default: the one it was trained on)")
    p.add_argument("--format", choices=["auto", "market", "generic"], default="auto", help="dataset layout")
    p.add_argument("--rerank", action="store_true", help="also report k-reciprocal re-ranking (Zhong et al. 2017)")
    p.add_argument("--flip", action="store_true", help="average each image's feature with its mirror image's")
    p.add_argument("--out", metavar="DIR", help="where pictures go (default: the checkpoint's folder)")
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda", help="where to run (default: auto)")
    p.add_argument("--batch", type=int, default=256, help="images per forward pass (default: 256)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def format_table(result: dict[str, Any]) -> str:
    """Rank-k and mAP as percentages, one row per method (plain, re-ranked)."""
    head = "".join(f"{'rank-' + str(r):>9}" for r in TABLE_RANKS) + f"{'mAP':>9}"
    lines = [f"{'':<11}{head}"]
    for name, suffix in (("plain", ""), ("re-ranked", "_rerank")):
        if f"mAP{suffix}" in result:
            cells = "".join(f"{result[f'rank{r}{suffix}']:>9.1%}" for r in TABLE_RANKS)
            lines.append(f"{name:<11}{cells}{result[f'mAP{suffix}']:>9.1%}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from reid.data import load_dataset
    from reid.engine.checkpoint import load_checkpoint, load_embedder
    from reid.engine.device import describe, resolve_device
    from reid.engine.features import evaluate_model
    from reid.metrics.plots import plot_cmc, retrieval_grid

    device = resolve_device(args.device)
    model, meta = load_embedder(args.weights, device)
    data = args.data or load_checkpoint(args.weights)["config"]["data"]["root"]
    dataset = load_dataset(data, format=args.format)
    print(dataset.summary())
    print(f"model: {meta.arch} {meta.height}x{meta.width} -> {meta.embedding_dim}-d, device {describe(device)}")
    result = evaluate_model(model, dataset, meta, device, rerank=args.rerank, flip=args.flip, batch=args.batch,
                            return_distmat=True, progress=not args.no_progress)
    print(format_table(result))

    out = Path(args.out) if args.out else Path(args.weights).parent
    out.mkdir(parents=True, exist_ok=True)
    curves = {"plain": result["cmc"]}
    if args.rerank:
        curves["re-ranked"] = result["cmc_rerank"]
    plot_cmc(curves, out / "cmc.png")
    q, g = dataset.query, dataset.gallery
    retrieval_grid(result["distmat"], [s.path for s in q], [s.path for s in g], [s.pid for s in q],
                   [s.pid for s in g], [s.camid for s in q], [s.camid for s in g], out / "retrieval.png")
    summary: dict[str, Any] = {k: v for k, v in result.items() if isinstance(v, float)}
    summary.update(weights=str(args.weights), data=str(data), rerank=args.rerank, flip=args.flip)
    (out / "evaluation.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out / 'cmc.png'}, {out / 'retrieval.png'}, {out / 'evaluation.json'}")
    return 0
