"""Tiny stores built from hand-made tracklets: 2 cameras, 3 videos, 6 tracklets, known identities."""

from __future__ import annotations

import pytest
from store_helpers import dump, make_tracklet, unit, video  # noqa: F401  (re-exported for fixtures)

from reid.store import LinkProposal, Store


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
        make_tracklet(1, first_frame=5, embedding=unit(1, 0.1, 0, 0)),
        make_tracklet(2, first_frame=20, embedding=unit(0, 1, 0.1, 0)),
    ])
    store.commit_video(video("cam2", "c.mp4"), [
        make_tracklet(1, first_frame=0, embedding=unit(1, 0.2, 0, 0)),
        make_tracklet(2, first_frame=30, embedding=unit(0, 0, 0, 1)),
    ])
    # tracklet ids by insertion: a.mp4 -> 1, 2; b.mp4 -> 3, 4; c.mp4 -> 5, 6
    store.apply_links([
        [LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(5, 0.3, 0.4)],
        [LinkProposal(2), LinkProposal(4, 0.2, 0.6)],
    ])
    return store
