"""A small site with a known answer for the relink of decisions and ``reid evaluate-review``: people seen once
by each of two cameras (cam1, then cam2 3 s later), 100 s apart from each other, embeddings in 16-D with chosen
distances, and its MOTChallenge ground truth.

With a link threshold of 0.5 the linker gets it wrong in three places: persons 1 and 5 are 0.6 apart across
the cameras (just past the threshold: two missed links), persons 3 (cam1 only) and 4 (cam2 only) are 0.35
apart (a false link). Persons 0, 2, 6 are right.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from reid.store import Store, TrackletRecord, VideoRecord

FPS = 10.0
THRESHOLD = 0.5
DIM = 16
# person -> (cam1 start s or None, cam2 start s or None, distance between its two views)
PEOPLE = {
    0: (0.0, 5.0, 0.2),
    1: (100.0, 105.0, 0.6),
    2: (200.0, 205.0, 0.25),
    3: (300.0, None, 0.0),
    4: (None, 305.0, 0.0),
    5: (400.0, 405.0, 0.6),
    6: (500.0, 505.0, 0.3),
}
FALSE_PAIR = (3, 4, 0.35)  # cam1 view of 3 and cam2 view of 4, this far apart


def _views(d: float, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors ``d`` apart: e_p and a turn of it towards e_(8 + p)."""
    a = 2 * math.asin(d / 2)
    u, v = np.zeros(DIM, np.float32), np.zeros(DIM, np.float32)
    u[p] = 1
    v[p], v[8 + p] = math.cos(a), math.sin(a)
    return u, v


def embeddings() -> dict[tuple[str, int], np.ndarray]:
    """(camera, person) -> embedding."""
    out: dict[tuple[str, int], np.ndarray] = {}
    for p, (s1, s2, d) in PEOPLE.items():
        u, v = _views(d, p)
        if s1 is not None:
            out["cam1", p] = u
        if s2 is not None:
            out["cam2", p] = v
    a, b, d = FALSE_PAIR
    out["cam2", b] = _views(d, a)[1]  # person 4 looks like person 3
    return out


def _record(track_id: int, start_s: float, emb: np.ndarray) -> TrackletRecord:
    frames = np.arange(int(start_s * FPS), int((start_s + 2.0) * FPS))
    boxes = np.array([[100 + 3 * k, 60, 150 + 3 * k, 200] for k in range(len(frames))], np.float32)
    return TrackletRecord(
        track_id,
        frames,
        frames / FPS,
        boxes,
        np.full(len(frames), 0.9, np.float32),
        emb,
        quality=0.5,
        thumbnails=((int(frames[0]), b"jpeg"),),
    )


def build_site(store: Store, gt_dir: Path) -> dict[tuple[str, int], int]:
    """Commit both cameras (no links yet) and write ``gt_dir/cam1.txt``, ``cam2.txt``; returns
    ``{(camera, person): tracklet id}``."""
    emb = embeddings()
    gt_dir.mkdir(parents=True, exist_ok=True)
    ids = {}
    for c, cam in enumerate(("cam1", "cam2")):
        people = [(p, s[c]) for p, s in PEOPLE.items() if s[c] is not None]
        records = [_record(k + 1, start, emb[cam, p]) for k, (p, start) in enumerate(people)]
        video = VideoRecord(camera=cam, path=f"/site/{cam}.mp4", fps=FPS, frames=6000, width=640, height=480)
        vid = store.commit_video(video, records)
        rows = dict(
            store.conn.execute("SELECT track_id, id FROM tracklets WHERE video_id = ?", (vid,)).fetchall()
        )
        lines = []
        for k, ((p, _), rec) in enumerate(zip(people, records, strict=True)):
            ids[cam, p] = rows[k + 1]
            for f, (x1, y1, x2, y2) in zip(rec.frames.tolist(), rec.boxes.tolist(), strict=True):
                lines.append(f"{f + 1},{p + 1},{x1},{y1},{x2 - x1},{y2 - y1},1,-1,-1,-1")
        (gt_dir / f"{cam}.txt").write_text("\n".join(lines) + "\n")
    return ids


def link_site(store: Store) -> None:
    """Link every tracklet at ``THRESHOLD`` (as ``reid process`` would have) and store the threshold."""
    from reid.config import LinkConfig
    from reid.link.relink_component import link_at

    store.apply_links(link_at(store.tracklet_features(), store.link_constraints(), LinkConfig(), THRESHOLD))
    store.set_meta("link_threshold", str(THRESHOLD))
