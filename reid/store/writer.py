"""Pipeline writes: cameras, whole videos with their tracklets, and the linker's identities.

Every function takes a connection that is already inside a write transaction (``Store.write``).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence

import numpy as np

from reid.errors import StoreError
from reid.store.rows import LinkProposal, TrackletRecord, VideoRecord


def insert_id(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> int:
    """Run an INSERT and return the new row's id."""
    rowid = conn.execute(sql, params).lastrowid
    if rowid is None:
        raise StoreError(f"insert returned no row id: {sql.split('(')[0]}")
    return int(rowid)


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, str(value)))


def camera_id(conn: sqlite3.Connection, name: str, start_time: float = 0.0) -> int:
    """Id of camera ``name``, created (with ``start_time``) if it is new."""
    row = conn.execute("SELECT id FROM cameras WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return int(row[0])
    return insert_id(conn, "INSERT INTO cameras(name, start_time) VALUES (?, ?)", (name, float(start_time)))


def start_new_history(conn: sqlite3.Connection) -> None:
    """Edits logged so far can no longer be undone (their rows may be gone); redo history is dropped."""
    conn.execute("DELETE FROM review_log WHERE undone = 1")
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM review_log").fetchone()[0]
    set_meta(conn, "undo_floor", str(top))


def _check_tracklet(video: VideoRecord, t: TrackletRecord) -> int:
    n = len(t.frames)
    lengths = {"frames": n, "times": len(t.times), "scores": len(t.scores), "boxes": len(t.boxes)}
    where = f"{video.path}: tracklet {t.track_id}"
    if n == 0:
        raise StoreError(f"{where}: has no detections")
    if len(set(lengths.values())) != 1:
        raise StoreError(f"{where}: arrays differ in length ({', '.join(f'{k}={v}' for k, v in lengths.items())})")
    if np.asarray(t.boxes).shape != (n, 4):
        raise StoreError(f"{where}: boxes must be ({n}, 4) xyxy, got {np.asarray(t.boxes).shape}")
    if t.embedding is not None:
        emb = np.asarray(t.embedding)
        if emb.ndim != 1 or not np.all(np.isfinite(emb)):
            raise StoreError(f"{where}: embedding must be a finite (D,) vector, got shape {emb.shape}")
    return n


def _delete_video(conn: sqlite3.Connection, video_id: int) -> None:
    """Remove a video and (by cascade) its tracklets; identities left empty go too."""
    touched = [r[0] for r in conn.execute(
        "SELECT DISTINCT m.identity_id FROM identity_members m JOIN tracklets t ON t.id = m.tracklet_id "
        "WHERE t.video_id = ?", (video_id,))]
    conn.execute("DELETE FROM videos WHERE id = ?", (video_id,))
    conn.executemany("DELETE FROM identities WHERE id = ? AND NOT EXISTS "
                     "(SELECT 1 FROM identity_members WHERE identity_id = identities.id)",
                     [(i,) for i in touched])
    start_new_history(conn)


def commit_video(conn: sqlite3.Connection, video: VideoRecord, tracklets: Sequence[TrackletRecord]) -> int:
    """Insert ``video`` with its tracklets, detections and thumbnails; returns the video id.

    An earlier row of the same (camera, path) is replaced. Raises ``StoreError`` for inconsistent tracklets;
    the caller's transaction then writes nothing.
    """
    cam = camera_id(conn, video.camera)
    old = conn.execute("SELECT id FROM videos WHERE camera_id = ? AND path = ?",
                       (cam, str(video.path))).fetchone()
    if old is not None:
        _delete_video(conn, int(old[0]))
    vid = insert_id(
        conn, "INSERT INTO videos(camera_id, path, offset_s, fps, frames, width, height, bad_frames, status, "
        "detector, embedder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'done', ?, ?)",
        (cam, str(video.path), float(video.offset_s), float(video.fps), int(video.frames), int(video.width),
         int(video.height), int(video.bad_frames), video.detector, video.embedder))
    det_rows: list[tuple] = []
    thumb_rows: list[tuple] = []
    for t in tracklets:
        n = _check_tracklet(video, t)
        frames = np.asarray(t.frames, dtype=np.int64)
        times = np.asarray(t.times, dtype=np.float64)
        emb = None if t.embedding is None else np.asarray(t.embedding, dtype="<f4").tobytes()
        tid = insert_id(
            conn, "INSERT INTO tracklets(video_id, camera_id, track_id, first_frame, last_frame, first_time, "
            "last_time, n_detections, quality, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (vid, cam, int(t.track_id), int(frames[0]), int(frames[-1]), float(times[0]), float(times[-1]),
             n, float(t.quality), emb))
        boxes = np.asarray(t.boxes, dtype=np.float64)
        det_rows.extend(zip([tid] * n, frames.tolist(), times.tolist(), *boxes.T.tolist(),
                            np.asarray(t.scores, dtype=np.float64).tolist(), strict=True))
        thumb_rows.extend((tid, rank, int(frame), bytes(jpeg))
                          for rank, (frame, jpeg) in enumerate(t.thumbnails))
    conn.executemany("INSERT INTO detections(tracklet_id, frame, time, x1, y1, x2, y2, score) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", det_rows)
    conn.executemany("INSERT INTO thumbnails(tracklet_id, rank, frame, jpeg) VALUES (?, ?, ?, ?)", thumb_rows)
    return vid


