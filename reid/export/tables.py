"""Detections as one CSV row each; identities as a JSON summary."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import IO, Any

from reid.export.atomic import atomic_write, prepare_folder
from reid.store import Store

CSV_NAME = "detections.csv"
JSON_NAME = "identities.json"
CSV_COLUMNS = (
    "camera",
    "video",
    "frame",
    "time",
    "track_id",
    "identity",
    "x1",
    "y1",
    "x2",
    "y2",
    "score",
    "tracklet_id",
    "state",
    "identity_name",
)

# One row per detection; identity/state/name are empty for a tracklet not linked yet.
DETECTIONS_SQL = """
SELECT c.name, v.path, d.frame, d.time, t.track_id, m.identity_id, d.x1, d.y1, d.x2, d.y2, d.score,
       t.id, m.state, i.name
FROM detections d
JOIN tracklets t ON t.id = d.tracklet_id
JOIN videos v ON v.id = t.video_id
JOIN cameras c ON c.id = t.camera_id
LEFT JOIN identity_members m ON m.tracklet_id = t.id
LEFT JOIN identities i ON i.id = m.identity_id
ORDER BY c.name, v.path, d.frame, t.track_id
"""


def _write_csv(conn: sqlite3.Connection, f: IO[Any]) -> None:
    w = csv.writer(f)
    w.writerow(CSV_COLUMNS)
    for cam, video, frame, time, track, ident, x1, y1, x2, y2, score, tid, state, name in conn.execute(
        DETECTIONS_SQL
    ):
        w.writerow(
            (
                cam,
                video,
                frame,
                f"{time:.3f}",
                track,
                "" if ident is None else ident,
                f"{x1:.1f}",
                f"{y1:.1f}",
                f"{x2:.1f}",
                f"{y2:.1f}",
                f"{score:.4f}",
                tid,
                state or "",
                name or "",
            )
        )


def export_csv(store: Store, out_dir: str | Path, overwrite: bool = True) -> Path:
    """``out_dir/detections.csv``: one row per detection, columns ``CSV_COLUMNS``; boxes xyxy pixels, time in
    seconds comparable across cameras. Written whole or not at all (``reid.export.atomic``); an existing file is
    replaced, or with ``overwrite=False`` an ``ExportError``."""
    path = prepare_folder(out_dir) / CSV_NAME
    with atomic_write(path, "w", overwrite=overwrite, newline="", encoding="utf-8") as f:
        store.read(_write_csv, f)
    return path


def export_json(store: Store, out_dir: str | Path, overwrite: bool = True) -> Path:
    """``out_dir/identities.json``: ``{"database", "identities": [{id, name, note, cameras, status,
    n_confirmed, tracklets: [{id, camera, video, track_id, first_frame, last_frame, first_time, last_time,
    state, cost, confidence}]}]}``; tracklets of an identity in time order. Written whole or not at all, as
    ``export_csv``."""
    path = prepare_folder(out_dir) / JSON_NAME
    identities = []
    for s in store.identity_summaries():
        tracklets = [
            {
                "id": t.id,
                "camera": t.camera,
                "video": t.video_path,
                "track_id": t.track_id,
                "first_frame": t.first_frame,
                "last_frame": t.last_frame,
                "first_time": t.first_time,
                "last_time": t.last_time,
                "state": t.state,
                "cost": t.cost,
                "confidence": t.confidence,
            }
            for t in store.identity_tracklets(s.id)
        ]
        identities.append(
            {
                "id": s.id,
                "name": s.name,
                "note": s.note,
                "cameras": list(s.cameras),
                "status": s.status,
                "n_confirmed": s.n_confirmed,
                "first_time": s.first_time,
                "last_time": s.last_time,
                "tracklets": tracklets,
            }
        )
    doc = {
        "database": str(store.path),
        "schema_version": store.get_meta("schema_version"),
        "identities": identities,
    }
    with atomic_write(path, "w", overwrite=overwrite, encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=1))
    return path
