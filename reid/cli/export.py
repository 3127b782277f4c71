"""``reid export``: the database as CSV, JSON, MOTChallenge text or Market-1501-style crops."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export detections, identities, MOT tracks or training crops",
                       description="Export a processed database. Opens it read-only: never creates or changes it.")
    p.add_argument("--db", type=Path, required=True, help="database written by `reid process`")
    p.add_argument("--format", choices=["csv", "json", "mot", "market", "all"], default="all",
                   help="csv: one row per detection; json: identities; mot: MOTChallenge txt per camera; "
                        "market: crops of reviewed identities for training (default: all)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--all-members", action="store_true",
                   help="market: also crops of proposed (not yet confirmed) members")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid import export
    from reid.store import Store

    with Store(args.db, readonly=True) as store:
        reviewed_only = not args.all_members
        if args.format == "all":
            paths = export.export_all(store, args.out, reviewed_only=reviewed_only)
        elif args.format == "market":
            paths = {"market": export.export_market(store, args.out, reviewed_only=reviewed_only)}
        else:
            fn = {"csv": export.export_csv, "json": export.export_json, "mot": export.export_mot}[args.format]
            paths = {args.format: fn(store, args.out)}
    for fmt, path in paths.items():
        print(f"{fmt}: {path}")
    return 0
