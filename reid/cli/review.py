"""``reid review DB [--screenshot PNG]``: open the desktop review app on a database.

The GUI (PySide6) is imported inside ``run`` only, so ``reid`` itself never imports Qt. Before that,
``gui.platform_check`` makes sure Qt can open a window here (on Linux: the XCB libraries its xcb plugin needs)
and otherwise names the packages to install in one line (exit code 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reid.errors import ReidError, StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="review and correct cross-camera identities in the desktop app")
    p.add_argument("db", nargs="?", help="database written by `reid process`")
    p.add_argument("--screenshot", metavar="PNG",
                   help="render the window (first identity selected) to PNG and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.db and not Path(args.db).is_file():
        raise StoreError(f"{args.db}: database not found")
    # lazy, the only place reid/ reaches the GUI; platform_check imports no Qt, so it speaks before Qt can abort
    from gui.platform_check import import_problem, platform_problem

    problem = platform_problem()
    if problem:
        raise ReidError(problem)
    try:
        from gui.app import main
    except ImportError as exc:
        raise ReidError(import_problem(exc) or f"cannot start the review app: {exc}") from None

    argv = [args.db] if args.db else []
    if args.screenshot:
        argv += ["--screenshot", args.screenshot]
    return main(argv)
