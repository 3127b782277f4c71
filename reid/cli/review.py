"""``reid review DB [--screenshot PNG]``: open the desktop review app on a database.

The GUI (PySide6) is imported inside ``run`` only, so ``reid`` itself never imports Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reid.errors import StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="review and correct cross-camera identities in the desktop app")
    p.add_argument("db", nargs="?", help="database written by `reid process`")
    p.add_argument("--screenshot", metavar="PNG",
                   help="render the window (first identity selected) to PNG and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.db and not Path(args.db).is_file():
        raise StoreError(f"{args.db}: database not found")
    from gui.app import main  # lazy: the only place reid/ reaches the GUI

    argv = [args.db] if args.db else []
    if args.screenshot:
        argv += ["--screenshot", args.screenshot]
    return main(argv)
