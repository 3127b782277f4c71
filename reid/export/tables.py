"""Detections as one CSV row each; identities as a JSON summary."""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from reid.export.atomic import atomic_write, prepare_folder
from reid.store import Store
from reid.store.queries import get_meta, identity_summaries
from reid.store.rows import IdentitySummary

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


# Every member of an active identity with its tracklet, by identity and then time: ``export_json`` reads it in
# one pass beside ``identity_summaries`` (one query, not one per identity), so rows stream to the file.
MEMBERS_SQL = """
SELECT m.identity_id, t.id, c.name, v.path, t.track_id, t.first_frame, t.last_frame, t.first_time,
       t.last_time, m.state, m.cost, m.confidence
FROM identity_members m
JOIN identities i ON i.id = m.identity_id AND i.status = 'active'
JOIN tracklets t ON t.id = m.tracklet_id
JOIN cameras c ON c.id = t.camera_id
JOIN videos v ON v.id = t.video_id
ORDER BY m.identity_id, t.first_time, t.id
"""
_TRACKLET_KEYS = (
    "id",
    "camera",
    "video",
    "track_id",
    "first_frame",
    "last_frame",
    "first_time",
    "last_time",
    "state",
    "cost",
    "confidence",
)


def _identity(s: IdentitySummary, members: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """One entry of ``identities`` in ``identities.json``; ``members``: its rows of ``MEMBERS_SQL``."""
    return {
        "id": s.id,
        "name": s.name,
        "note": s.note,
        "cameras": list(s.cameras),
        "status": s.status,
        "n_confirmed": s.n_confirmed,
        "first_time": s.first_time,
        "last_time": s.last_time,
        "tracklets": [dict(zip(_TRACKLET_KEYS, row[1:], strict=True)) for row in members],
    }


def _write_json(conn: sqlite3.Connection, f: IO[Any], database: str) -> None:
    """``identities.json`` written one identity at a time; the text is what ``json.dumps(doc, indent=1)`` of
    the whole document gives (an identity's lines sit two spaces in)."""
    schema = get_meta(conn, "schema_version")
    f.write(
        f'{{\n "database": {json.dumps(database)},\n "schema_version": {json.dumps(schema)},\n "identities": '
    )
    groups = itertools.groupby(conn.execute(MEMBERS_SQL), key=lambda row: row[0])  # by identity id, ascending
    group = next(groups, None)
    written = 0
    for s in identity_summaries(conn):  # ascending identity ids too
        while group is not None and group[0] < s.id:
            group = next(groups, None)
        members = group[1] if group is not None and group[0] == s.id else ()
        text = json.dumps(_identity(s, members), indent=1).replace("\n", "\n  ")
        f.write(("[\n  " if written == 0 else ",\n  ") + text)
        written += 1
    f.write("\n ]\n}" if written else "[]\n}")


def export_json(store: Store, out_dir: str | Path, overwrite: bool = True) -> Path:
    """``out_dir/identities.json``: ``{"database", "identities": [{id, name, note, cameras, status,
    n_confirmed, tracklets: [{id, camera, video, track_id, first_frame, last_frame, first_time, last_time,
    state, cost, confidence}]}]}``; tracklets of an identity in time order. Written whole or not at all, as
    ``export_csv``; one identity at a time (memory does not grow with the site)."""
    path = prepare_folder(out_dir) / JSON_NAME
    with atomic_write(path, "w", overwrite=overwrite, encoding="utf-8") as f:
        store.read(_write_json, f, str(store.path))
    return path