def check_groups(groups: Sequence[Sequence[LinkProposal]], allowed: set[int], unknown: str, what: str) -> set[int]:
    """The tracklets of ``groups``; ``StoreError`` unless each is in ``allowed`` (else ``unknown`` formatted
    with its id) and in one group only."""
    seen: set[int] = set()
    for g in groups:
        for p in g:
            if p.tracklet_id not in allowed:
                raise StoreError(unknown.format(p.tracklet_id))
            if p.tracklet_id in seen:
                raise StoreError(f"{what}: tracklet {p.tracklet_id} is in two groups")
            seen.add(p.tracklet_id)
    return seen


def confirmed_by_identity(members: dict[int, tuple[int, str]]) -> dict[int, set[int]]:
    """``{identity: its confirmed tracklets}`` of ``{tracklet: (identity, state)}``."""
    out: dict[int, set[int]] = {}
    for tid, (iid, state) in members.items():
        if state == "confirmed":
            out.setdefault(iid, set()).add(tid)
    return out


MemberRow = tuple[int, float | None, float | None, str | None]  # identity, cost, confidence, reason


def place_groups(conn: sqlite3.Connection, groups: Sequence[Sequence[LinkProposal]],
                 old: dict[int, tuple[int, str]], cannot: dict[int, set[int]],
                 loose: Sequence[int]) -> tuple[dict[int, MemberRow], list[int]]:
    """Where each proposed tracklet of ``groups`` (and each of ``loose``, alone) goes: ``({tracklet: row},
    identities created)``.

    ``old``: ``{tracklet: (identity, state)}`` before; ``cannot``: each tracklet's cannot-link partners. A group
    with confirmed members joins the identity most of them are in; one without reuses the identity most of
    its tracklets were in, when no other group took it, else a new one. A tracklet that would share an
    identity with one it cannot link to becomes a singleton."""
    confirmed_of = confirmed_by_identity(old)
    claimed: set[int] = set(confirmed_of)
    created: list[int] = []
    rows: dict[int, MemberRow] = {}
    leftovers: list[int] = []

    def place(proposed: Sequence[LinkProposal], target: int | None, accepted: set[int]) -> None:
        if target is None:
            votes = Counter(old[p.tracklet_id][0] for p in proposed if p.tracklet_id in old)
            free = [(n, -iid) for iid, n in votes.items() if iid not in claimed]
            if free:
                target = -max(free)[1]
            else:
                target = insert_id(conn, "INSERT INTO identities DEFAULT VALUES")
                created.append(target)
            claimed.add(target)
        for p in sorted(proposed, key=lambda p: (p.cost is not None, p.cost or 0.0)):
            if cannot.get(p.tracklet_id, set()) & accepted:
                leftovers.append(p.tracklet_id)
                continue
            accepted.add(p.tracklet_id)
            rows[p.tracklet_id] = (target, p.cost, p.confidence, p.reason)

    for g in groups:
        confirmed = [p.tracklet_id for p in g if old.get(p.tracklet_id, (0, ""))[1] == "confirmed"]
        proposed = [p for p in g if old.get(p.tracklet_id, (0, ""))[1] != "confirmed"]
        if not proposed:
            continue
        if confirmed:
            votes = Counter(old[t][0] for t in confirmed)
            target = max(votes, key=lambda iid: (votes[iid], -iid))
            place(proposed, target, set(confirmed_of[target]))
        else:
            place(proposed, None, set())
    for t in list(loose) + leftovers:
        place([LinkProposal(t)], None, set())
    return rows, created


def apply_links(conn: sqlite3.Connection, groups: Sequence[Sequence[LinkProposal]]) -> None:
    """Replace every *proposed* membership by the linker's ``groups`` (one group = one identity).

    Confirmed members never move: a group holding confirmed members of an identity joins that identity
    (the one with most of them if the linker put several together). A group without confirmed members reuses
    the id (and name) of the identity most of its tracklets were in, when no other group took it, else gets a
    new identity. A proposed tracklet that would share an identity with one it cannot link to, and every
    tracklet in no group, becomes a singleton. Identities left empty are deleted. Starts a new undo history.
    """
    known = {r[0] for r in conn.execute("SELECT id FROM tracklets")}
    old: dict[int, tuple[int, str]] = {
        r[0]: (r[1], r[2]) for r in conn.execute("SELECT tracklet_id, identity_id, state FROM identity_members")}
    cannot: dict[int, set[int]] = {}
    for a, b in conn.execute("SELECT tracklet_a, tracklet_b FROM cannot_link"):
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    seen = check_groups(groups, known, "apply_links: no tracklet {}", "apply_links")

    loose = sorted(t for t in known - seen if old.get(t, (0, ""))[1] != "confirmed")
    rows, _ = place_groups(conn, groups, old, cannot, loose)

    conn.execute("DELETE FROM identity_members WHERE state != 'confirmed'")
    conn.executemany("INSERT INTO identity_members(tracklet_id, identity_id, cost, confidence, reason, state) "
                     "VALUES (?, ?, ?, ?, ?, 'proposed')", [(t, *row) for t, row in rows.items()])
    conn.execute("DELETE FROM identities WHERE id NOT IN (SELECT identity_id FROM identity_members)")
    start_new_history(conn)
