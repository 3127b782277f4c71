"""Reads for the linker, the GUI and export. Every function takes an open connection and returns row
dataclasses (``reid/store/rows.py``) or numpy arrays; none writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from reid.distances import pairwise_distance_numpy
from reid.errors import StoreError
from reid.store.rows import (
    CameraRow,
    DetectionRow,
    IdentitySummary,
    LinkConstraints,
    ReviewLogRow,
    TrackletFeature,
    TrackletRow,
    TrackMotion,
    VideoRow,
)

_TRACKLET_SELECT = """
SELECT t.id, c.name, v.path, t.video_id, t.track_id, t.first_frame, t.last_frame, t.first_time, t.last_time,
       t.n_detections, m.identity_id, m.cost, m.confidence, m.state, m.reason
FROM tracklets t
JOIN cameras c ON c.id = t.camera_id
JOIN videos v ON v.id = t.video_id
LEFT JOIN identity_members m ON m.tracklet_id = t.id
"""


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def undo_floor(conn: sqlite3.Connection) -> int:
    """Review-log ids up to this one belong to an earlier undo history (before a relink or re-commit)."""
    return int(get_meta(conn, "undo_floor") or 0)


def camera_id(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM cameras WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def is_video_done(conn: sqlite3.Connection, camera: str, path: str) -> bool:
    return conn.execute("SELECT 1 FROM videos v JOIN cameras c ON c.id = v.camera_id "
                        "WHERE c.name = ? AND v.path = ? AND v.status = 'done'", (camera, path)).fetchone() is not None


def _embedding(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<f4").astype(np.float32)


# -------------------------------------------------------------------------------------------------- linking
def tracklet_features(conn: sqlite3.Connection) -> list[TrackletFeature]:
    """Every tracklet that has an embedding, in id order."""
    ends = _tracklet_ends(conn)
    rows = conn.execute("SELECT t.id, c.name, t.video_id, t.track_id, t.first_time, t.last_time, t.embedding "
                        "FROM tracklets t JOIN cameras c ON c.id = t.camera_id "
                        "WHERE t.embedding IS NOT NULL ORDER BY t.id")
    return [TrackletFeature(r[0], r[1], r[2], r[3], r[4], r[5], np.frombuffer(r[6], dtype="<f4").astype(np.float32),
                            *ends.get(r[0], (None, None, None)))
            for r in rows]


END_WINDOW_S = 1.0  # a tracklet's velocity at an end is fitted over this much of its boxes


def _tracklet_ends(conn: sqlite3.Connection, ids: list[int] | None = None
                   ) -> dict[int, tuple[tuple[float, float], tuple[float, float], TrackMotion]]:
    """Tracklet id -> (entry, exit, motion): bottom centre of its first and last box as fractions of the frame
    size, and how it moves at both ends (``TrackMotion``); of every tracklet, or of ``ids`` only."""
    only = "" if ids is None else f"AND t.id IN ({','.join('?' * len(ids))}) "
    cursor = conn.execute(
        "SELECT t.id, d.time, (d.x1 + d.x2) / 2.0 / v.width, d.y2 / v.height, (d.y2 - d.y1) / v.height, "
        "d.time <= t.first_time + ?, d.time >= t.last_time - ?, CAST(v.width AS REAL) / v.height "
        "FROM tracklets t JOIN videos v ON v.id = t.video_id JOIN detections d ON d.tracklet_id = t.id "
        "WHERE t.embedding IS NOT NULL AND (d.time <= t.first_time + ? OR d.time >= t.last_time - ?) "
        f"{only}ORDER BY t.id, d.frame", (END_WINDOW_S,) * 4 + tuple(ids or ()))
    rows = np.fromiter(cursor, dtype=_END_ROW)
    head, tail = _EndFit.of(rows[rows["entry"] != 0]), _EndFit.of(rows[rows["exit"] != 0])
    both, h, t = np.intersect1d(head.ids, tail.ids, assume_unique=True, return_indices=True)
    entry, exit_ = head.first[h].tolist(), tail.last[t].tolist()
    v_in, v_out = head.velocity[h].tolist(), tail.velocity[t].tolist()
    h_in, h_out, aspect = head.height[h].tolist(), tail.height[t].tolist(), head.aspect[h].tolist()
    return {tid: (tuple(entry[k]), tuple(exit_[k]),
                  TrackMotion(tuple(v_in[k]), tuple(v_out[k]), h_in[k], h_out[k], aspect[k]))
            for k, tid in enumerate(both.tolist())}


_END_ROW = np.dtype([("id", np.int64)] + [(name, np.float64) for name in
                                          ("time", "x", "y", "height", "entry", "exit", "aspect")])


class _EndFit(NamedTuple):
    """Per tracklet (``ids``, ascending) over its rows at one end: the feet of its first and last row (n, 2),
    their least-squares velocity (n, 2; 0 for one time), the median box height and the frame's aspect."""

    ids: np.ndarray
    first: np.ndarray
    last: np.ndarray
    velocity: np.ndarray
    height: np.ndarray
    aspect: np.ndarray

    @staticmethod
    def of(rows: np.ndarray) -> _EndFit:
        """Fit rows of ``_END_ROW`` in (id, frame) order, every tracklet at once."""
        if not len(rows):
            return _EndFit(np.zeros(0, np.int64), *(np.zeros((0, 2)),) * 3, np.zeros(0), np.zeros(0))
        start = np.flatnonzero(np.r_[True, rows["id"][1:] != rows["id"][:-1]])
        count = np.diff(np.r_[start, len(rows)])
        group = np.repeat(np.arange(len(start)), count)
        xy = np.stack([rows["x"], rows["y"]], 1)
        t = rows["time"] - (np.add.reduceat(rows["time"], start) / count)[group]
        denom = np.add.reduceat(t * t, start)[:, None]
        moved = np.add.reduceat(t[:, None] * xy, start)
        velocity = np.divide(moved, denom, out=np.zeros_like(moved), where=denom > 0)
        height = rows["height"][np.lexsort((rows["height"], group))]
        median = (height[start + (count - 1) // 2] + height[start + count // 2]) / 2
        return _EndFit(rows["id"][start], xy[start], xy[start + count - 1], velocity, median, rows["aspect"][start])


def link_constraints(conn: sqlite3.Connection) -> LinkConstraints:
    groups: dict[int, list[int]] = {}
    for tid, iid in conn.execute("SELECT tracklet_id, identity_id FROM identity_members "
                                 "WHERE state = 'confirmed' ORDER BY identity_id, tracklet_id"):
        groups.setdefault(iid, []).append(tid)
    pairs = {(a, b) for a, b in conn.execute("SELECT tracklet_a, tracklet_b FROM cannot_link")}
    return LinkConstraints(must_link=[tuple(g) for g in groups.values()], cannot_link=pairs)


def cannot_links_of(conn: sqlite3.Connection, tracklet_ids: Iterable[int]) -> list[tuple[int, int]]:
    """Every cannot_link row ``(a, b)`` (``a < b``, as stored) with ``a`` or ``b`` among ``tracklet_ids``, sorted."""
    ids = sorted({int(t) for t in tracklet_ids})
    out: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-variable limit
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for column in ("tracklet_a", "tracklet_b"):
            out.update((int(a), int(b)) for a, b in conn.execute(
                f"SELECT tracklet_a, tracklet_b FROM cannot_link WHERE {column} IN ({marks})", chunk))
    return sorted(out)


# -------------------------------------------------------------------------------------------------- tables
def cameras(conn: sqlite3.Connection) -> list[CameraRow]:
    rows = conn.execute(
        "SELECT c.id, c.name, c.start_time, "
        "(SELECT COUNT(*) FROM videos v WHERE v.camera_id = c.id), "
        "(SELECT COUNT(*) FROM tracklets t WHERE t.camera_id = c.id) FROM cameras c ORDER BY c.name")
    return [CameraRow(*r) for r in rows]


def videos(conn: sqlite3.Connection) -> list[VideoRow]:
    rows = conn.execute("SELECT v.id, c.name, v.path, v.fps, v.frames, v.width, v.height, v.offset_s, "
                        "v.bad_frames FROM videos v JOIN cameras c ON c.id = v.camera_id ORDER BY c.name, v.path")
    return [VideoRow(*r) for r in rows]


def identity_summaries(conn: sqlite3.Connection) -> list[IdentitySummary]:
    """Active identities with at least one member, in id order."""
    names = {cid: name for cid, name in conn.execute("SELECT id, name FROM cameras")}
    rows = conn.execute(
        "SELECT i.id, i.name, i.note, GROUP_CONCAT(DISTINCT t.camera_id), COUNT(*), MIN(t.first_time), "
        "MAX(t.last_time), MAX(m.cost), SUM(m.state = 'confirmed'), SUM(m.state = 'proposed' AND m.cost IS NOT NULL) "
        "FROM identities i JOIN identity_members m ON m.identity_id = i.id "
        "JOIN tracklets t ON t.id = m.tracklet_id WHERE i.status = 'active' GROUP BY i.id ORDER BY i.id")
    out = []
    for iid, name, note, cams, n, first, last, weakest, n_conf, n_open in rows:
        # an identity's first member carries no link: once every link is confirmed the identity is reviewed
        status = "unreviewed" if n_conf == 0 else "reviewed" if n_open == 0 else "partly reviewed"
        cam_names = tuple(sorted(names[int(c)] for c in str(cams).split(",")))
        out.append(IdentitySummary(iid, name, note, cam_names, n, first, last, status, weakest, int(n_conf)))
    return out


def identity_tracklets(conn: sqlite3.Connection, identity_id: int) -> list[TrackletRow]:
    rows = conn.execute(_TRACKLET_SELECT + "WHERE m.identity_id = ? ORDER BY t.first_time, t.id", (identity_id,))
    return [TrackletRow(*r) for r in rows]


def tracklet(conn: sqlite3.Connection, tracklet_id: int) -> TrackletRow:
    row = conn.execute(_TRACKLET_SELECT + "WHERE t.id = ?", (tracklet_id,)).fetchone()
    if row is None:
        raise StoreError(f"no tracklet {tracklet_id}")
    return TrackletRow(*row)


def tracklets(conn: sqlite3.Connection, ids: list[int]) -> list[TrackletRow]:
    """Tracklet rows for ``ids``, in the order given (unknown ids are left out)."""
    found: dict[int, TrackletRow] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-variable limit
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in conn.execute(_TRACKLET_SELECT + f"WHERE t.id IN ({marks})", chunk):
            found[r[0]] = TrackletRow(*r)
    return [found[i] for i in ids if i in found]


def detections(conn: sqlite3.Connection, tracklet_id: int) -> list[DetectionRow]:
    rows = conn.execute("SELECT frame, time, x1, y1, x2, y2, score FROM detections "
                        "WHERE tracklet_id = ? ORDER BY frame", (tracklet_id,))
    return [DetectionRow(r[0], r[1], (r[2], r[3], r[4], r[5]), r[6]) for r in rows]


def thumbnails(conn: sqlite3.Connection, tracklet_id: int, limit: int | None = None) -> list[tuple[int, bytes]]:
    """``(frame, jpeg bytes)`` best first."""
    rows = conn.execute("SELECT frame, jpeg FROM thumbnails WHERE tracklet_id = ? ORDER BY rank LIMIT ?",
                        (tracklet_id, -1 if limit is None else int(limit)))
    return [(int(f), bytes(j)) for f, j in rows]


def embedding(conn: sqlite3.Connection, tracklet_id: int) -> np.ndarray | None:
    row = conn.execute("SELECT embedding FROM tracklets WHERE id = ?", (tracklet_id,)).fetchone()
    if row is None:
        raise StoreError(f"no tracklet {tracklet_id}")
    return _embedding(row[0])


def nearest_tracklets(conn: sqlite3.Connection, tracklet_id: int, k: int = 20) -> list[tuple[TrackletRow, float]]:
    """The ``k`` tracklets whose embeddings are nearest (Euclidean) to this one's, nearest first; itself and
    tracklets without an embedding are left out. Empty when this tracklet has no embedding."""
    query = embedding(conn, tracklet_id)
    if query is None or k <= 0:
        return []
    ids, blobs = [], []
    for tid, blob in conn.execute("SELECT id, embedding FROM tracklets WHERE embedding IS NOT NULL AND id != ? "
                                  "AND length(embedding) = ?", (tracklet_id, query.nbytes)):
        ids.append(tid)
        blobs.append(blob)
    if not ids:
        return []
    feats = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), -1)
    dist = pairwise_distance_numpy(query[None], feats)[0]  # as the linker measures it
    top = np.argsort(dist)[:k] if k >= len(ids) else np.argpartition(dist, k)[:k]
    top = top[np.argsort(dist[top], kind="stable")]
    rows = tracklets(conn, [ids[i] for i in top])
    return [(row, float(dist[i])) for row, i in zip(rows, top, strict=True)]


