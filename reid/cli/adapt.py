"""``reid adapt DB --out DIR``: fine-tune the re-ID network on a processed database's own tracklets, no labels.

Its flags are generated from ``reid.config.AdaptConfig`` (``reid.cli.options.config_flags``): one per field,
named after it and documented by its comment; ``--size HxW`` sets ``height`` and ``width`` together.
"""

from __future__ import annotations

import argparse

from reid.cli.options import add_config_flags, build_config, config_flags, field_info
from reid.config import AdaptConfig, ConfigError, override

SIZE_KEYS = ("height", "width")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "adapt", help="fine-tune the re-ID network on the site's own tracklets (no labels needed)",
        description="Fine-tune a re-ID network with batch-hard triplet loss on P x K batches of the database's "
        "stored crops: each tracklet (or each reviewer-confirmed identity) is a class, and tracklets known to "
        "be different (overlapping in time in one camera, rejected by a reviewer) are put in the same batches. "
        "Writes DIR/best.pt (the best-scoring weights on the site's known pairs, the start included), "
        "DIR/last.pt and DIR/adapt.json. Then: reid relink DB --weights DIR/best.pt")
    p.add_argument("db", help="database written by `reid process` (opened read-only)")
    add_config_flags(p, AdaptConfig, [f for f in config_flags(AdaptConfig) if f.key not in ("db", *SIZE_KEYS)])
    height, width = (field_info(AdaptConfig, k)[1] for k in SIZE_KEYS)
    p.add_argument("--size", metavar="HxW", help=f"input size when starting from ImageNet weights (a checkpoint "
                   f"keeps its own; default: {height}x{width}: the stored crops are at most 128 px high)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/last.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    h, sep, w = text.lower().partition("x")
    if not sep or not h.isdigit() or not w.isdigit():
        raise ConfigError(f"--size {text!r}: expected HxW, e.g. 256x128")
    return int(h), int(w)


def config_from_args(args: argparse.Namespace) -> AdaptConfig:
    """Defaults, then the flags given (``--size`` as ``height`` and ``width``)."""
    cfg = build_config(AdaptConfig, args, base=AdaptConfig(db=args.db))
    return override(cfg, dict(zip(SIZE_KEYS, _size(args.size), strict=True))) if args.size else cfg


def run(args: argparse.Namespace) -> int:
    from reid.adapt import adapt

    cfg = config_from_args(args)
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
