"""``reid evaluate-tracks``: per-camera and cross-camera IDF1 / MOTA of a processed database against
MOTChallenge ground truth (``gt/<camera>.txt`` with global person ids, e.g. from
``tools/make_synthetic_scene.py`` or the sample's ``examples/reference/gt``), and the cross-camera tracklet-pair
precision / recall and identity purity of ``reid.link.link_eval``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reid.errors import DatasetError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate-tracks", help="IDF1 / MOTA of tracks and identities against MOT ground truth",
                       description="Compare a processed database with MOTChallenge ground truth: per camera with "
                                   "the tracker's ids, and across cameras with the global identity ids. Opens the "
                                   "database read-only.")
    p.add_argument("--gt", type=Path, required=True, help="folder of <camera>.txt MOTChallenge ground-truth files")
    p.add_argument("--db", type=Path, required=True, help="database written by `reid process`")
    p.add_argument("--json", type=Path, default=None, help="also write the metrics to this JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.link.link_eval import link_scores
    from reid.store import Store
    from reid.video.mot_eval import evaluate_tracks, format_table, store_predictions

    gt = {p.stem: p for p in sorted(args.gt.glob("*.txt"))}
    if not gt:
        raise DatasetError(f"{args.gt}: no <camera>.txt ground-truth files")
    with Store(args.db, readonly=True) as store:
        pred = store_predictions(store)
    unknown = sorted(set(pred) - set(gt))
    if unknown:
        print(f"note: no ground truth for camera(s) {', '.join(unknown)}; left out")
    missing = sorted(set(gt) - set(pred))
    if missing:
        print(f"note: no tracks in the database for camera(s) {', '.join(missing)}; all their people count as missed")
    result = evaluate_tracks(gt, pred)
    links = link_scores(gt, pred)
    result["links"] = links.as_dict()
    print(format_table(result))
    print(links.line())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
        print(f"metrics: {args.json}")
    return 0