def review_queue(conn: sqlite3.Connection) -> list[int]:
    """Tracklets with a proposed link (a cost), least confident first."""
    rows = conn.execute("SELECT tracklet_id FROM identity_members WHERE state = 'proposed' AND cost IS NOT NULL "
                        "ORDER BY confidence IS NOT NULL, confidence, cost DESC, tracklet_id")
    return [r[0] for r in rows]


def counts(conn: sqlite3.Connection) -> dict:
    """identities, tracklets, detections, confirmed, proposed (memberships), per_camera {name: tracklets}."""
    n_tracklets, n_det = conn.execute("SELECT COUNT(*), COALESCE(SUM(n_detections), 0) FROM tracklets").fetchone()
    states = dict(conn.execute("SELECT state, COUNT(*) FROM identity_members GROUP BY state").fetchall())
    n_ident = conn.execute("SELECT COUNT(*) FROM identities i WHERE status = 'active' AND EXISTS "
                           "(SELECT 1 FROM identity_members m WHERE m.identity_id = i.id)").fetchone()[0]
    per_camera = {c.name: c.n_tracklets for c in cameras(conn)}
    return {"identities": n_ident, "tracklets": n_tracklets, "detections": n_det,
            "confirmed": states.get("confirmed", 0), "proposed": states.get("proposed", 0),
            "per_camera": per_camera}


