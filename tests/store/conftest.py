"""Tiny stores built from hand-made tracklets: 2 cameras, 3 videos, 6 tracklets, known identities."""

from __future__ import annotations

import numpy as np
import pytest

from reid.store import LinkProposal, Store, VideoRecord
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


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.db") as s:
        yield s


@pytest.fixture
def linked(store):
    """Tracklets 1-3 -> identity of t1 (t1 anchor), 4-5 -> identity of t4, 6 in no group (singleton)."""
    store.commit_video(video("cam1", "a.mp4"), [
        make_tracklet(1, first_frame=0, embedding=unit(1, 0, 0, 0)),
        make_tracklet(2, first_frame=10, embedding=unit(0, 1, 0, 0)),
    ])
    store.commit_video(video("cam2", "b.mp4"), [
        make_tracklet(1, camera="cam2", video="b.mp4", first_frame=5, embedding=unit(1, 0.1, 0, 0)),
        make_tracklet(2, camera="cam2", video="b.mp4", first_frame=20, embedding=unit(0, 1, 0.1, 0)),
    ])
    store.commit_video(video("cam2", "c.mp4"), [
        make_tracklet(1, camera="cam2", video="c.mp4", first_frame=0, embedding=unit(1, 0.2, 0, 0)),
        make_tracklet(2, camera="cam2", video="c.mp4", first_frame=30, embedding=unit(0, 0, 0, 1)),
    ])
    # tracklet ids by insertion: a.mp4 -> 1, 2; b.mp4 -> 3, 4; c.mp4 -> 5, 6
    store.apply_links([
        [LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(5, 0.3, 0.4)],
        [LinkProposal(2), LinkProposal(4, 0.2, 0.6)],
    ])
    return store
