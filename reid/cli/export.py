"""``reid export``: the database as CSV, JSON, MOTChallenge text or Market-1501-style crops."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reid.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export detections, identities, MOT tracks or training crops",
        description="Export a processed database. Opens it read-only: never creates or changes it. "
        "Each file or folder is written whole or not at all; an existing one is kept "
        "unless --overwrite is given.",
    )
    p.add_argument("--db", type=Path, required=True, help="database written by `reid process`")
    p.add_argument(
        "--format",
        choices=["csv", "json", "mot", "market", "all"],
        default="all",
        help="csv: one row per detection; json: identities; mot: MOTChallenge txt per camera; "
        "market: crops of reviewed identities for training (default: all)",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument(
        "--all-members",
        action="store_true",
        help="market: also crops of proposed (not yet confirmed) members",
    )
    p.add_argument(
        "--overwrite",
        "--force",
        action="store_true",
        help="replace files (csv, json) and folders (mot/, market/) of an earlier export",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid import export
    from reid.export.atomic import refuse_existing
    from reid.store import Store

    formats = export.FORMATS if args.format == "all" else (args.format,)
    with Store(args.db, readonly=True) as store:
        if not args.overwrite:
            refuse_existing(export.targets(args.out, formats))  # before anything is written
        created = not args.out.exists()
        try:
            _export(store, args, formats)
        except BaseException:
            if created:
                _remove_if_empty(args.out)
            raise
    return 0


def _export(store: Store, args: argparse.Namespace, formats: tuple[str, ...]) -> None:
    """Each format in turn, its path printed once it is complete (a later failure leaves it so)."""
    from reid import export

    for fmt in formats:
        if fmt == "market":
            path = export.export_market(
                store, args.out, reviewed_only=not args.all_members, overwrite=args.overwrite
            )
        else:
            fn = {"csv": export.export_csv, "json": export.export_json, "mot": export.export_mot}[fmt]
            path = fn(store, args.out, args.overwrite)
        print(f"{fmt}: {path}", flush=True)


def _remove_if_empty(folder: Path) -> None:
    """Take back an output folder this run created when nothing ended up in it."""
    try:
        folder.rmdir()
    except OSError:
        pass
