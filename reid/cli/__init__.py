"""The ``reid`` command line: one module per subcommand, each with ``register(subparsers)``.

A subcommand module defines ``register(sub: argparse._SubParsersAction) -> None`` which adds its parser and
sets ``func=run`` where ``run(args: argparse.Namespace) -> int`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from reid.errors import ReidError, print_error

# Subcommand modules, in the order ``reid --help`` lists them. A missing module is skipped so the CLI
# keeps working while a subcommand is being built.
SUBCOMMANDS = ["train", "evaluate", "process", "export", "evaluate_tracks", "evaluate_review", "review", "demo",
               "bench", "export_model", "import_weights", "adapt", "relink", "fetch_models"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reid", description="Multi-camera person re-identification: train, evaluate, process, review."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"reid.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"reid.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReidError as exc:
        print_error(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished work is saved, run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
