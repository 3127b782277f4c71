"""The ends of every tracklet, read at once (``queries._tracklet_ends``), match a per-tracklet fit."""

from __future__ import annotations

import numpy as np

from reid.store import Store, TrackletRecord, VideoRecord
from reid.store.queries import END_WINDOW_S, tracklet_features_of


def _record(tid: int, n: int, fps: float, rng: np.random.Generator) -> TrackletRecord:
    frames = np.arange(n) + 7 * tid
    times = frames / fps
    x1, y1 = rng.uniform(0, 300, n), rng.uniform(0, 150, n)
    boxes = np.stack([x1, y1, x1 + rng.uniform(10, 60, n), y1 + rng.uniform(40, 120, n)], 1).astype(np.float32)
    return TrackletRecord(tid, frames, times, boxes, np.ones(n, np.float32), np.ones(4, np.float32) / 2)


def _expected(rec: TrackletRecord, width: int, height: int) -> tuple:
    """Entry and exit feet, velocities, median heights: fitted on this tracklet's own boxes."""
    b = rec.boxes.astype(np.float64)
    t = rec.times.astype(np.float64)
    x, y, h = (b[:, 0] + b[:, 2]) / 2.0 / width, b[:, 3] / height, (b[:, 3] - b[:, 1]) / height
    head, tail = t <= t[0] + END_WINDOW_S, t >= t[-1] - END_WINDOW_S

    def slope(m: np.ndarray) -> tuple[float, float]:
        return (0.0, 0.0) if m.sum() < 2 else (np.polyfit(t[m], x[m], 1)[0], np.polyfit(t[m], y[m], 1)[0])

    return ((x[head][0], y[head][0]), (x[tail][-1], y[tail][-1]), slope(head), slope(tail),
            np.median(h[head]), np.median(h[tail]))


def test_every_tracklets_ends_match_a_fit_of_its_own_boxes(tmp_path) -> None:
    rng = np.random.default_rng(3)
    videos = [(VideoRecord("a", "a.mp4", 10.0, 400, 400, 300), [_record(t, n, 10.0, rng) for t, n in
                                                               ((1, 1), (2, 2), (3, 14), (4, 31), (5, 40))]),
              (VideoRecord("b", "b.mp4", 25.0, 400, 640, 480), [_record(t, n, 25.0, rng) for t, n in
                                                               ((1, 26), (2, 3), (3, 60))])]
    with Store(tmp_path / "s.db") as store:
        for video, recs in videos:
            store.commit_video(video, recs)
        feats = store.tracklet_features()
        subset = store.read(tracklet_features_of, [f.id for f in feats][1::2])
    expected = [(_expected(r, v.width, v.height), v.width / v.height) for v, recs in videos for r in recs]
    assert len(feats) == len(expected) == 8
    for f, (want, aspect) in zip(feats, expected, strict=True):  # ids in commit order
        got = (f.entry, f.exit, f.motion.entry_velocity, f.motion.exit_velocity, f.motion.entry_height,
               f.motion.exit_height)
        for g, w in zip(got, want, strict=True):
            assert np.allclose(g, w, rtol=1e-6, atol=1e-9)
        assert np.isclose(f.motion.aspect, aspect)
    by_id = {f.id: f for f in feats}
    assert [f.id for f in subset] == [f.id for f in feats][1::2]
    assert all(f.entry == by_id[f.id].entry and f.motion == by_id[f.id].motion for f in subset)
