"""Plain helpers of the store tests, in a module of their own: ``conftest`` cannot be imported by name once
several test folders have one."""

from __future__ import annotations

import numpy as np

from reid.store import Store, VideoRecord
from reid.video.types import Crop, Tracklet


def make_tracklet(track_id: int, n: int = 4, first_frame: int = 0, camera: str = "cam1", video: str = "a.mp4",
                  embedding: list[float] | None = None, fps: float = 10.0, n_crops: int = 2) -> Tracklet:
    frames = np.arange(first_frame, first_frame + n)
    boxes = np.array([[10 + i, 20, 50 + i, 120] for i in range(n)], np.float32)
    crops = [Crop(frame=int(frames[k]), image=np.full((200, 80, 3), 40 * (k + 1), np.uint8), quality=float(k))
             for k in range(min(n_crops, n))]
    emb = None if embedding is None else np.asarray(embedding, np.float32)
    return Tracklet(camera=camera, video=video, track_id=track_id, frames=frames, times=frames / fps,
                    boxes=boxes, scores=np.linspace(0.5, 0.9, n).astype(np.float32), crops=crops, embedding=emb)


def unit(*values: float) -> list[float]:
    v = np.asarray(values, np.float32)
    return (v / np.linalg.norm(v)).tolist()


def video(camera: str = "cam1", path: str = "a.mp4") -> VideoRecord:
    return VideoRecord(camera=camera, path=path, fps=10.0, frames=100, width=640, height=480)


def dump(store: Store, skip: tuple[str, ...] = ("review_log",)) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), for exact before/after comparisons."""
    tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: sorted(store.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables if t not in skip}
