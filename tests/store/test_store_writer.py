"""Pipeline writes: commit_video (atomic, replacing), thumbnails, apply_links."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from store_helpers import dump, make_tracklet, unit, video

from reid.errors import StoreError
from reid.store import LinkProposal


def test_commit_video_writes_everything(store):
    vid = store.commit_video(video(), [make_tracklet(7, n=5, embedding=unit(1, 2, 3)), make_tracklet(8, n=3)])
    assert vid == 1
    assert store.is_video_done("cam1", "a.mp4")
    assert not store.is_video_done("cam2", "a.mp4") and not store.is_video_done("cam1", "b.mp4")
    counts = store.counts()
    assert counts["tracklets"] == 2 and counts["detections"] == 8 and counts["per_camera"] == {"cam1": 2}
    t = store.tracklet(1)
    assert (t.track_id, t.first_frame, t.last_frame, t.n_detections, t.identity_id) == (7, 0, 4, 5, None)
    assert t.first_time == 0.0 and t.last_time == pytest.approx(0.4)
    emb = store.embedding(1)
    assert emb.dtype == np.float32 and np.allclose(emb, unit(1, 2, 3))
    assert store.embedding(2) is None
    blob = store.conn.execute("SELECT embedding FROM tracklets WHERE id = 1").fetchone()[0]
    assert len(blob) == 3 * 4


def test_thumbnails_are_stored_as_given_best_first(store):
    store.commit_video(video(), [make_tracklet(1, n=4, n_thumbs=3)])
    assert store.thumbnails(1) == [(0, b"jpeg-0"), (1, b"jpeg-1"), (2, b"jpeg-2")]
    assert store.thumbnails(1, limit=1) == [(0, b"jpeg-0")]
    assert store.conn.execute("SELECT quality FROM tracklets WHERE id = 1").fetchone()[0] == 0.5


class _Source:
    """Not a TrackletRecord: gives one by ``record()``, as the pipeline's Tracklet does."""

    def __init__(self, record):
        self.calls = 0
        self._record = record

    def record(self):
        self.calls += 1
        return self._record


def test_commit_video_takes_objects_that_give_a_record(store):
    source = _Source(make_tracklet(3, n=2))
    store.commit_video(video(), [make_tracklet(1), source])
    assert source.calls == 1
    assert [store.tracklet(i).track_id for i in (1, 2)] == [1, 3]


def test_commit_video_is_atomic(store):
    before = dump(store)
    bad = make_tracklet(2, n=4)
    bad = replace(bad, times=bad.times[:3])  # mismatched arrays
    with pytest.raises(StoreError, match="tracklet 2.*differ in length") as err:
        store.commit_video(video(), [make_tracklet(1), bad])
    assert "a.mp4" in str(err.value)
    assert dump(store) == before
    assert not store.is_video_done("cam1", "a.mp4")


@pytest.mark.parametrize("breaker", [
    lambda t: replace(t, boxes=t.boxes[:, :3]),
    lambda t: replace(t, embedding=np.array([np.nan, 1.0], np.float32)),
    lambda t: replace(t, frames=t.frames[:0]),
])
def test_commit_video_rejects_bad_tracklets(store, breaker):
    t = breaker(make_tracklet(1))
    with pytest.raises(StoreError):
        store.commit_video(video(), [make_tracklet(5), t])
    assert store.counts()["tracklets"] == 0 and store.videos() == []


def test_recommit_replaces_rows(linked):
    assert linked.counts()["tracklets"] == 6
    vid = linked.commit_video(video("cam1", "a.mp4"), [make_tracklet(9, n=2, embedding=unit(1, 0))])
    assert len(linked.videos()) == 3
    assert linked.conn.execute("SELECT COUNT(*) FROM videos WHERE path = 'a.mp4'").fetchone()[0] == 1
    counts = linked.counts()
    assert counts["tracklets"] == 5 and counts["per_camera"] == {"cam1": 1, "cam2": 4}
    assert [r[0] for r in linked.conn.execute("SELECT track_id FROM tracklets WHERE video_id = ?", (vid,))] == [9]
    # the old tracklets' detections, thumbnails and memberships went with them
    assert linked.conn.execute("SELECT COUNT(*) FROM detections WHERE tracklet_id IN (1, 2)").fetchone()[0] == 0
    assert linked.conn.execute("SELECT COUNT(*) FROM thumbnails WHERE tracklet_id IN (1, 2)").fetchone()[0] == 0
    assert linked.conn.execute("SELECT COUNT(*) FROM identity_members WHERE tracklet_id IN (1, 2)"
                               ).fetchone()[0] == 0
    assert linked.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_camera_id_get_or_create(store):
    a = store.camera_id("north", start_time=12.5)
    assert store.camera_id("north") == a
    assert store.camera_id("south") != a
    assert [(c.name, c.start_time) for c in store.cameras()] == [("north", 12.5), ("south", 0.0)]


def test_meta(store):
    assert store.get_meta("k") is None
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert store.get_meta("k") == "2"


# ------------------------------------------------------------------------------------------------- linking
def members(store) -> dict[int, tuple[int, str]]:
    return {t: (i, s) for t, i, s in store.conn.execute("SELECT tracklet_id, identity_id, state FROM identity_members")}


