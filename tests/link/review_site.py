"""Tiny hand-built sites for the review queue and the relink of a decision: tracklets with chosen cameras,
times and 2-D embeddings (unit vectors at chosen angles, so distances are ``2 sin(angle / 2)``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from reid.store import LinkProposal, Store, TrackletRecord, VideoRecord

FPS = 10.0


def at_distance(d: float) -> float:
    """The angle (radians) between two unit vectors ``d`` apart."""
    return 2 * math.asin(d / 2)


def tracklet(track_id: int, start_s: float, angle: float, seconds: float = 2.0) -> TrackletRecord:
    """A tracklet from ``start_s`` for ``seconds``, one box per frame, embedding ``(cos angle, sin angle)``."""
    frames = np.arange(int(round(start_s * FPS)), int(round((start_s + seconds) * FPS)))
    boxes = np.array([[100 + 2 * k, 50, 140 + 2 * k, 150] for k in range(len(frames))], np.float32)
    return TrackletRecord(
        track_id,
        frames,
        frames / FPS,
        boxes,
        np.full(len(frames), 0.9, np.float32),
        np.array([math.cos(angle), math.sin(angle)], np.float32),
        quality=0.5,
        thumbnails=((int(frames[0]), b"jpeg"),),
    )


def build(store: Store, cameras: dict[str, Sequence[tuple[float, float]]]) -> dict[tuple[str, int], int]:
    """One video per camera holding its ``(start_s, angle)`` tracklets; returns ``{(camera, k): tracklet id}``
    (k = position in the camera's list)."""
    ids = {}
    for cam, tracks in cameras.items():
        video = VideoRecord(camera=cam, path=f"/site/{cam}.mp4", fps=FPS, frames=3000, width=640, height=480)
        vid = store.commit_video(video, [tracklet(k + 1, s, a) for k, (s, a) in enumerate(tracks)])
        rows = store.conn.execute("SELECT id, track_id FROM tracklets WHERE video_id = ?", (vid,)).fetchall()
        ids.update({(cam, track - 1): tid for tid, track in rows})
    return ids


def link(store: Store, groups: Sequence[Sequence[tuple[int, float | None]]], threshold: float) -> None:
    """``apply_links`` with ``(tracklet, cost)`` groups (confidence ``1 - cost / threshold``) and the threshold
    stored as the site's."""
    store.apply_links(
        [
            [LinkProposal(t, c, None if c is None else max(0.0, 1 - c / threshold)) for t, c in g]
            for g in groups
        ]
    )
    store.set_meta("link_threshold", str(threshold))


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table but the review log (sorted), for exact before/after comparisons."""
    tables = [
        r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    ]
    return {
        t: sorted(store.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        for t in tables
        if t != "review_log"
    }
