"""Export the identity store: detections as CSV, identities as JSON, tracks as MOTChallenge text, and
reviewed identities as Market-1501-style crops that can be fed back into training.

Every exporter takes an open (read-only is enough) ``reid.store.Store`` and an output folder, creates the
folder if needed and returns the path it wrote.
"""

from __future__ import annotations

from pathlib import Path

from reid.export.market import export_market
from reid.export.mot import export_mot
from reid.export.tables import export_csv, export_json
from reid.store import Store

FORMATS = ("csv", "json", "mot", "market")


def export_all(store: Store, out_dir: str | Path, reviewed_only: bool = True) -> dict[str, Path]:
    """Every format into ``out_dir``; returns {format: path written}."""
    return {
        "csv": export_csv(store, out_dir),
        "json": export_json(store, out_dir),
        "mot": export_mot(store, out_dir),
        "market": export_market(store, out_dir, reviewed_only=reviewed_only),
    }


__all__ = ["FORMATS", "export_all", "export_csv", "export_json", "export_market", "export_mot"]