def link_costs(conn: sqlite3.Connection) -> np.ndarray:
    """(N,) float64 costs of every proposed or confirmed link."""
    rows = conn.execute("SELECT cost FROM identity_members WHERE cost IS NOT NULL").fetchall()
    return np.asarray([r[0] for r in rows], dtype=np.float64)


DECISION_ACTIONS = ("confirm", "reject", "split", "merge", "assign", "keep_apart", "split_group", "confirm_group",
                    "remove_veto", "revert")  # every review edit but annotate


def decisions_made(conn: sqlite3.Connection) -> int:
    """Reviewer decisions in effect in the current undo history (one COUNT: the log's payloads are not read)."""
    marks = ",".join("?" * len(DECISION_ACTIONS))
    return int(conn.execute(f"SELECT COUNT(*) FROM review_log WHERE undone = 0 AND id > ? AND action IN ({marks})",
                            (undo_floor(conn), *DECISION_ACTIONS)).fetchone()[0])


def review_log(conn: sqlite3.Connection) -> list[ReviewLogRow]:
    """Every edit, oldest first."""
    floor = undo_floor(conn)
    rows = conn.execute("SELECT id, ts, action, payload, undone FROM review_log ORDER BY id")
    return [ReviewLogRow(i, ts, action, json.loads(payload).get("description", action), bool(undone), i > floor)
            for i, ts, action, payload, undone in rows]


