"""Plain helpers of the store tests, in a module of their own: ``conftest`` cannot be imported by name once
several test folders have one."""

from __future__ import annotations

import numpy as np

from reid.store import Store, TrackletRecord, VideoRecord


def make_tracklet(track_id: int, n: int = 4, first_frame: int = 0, embedding: list[float] | None = None,
                  fps: float = 10.0, n_thumbs: int = 2) -> TrackletRecord:
    """``n`` detections from ``first_frame`` on; thumbnails ``b"jpeg-K"`` of frames ``first_frame + K``, best
    (``K = 0``) first; quality 0.5."""
    frames = np.arange(first_frame, first_frame + n)
    boxes = np.array([[10 + i, 20, 50 + i, 120] for i in range(n)], np.float32)
    thumbs = tuple((int(frames[k]), f"jpeg-{k}".encode()) for k in range(min(n_thumbs, n)))
    emb = None if embedding is None else np.asarray(embedding, np.float32)
    return TrackletRecord(track_id, frames, frames / fps, boxes, np.linspace(0.5, 0.9, n).astype(np.float32),
                          emb, quality=0.5, thumbnails=thumbs)


def unit(*values: float) -> list[float]:
    v = np.asarray(values, np.float32)
    return (v / np.linalg.norm(v)).tolist()


def video(camera: str = "cam1", path: str = "a.mp4") -> VideoRecord:
    return VideoRecord(camera=camera, path=path, fps=10.0, frames=100, width=640, height=480)


def dump(store: Store, skip: tuple[str, ...] = ("review_log",)) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), for exact before/after comparisons."""
    tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: sorted(store.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables if t not in skip}


def edit_undo_redo(store, edit):
    """Run ``edit`` (one new log entry); undo restores every table exactly, redo re-applies it exactly.
    Returns its result."""
    before = dump(store)
    n_log = len(store.review_log())
    result = edit()
    after = dump(store)
    assert after != before
    assert len(store.review_log()) == n_log + 1
    action = store.review_log()[-1].action
    assert store.undo() == action
    assert dump(store) == before
    assert store.redo() == action
    assert dump(store) == after
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return result
