"""``reid evaluate``: CMC / mAP and verification (TAR@FAR, EER, threshold) of a checkpoint on a query/gallery
split, with CMC, ROC, distance-histogram and retrieval pictures; stores the threshold in the checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reid.errors import ReidError

if TYPE_CHECKING:
    from reid.metrics import Verification

TABLE_RANKS = (1, 5, 10, 20)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="rank-k and mAP of a trained checkpoint on query/gallery",
        description="Evaluate a checkpoint from `reid train` with the Market-1501 protocol (same-camera "
        "matches of the query's identity are ignored), and as verification over all query-gallery pairs "
        "(TAR at FAR 1e-2 and 1e-3, EER, the distance threshold at --far). Writes cmc.png, roc.png, "
        "distances.png, retrieval.png and evaluation.json, and stores the threshold in the checkpoint "
        "(key 'verification'), where `reid process --weights` finds it.",
    )
    p.add_argument("--weights", required=True, metavar="CKPT", help="checkpoint written by `reid train` (best.pt)")
    p.add_argument("--data", metavar="DIR",
                   help="dataset folder with query/ and bounding_box_test/ (default: the one it was trained on)")
    p.add_argument("--format", choices=["auto", "market", "generic"], default="auto", help="dataset layout")
    p.add_argument("--far", type=float, default=0.01, metavar="RATE",
                   help="false-accept rate of the stored link threshold: the share of different-person "
                   "query-gallery pairs it links (default: 0.01)")
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


def format_verification(report: Verification) -> str:
    """TAR at each reported FAR, EER and the threshold at the chosen FAR, as printed by ``reid evaluate``."""
    tars = "   ".join(f"TAR@FAR {f:g}: {t:.1%}" for f, t in report.tar_at.items())
    return (f"verification over {report.same_pairs:,} same-person / {report.diff_pairs:,} different-person "
            f"query-gallery pairs (same camera and identity, and junk, left out):\n"
            f"  {tars}   EER: {report.eer:.2%}\n"
            f"  threshold at FAR {report.far:g}: {report.threshold:.4f} (link when distance < threshold)")


def run(args: argparse.Namespace) -> int:
    from reid.data import load_dataset
    from reid.engine.checkpoint import load_checkpoint, load_embedder, store_verification
    from reid.engine.device import describe, resolve_device
    from reid.engine.features import evaluate_model, load_eval_images
    from reid.metrics import verify
    from reid.metrics.plots import plot_cmc, plot_distances, plot_roc, retrieval_grid

    if not 0.0 < args.far < 1.0:
        raise ReidError(f"--far {args.far}: must be a rate between 0 and 1 (e.g. 0.01)")
    device = resolve_device(args.device)
    model, meta = load_embedder(args.weights, device)
    data = args.data or load_checkpoint(args.weights)["config"]["data"]["root"]
    dataset = load_dataset(data, format=args.format)
    print(dataset.summary())
    print(f"model: {meta.arch} {meta.height}x{meta.width} -> {meta.embedding_dim}-d, device {describe(device)}")
    images = load_eval_images(dataset, meta.height, meta.width, progress=not args.no_progress)
    options = {"flip": args.flip, "batch": args.batch, "images": images, "return_distmat": True,
               "progress": not args.no_progress}
    result = evaluate_model(model, dataset, meta, device, rerank=args.rerank, **options)
    print(format_table(result))
    q, g = dataset.query, dataset.gallery
    labels = ([s.pid for s in q], [s.pid for s in g], [s.camid for s in q], [s.camid for s in g])
    plain = result["distmat_plain"]  # verification is on the embedding distances, never re-ranked ones
    report: Verification | None = None
    try:
        report = verify(plain, *labels, far=args.far)
        print(format_verification(report))
    except ValueError as exc:
        print(f"verification skipped: {exc}")

    out = Path(args.out) if args.out else Path(args.weights).parent
    out.mkdir(parents=True, exist_ok=True)
    curves = {"plain": result["cmc"]}
    if args.rerank:
        curves["re-ranked"] = result["cmc_rerank"]
    plot_cmc(curves, out / "cmc.png")
    retrieval_grid(result["distmat"], [s.path for s in q], [s.path for s in g], *labels, out / "retrieval.png")
    summary: dict[str, Any] = {k: v for k, v in result.items() if isinstance(v, float)}
    summary.update(weights=str(args.weights), data=str(data), rerank=args.rerank, flip=args.flip)
    written = [out / "cmc.png", out / "retrieval.png"]
    if report is not None:
        written += [plot_roc(report, out / "roc.png"), plot_distances(report, out / "distances.png")]
        summary["verification"] = report.summary()
    (out / "evaluation.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {', '.join(str(p) for p in written)}, {out / 'evaluation.json'}")
    if report is not None:
        info = {k: report.summary()[k] for k in ("far", "threshold", "tar", "eer", "same_pairs", "diff_pairs")}
        store_verification(args.weights, {**info, "data": str(data)})
        print(f"stored the threshold {report.threshold:.4f} (FAR {report.far:g}) in {args.weights}")
    return 0