# ----------------------------------------------------------------------------------------- review queue
class Membership(NamedTuple):
    """One row of ``identity_members``: ``cost`` is the link cost (None for an identity's anchor)."""

    tracklet_id: int
    identity_id: int
    state: str
    cost: float | None


def memberships(conn: sqlite3.Connection) -> list[Membership]:
    """Every membership of an active identity, in tracklet id order."""
    rows = conn.execute("SELECT m.tracklet_id, m.identity_id, m.state, m.cost FROM identity_members m "
                        "JOIN identities i ON i.id = m.identity_id WHERE i.status = 'active' ORDER BY m.tracklet_id")
    return [Membership(int(t), int(i), str(s), None if c is None else float(c)) for t, i, s, c in rows]


def tracklet_features_of(conn: sqlite3.Connection, ids: list[int]) -> list[TrackletFeature]:
    """``tracklet_features`` of the tracklets ``ids`` only (those with an embedding), in id order: what the
    relink of one component reads."""
    out: list[TrackletFeature] = []
    ids = sorted(set(int(i) for i in ids))
    for start in range(0, len(ids), 400):  # stay under SQLite's bound-variable limit
        chunk = ids[start:start + 400]
        ends = _tracklet_ends(conn, chunk)
        rows = conn.execute("SELECT t.id, c.name, t.video_id, t.track_id, t.first_time, t.last_time, t.embedding "
                            "FROM tracklets t JOIN cameras c ON c.id = t.camera_id WHERE t.embedding IS NOT NULL "
                            f"AND t.id IN ({','.join('?' * len(chunk))}) ORDER BY t.id", chunk)
        out += [TrackletFeature(r[0], r[1], r[2], r[3], r[4], r[5], np.frombuffer(r[6], dtype="<f4").astype(np.float32),
                                *ends.get(r[0], (None, None, None))) for r in rows]
    return out


class TrackletIndex(NamedTuple):
    """Every tracklet with an embedding, as arrays in id order: ``ids`` (n,) int64, ``cameras`` (n,) str,
    ``first_time``/``last_time`` (n,) float64 s, ``embeddings`` (n, D) float32."""

    ids: np.ndarray
    cameras: np.ndarray
    first_time: np.ndarray
    last_time: np.ndarray
    embeddings: np.ndarray


def tracklet_index(conn: sqlite3.Connection) -> TrackletIndex:
    """Ids, cameras, times and embeddings of every embedded tracklet, without reading detections (cheap)."""
    rows = conn.execute("SELECT t.id, c.name, t.first_time, t.last_time, t.embedding FROM tracklets t "
                        "JOIN cameras c ON c.id = t.camera_id WHERE t.embedding IS NOT NULL ORDER BY t.id").fetchall()
    if not rows:
        return TrackletIndex(np.zeros(0, np.int64), np.zeros(0, str), np.zeros(0), np.zeros(0), np.zeros((0, 1), np.float32))
    sizes = {len(r[4]) for r in rows}
    if len(sizes) != 1:
        raise StoreError("tracklet embeddings differ in size; re-embed the site (`reid relink`)")
    emb = np.frombuffer(b"".join(r[4] for r in rows), dtype="<f4").reshape(len(rows), -1).astype(np.float32)
    return TrackletIndex(np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows]),
                         np.array([r[2] for r in rows], np.float64), np.array([r[3] for r in rows], np.float64), emb)
