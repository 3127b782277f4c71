"""``reid relink DB``: re-embed every tracklet's stored crops (e.g. with a `reid adapt` model) and link again,
without detecting again, keeping every reviewer decision."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from reid.cli.process import add_wait_argument, as_writer
from reid.errors import StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "relink", help="re-embed the stored crops with another model and link the database again",
        description="Re-embed every tracklet's stored crops with --weights (or the hand-crafted descriptor), "
        "replace the database's embeddings in one transaction and link all tracklets again. Videos are not "
        "read again; confirmed tracklets stay in their identities and rejected pairs stay apart.")
    p.add_argument("db", help="database written by `reid process`")
    p.add_argument("--weights", metavar="CKPT",
                   help="re-ID checkpoint (.pt from `reid adapt` / `reid train`, or .onnx); default: hand-crafted "
                   "descriptor")
    p.add_argument("--threshold", type=float, help="max embedding distance of a cross-camera link")
    p.add_argument("--manifest", metavar="YAML",
                   help="take the transit windows between cameras from this manifest (as `reid process` did)")
    p.add_argument("--far", type=float,
                   help="calibrate the link threshold at this false-accept rate of known-different pairs")
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda[:N]", help="where to embed (default auto)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_wait_argument(p)
    p.set_defaults(func=run)


def link_config(threshold: float | None, far: float | None, manifest: str | None = None):  # noqa: ANN201
    """``LinkConfig`` defaults with the flags that were given (and a manifest's transit windows)."""
    from reid.config import ConfigError, LinkConfig

    changes: dict[str, Any] = {}
    if manifest:
        from reid.video.manifest import load_manifest

        changes["transit"] = dict(load_manifest(manifest).transit)
    if threshold is not None:
        changes["threshold"] = threshold
    if far is not None:
        if "far" not in {f.name for f in dataclasses.fields(LinkConfig)}:
            raise ConfigError("--far: this version links at a fixed threshold; use --threshold")
        changes["far"] = far
    return dataclasses.replace(LinkConfig(), **changes)


def run(args: argparse.Namespace) -> int:
    from reid.adapt import relink
    from reid.config import EmbedConfig
    from reid.engine.device import resolve_device
    from reid.store import Store
    from reid.video.embed import make_embedder

    if not Path(args.db).is_file():
        raise StoreError(f"{args.db}: no such database")
    cfg = link_config(args.threshold, args.far, args.manifest)
    embedder = make_embedder(EmbedConfig(weights=args.weights), resolve_device(args.device))

    def body() -> int:
        with Store(args.db) as store:
            before = store.get_meta("embedder") or "unknown"
            result = relink(store, embedder, cfg, progress=not args.no_progress)
            counts = store.counts()
        report(result, before, counts, args.db)
        return 0

    return as_writer(args.db, args.wait, body)


def report(result, before: str, counts: dict, db: str) -> None:  # noqa: ANN001 - RelinkResult, imported lazily
    print(f"re-embedded {result.embedded} tracklets with {result.embedder} (was {before})"
          + (f"; {result.cleared} without stored crops left unlinked" if result.cleared else ""))
    print(f"{result.identities} identities, {result.cross_camera} across cameras ({result.links} cross-camera "
          f"links); {counts['confirmed']} confirmed memberships kept")
    print(f"database: {db}")