def test_apply_links_groups_and_singletons(linked):
    m = members(linked)
    assert m[1][0] == m[3][0] == m[5][0]
    assert m[2][0] == m[4][0] != m[1][0]
    assert m[6][0] not in (m[1][0], m[2][0])  # in no group: a singleton
    assert {s for _, s in m.values()} == {"proposed"}
    rows = {t.id: t for t in linked.identity_tracklets(m[1][0])}
    assert rows[1].cost is None and rows[3].cost == 0.1 and rows[5].confidence == 0.4
    assert len(linked.identity_summaries()) == 3


def test_apply_links_keeps_confirmed_members_names_and_ids(linked):
    ident = members(linked)[1][0]
    linked.confirm(1)
    linked.confirm(3)
    linked.annotate(ident, "Alice", "red coat")
    # the linker now splits 1 and 3 apart and joins 5 with 2: confirmed members must stay together
    linked.apply_links([[LinkProposal(1), LinkProposal(4, 0.5, 0.1)], [LinkProposal(3)],
                        [LinkProposal(2), LinkProposal(5, 0.2, 0.6)]])
    m = members(linked)
    assert m[1] == (ident, "confirmed") and m[3] == (ident, "confirmed")
    assert m[4] == (ident, "proposed")
    assert m[5][0] == m[2][0] != ident
    summary = {s.id: s for s in linked.identity_summaries()}[ident]
    assert (summary.name, summary.note, summary.n_confirmed, summary.n_tracklets) == ("Alice", "red coat", 2, 3)
    assert linked.link_constraints().must_link == [(1, 3)]


def test_apply_links_reuses_identity_ids_and_names_of_unconfirmed_groups(linked):
    ident = members(linked)[2][0]
    linked.annotate(ident, "Bob")
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(5, 0.3, 0.4)],
                        [LinkProposal(2), LinkProposal(4, 0.25, 0.5), LinkProposal(6, 0.5, 0.1)]])
    m = members(linked)
    assert m[2][0] == m[4][0] == m[6][0] == ident
    assert {s.id: s.name for s in linked.identity_summaries()} == {ident: "Bob", m[1][0]: ""}


def test_apply_links_never_violates_cannot_link(linked):
    linked.reject(3)  # 3 is not the same person as 1 and 5
    assert (1, 3) in linked.link_constraints().cannot_link
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(5, 0.3, 0.4)]])
    m = members(linked)
    assert m[1][0] == m[5][0] != m[3][0]
    for a, b in linked.link_constraints().cannot_link:
        assert m[a][0] != m[b][0]


def test_apply_links_merging_two_confirmed_identities_keeps_them_apart(linked):
    m = members(linked)
    linked.confirm(1)
    linked.confirm(2)
    linked.apply_links([[LinkProposal(1), LinkProposal(2, 0.1, 0.9), LinkProposal(6, 0.2, 0.7)]])
    after = members(linked)
    assert after[1] == (m[1][0], "confirmed") and after[2] == (m[2][0], "confirmed")
    assert after[6][0] == m[1][0]
    assert linked.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_apply_links_deletes_empty_identities_and_checks_ids(linked):
    linked.apply_links([[LinkProposal(t) for t in range(1, 7)]])
    assert len(linked.identity_summaries()) == 1
    assert linked.conn.execute("SELECT COUNT(*) FROM identities").fetchone()[0] == 1
    before = dump(linked)
    with pytest.raises(StoreError, match="no tracklet 99"):
        linked.apply_links([[LinkProposal(99)]])
    with pytest.raises(StoreError, match="two groups"):
        linked.apply_links([[LinkProposal(1)], [LinkProposal(1)]])
    assert dump(linked) == before


def test_tracklet_features_and_constraints(linked):
    feats = linked.tracklet_features()
    assert [f.id for f in feats] == [1, 2, 3, 4, 5, 6]
    f = feats[2]
    assert (f.camera, f.video_id, f.track_id) == ("cam2", 2, 1)
    assert f.embedding.shape == (4,) and f.embedding.dtype == np.float32
    assert np.isclose(np.linalg.norm(f.embedding), 1.0)
    c = linked.link_constraints()
    assert c.must_link == [] and c.cannot_link == set()


def test_link_reasons_are_stored_returned_and_follow_review_edits(linked):
    because = "appearance 0.41, transit 1.2 s, zone right→left"
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8, because), LinkProposal(5, 0.3, 0.4)],
                        [LinkProposal(2), LinkProposal(4, 0.2, 0.6, "appearance 0.2")]])
    assert linked.tracklet(3).reason == because
    rows = {t.id: t for t in linked.identity_tracklets(linked.tracklet(1).identity_id)}
    assert (rows[1].reason, rows[3].reason, rows[5].reason) == (None, because, None)
    linked.confirm(4)
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8)]])  # a confirmed member keeps its reason
    assert linked.tracklet(4).reason == "appearance 0.2" and linked.tracklet(3).reason is None
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8, because)]])
    linked.reject(3)  # moved by a reviewer: the linker's reason no longer applies
    assert linked.tracklet(3).reason is None
    linked.undo()
    assert linked.tracklet(3).reason == because
