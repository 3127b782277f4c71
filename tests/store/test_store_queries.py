"""Reads used by the GUI and export."""

from __future__ import annotations

import numpy as np
import pytest

from reid.errors import StoreError


def ident_of(store, tracklet_id: int) -> int:
    return store.tracklet(tracklet_id).identity_id


def test_cameras_and_videos(linked):
    cams = linked.cameras()
    assert [(c.name, c.n_videos, c.n_tracklets) for c in cams] == [("cam1", 1, 2), ("cam2", 2, 4)]
    vids = linked.videos()
    assert [(v.camera, v.path, v.fps, v.frames, v.width, v.height) for v in vids] == [
        ("cam1", "a.mp4", 10.0, 100, 640, 480), ("cam2", "b.mp4", 10.0, 100, 640, 480),
        ("cam2", "c.mp4", 10.0, 100, 640, 480)]


def test_identity_summaries(linked):
    a, b, c = ident_of(linked, 1), ident_of(linked, 2), ident_of(linked, 6)
    linked.confirm(3)
    linked.confirm(2)
    linked.confirm(4)
    summaries = {s.id: s for s in linked.identity_summaries()}
    assert set(summaries) == {a, b, c}
    sa = summaries[a]
    assert sa.cameras == ("cam1", "cam2") and sa.n_tracklets == 3 and sa.n_confirmed == 1
    assert sa.status == "partly reviewed" and sa.weakest_cost == 0.3
    assert sa.first_time == 0.0 and sa.last_time == pytest.approx(0.8)  # tracklet 3: frames 5..8 at 10 fps
    assert summaries[b].status == "reviewed" and summaries[b].cameras == ("cam1", "cam2")
    assert summaries[c].status == "unreviewed" and summaries[c].weakest_cost is None
    assert summaries[c].cameras == ("cam2",) and summaries[c].n_tracklets == 1


def test_identity_tracklets_and_tracklet(linked):
    rows = linked.identity_tracklets(ident_of(linked, 1))
    assert [r.id for r in rows] == [1, 5, 3]  # by first time: 0.0, 0.0 (id order), 0.5
    r = linked.tracklet(3)
    assert (r.camera, r.video_path, r.video_id, r.track_id, r.first_frame, r.last_frame, r.n_detections) == (
        "cam2", "b.mp4", 2, 1, 5, 8, 4)
    assert (r.cost, r.confidence, r.state) == (0.1, 0.8, "proposed")
    assert linked.identity_tracklets(999) == []
    with pytest.raises(StoreError, match="no tracklet 999"):
        linked.tracklet(999)


def test_detections(linked):
    dets = linked.detections(2)
    assert [d.frame for d in dets] == [10, 11, 12, 13]
    assert dets[0].time == pytest.approx(1.0) and dets[0].box == (10.0, 20.0, 50.0, 120.0)
    assert dets[0].score == pytest.approx(0.5) and dets[-1].score == pytest.approx(0.9)
    assert linked.detections(999) == []


def test_embedding_and_nearest(linked):
    near = linked.nearest_tracklets(1, k=3)
    assert [r.id for r, _ in near] == [3, 5, 2]  # (1, .1), (1, .2), then (0, 1)
    dists = [d for _, d in near]
    assert dists == sorted(dists)
    assert dists[0] == pytest.approx(np.linalg.norm(linked.embedding(1) - linked.embedding(3)), abs=1e-6)
    assert len(linked.nearest_tracklets(1, k=20)) == 5  # itself left out
    with pytest.raises(StoreError):
        linked.embedding(999)


def test_nearest_without_embedding(store):
    from store_helpers import make_tracklet, video
    store.commit_video(video(), [make_tracklet(1)])
    assert store.embedding(1) is None and store.nearest_tracklets(1) == []


def test_review_queue_least_confident_first(linked):
    assert linked.review_queue() == [5, 4, 3]  # confidence 0.4, 0.6, 0.8; anchors and singletons have no link
    linked.confirm(5)
    assert linked.review_queue() == [4, 3]


def test_counts_and_link_costs(linked):
    linked.confirm(3)
    c = linked.counts()
    assert c == {"identities": 3, "tracklets": 6, "detections": 24, "confirmed": 1, "proposed": 5,
                 "per_camera": {"cam1": 2, "cam2": 4}}
    costs = linked.link_costs()
    assert costs.dtype == np.float64 and sorted(costs.tolist()) == [0.1, 0.2, 0.3]


def test_review_log_rows(linked):
    linked.confirm(3)
    linked.annotate(ident_of(linked, 1), "Alice")
    linked.undo()
    log = linked.review_log()
    assert [(r.action, r.undone, r.undoable) for r in log] == [("confirm", False, True), ("annotate", True, True)]
    assert "tracklet 3" in log[0].description and "Alice" in log[1].description
