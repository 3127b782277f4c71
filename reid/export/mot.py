"""MOTChallenge text files, one per camera (or per video file of a camera), ids = global identities."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from reid.export.atomic import atomic_folder, prepare_folder
from reid.store import Store

log = logging.getLogger(__name__)

MOT_DIR = "mot"

_SQL = """
SELECT c.name, v.id, v.path, d.frame, m.identity_id, d.x1, d.y1, d.x2, d.y2, d.score
FROM detections d
JOIN tracklets t ON t.id = d.tracklet_id
JOIN videos v ON v.id = t.video_id
JOIN cameras c ON c.id = t.camera_id
JOIN identity_members m ON m.tracklet_id = t.id
ORDER BY c.name, v.path, d.frame, m.identity_id
"""


def file_names(videos: list[tuple[str, int, str]]) -> dict[int, str]:
    """{video id: file name} for ``(camera, video id, path)`` rows: ``<camera>.txt`` for a camera with one
    video, else ``<camera>-<video stem>.txt`` (``-2``, ``-3`` ... appended when stems repeat)."""
    per_camera: dict[str, list[tuple[int, str]]] = {}
    for cam, vid, path in videos:
        per_camera.setdefault(cam, []).append((vid, path))
    names: dict[int, str] = {}
    for cam, vids in per_camera.items():
        if len(vids) == 1:
            names[vids[0][0]] = f"{cam}.txt"
            continue
        used: set[str] = set()
        for vid, path in sorted(vids, key=lambda v: v[1]):
            base = f"{cam}-{Path(path).stem}"
            name, k = base, 1
            while name in used:
                k += 1
                name = f"{base}-{k}"
            used.add(name)
            names[vid] = f"{name}.txt"
    return names


def _write(conn: sqlite3.Connection, out: Path) -> None:
    videos = conn.execute(
        "SELECT c.name, v.id, v.path FROM videos v JOIN cameras c ON c.id = v.camera_id"
    ).fetchall()
    names = file_names(videos)
    files = {vid: open(out / name, "w", encoding="utf-8") for vid, name in names.items()}
    try:
        for _cam, vid, _path, frame, ident, x1, y1, x2, y2, score in conn.execute(_SQL):
            files[vid].write(
                f"{frame + 1},{ident},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{score:.4f},-1,-1,-1\n"
            )
    finally:
        for f in files.values():
            f.close()
    unlinked = conn.execute(
        "SELECT COUNT(*) FROM tracklets t WHERE NOT EXISTS "
        "(SELECT 1 FROM identity_members m WHERE m.tracklet_id = t.id)"
    ).fetchone()[0]
    if unlinked:
        log.warning("MOT export: %d tracklets are not linked to an identity and were left out", unlinked)


def export_mot(store: Store, out_dir: str | Path, overwrite: bool = True) -> Path:
    """``out_dir/mot/<camera>.txt`` (or ``<camera>-<video stem>.txt``), MOTChallenge lines
    ``frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1``: frame 1-based, id the global identity, box in
    pixels. Tracklets not linked to an identity are left out. Returns the folder. The folder is written whole
    or not at all and replaces an earlier one (``overwrite=False``: an existing one is an ``ExportError``)."""
    out = prepare_folder(out_dir) / MOT_DIR
    with atomic_folder(out, overwrite=overwrite) as tmp:
        store.read(_write, tmp)
    return out
