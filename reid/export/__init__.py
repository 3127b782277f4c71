"""Export the identity store: detections as CSV, identities as JSON, tracks as MOTChallenge text, and
reviewed identities as Market-1501-style crops that can be fed back into training.

Every exporter takes an open (read-only is enough) ``reid.store.Store`` and an output folder, creates the
folder if needed and returns the path it wrote. Each file (CSV, JSON) or folder (MOT, Market) is written under
a temporary name and renamed into place when complete (``reid.export.atomic``): an error or Ctrl-C leaves
nothing partial, an earlier export stays as it was, and OS errors are one-line ``ExportError`` messages.
``overwrite=False`` refuses to replace an existing export.
"""

from __future__ import annotations

from pathlib import Path

from reid.export.atomic import refuse_existing
from reid.export.market import MARKET_DIR, export_market
from reid.export.mot import MOT_DIR, export_mot
from reid.export.tables import CSV_NAME, JSON_NAME, export_csv, export_json
from reid.store import Store

FORMATS = ("csv", "json", "mot", "market")
TARGETS = {"csv": CSV_NAME, "json": JSON_NAME, "mot": MOT_DIR, "market": MARKET_DIR}  # name in the out folder


def targets(out_dir: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """The file or folder each of ``formats`` writes in ``out_dir``."""
    return [Path(out_dir) / TARGETS[f] for f in formats]


def export_all(
    store: Store, out_dir: str | Path, reviewed_only: bool = True, overwrite: bool = True
) -> dict[str, Path]:
    """Every format into ``out_dir``; returns {format: path written}. ``overwrite=False``: refuses before
    writing anything when any of them exists."""
    if not overwrite:
        refuse_existing(targets(out_dir))
    return {
        "csv": export_csv(store, out_dir, overwrite),
        "json": export_json(store, out_dir, overwrite),
        "mot": export_mot(store, out_dir, overwrite),
        "market": export_market(store, out_dir, reviewed_only=reviewed_only, overwrite=overwrite),
    }


__all__ = [
    "FORMATS",
    "TARGETS",
    "export_all",
    "export_csv",
    "export_json",
    "export_market",
    "export_mot",
    "targets",
]
