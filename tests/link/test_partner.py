"""The partner of a link: the member of the tracklet's identity nearest to it, another camera's first, in the
site's centred space."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from review_site import build, link, tracklet

from reid.errors import StoreError
from reid.link.camera_centring import CENTRING_META
from reid.link.partner import link_partner
from reid.store import Store, VideoRecord


@pytest.fixture
def site(tmp_path):
    """One identity of four: tracklets 1 (angle 0), 2 (0.2) on cam1, 3 (0.3), 4 (-0.2) on cam2; 5 alone."""
    with Store(tmp_path / "s.db") as store:
        t = build(store, {"cam1": [(0.0, 0.0), (10.0, 0.2), (50.0, 1.5)], "cam2": [(3.0, 0.3), (13.0, -0.2)]})
        assert [t["cam1", 0], t["cam1", 1], t["cam2", 0], t["cam2", 1], t["cam1", 2]] == [1, 2, 4, 5, 3]
        link(store, [[(1, None), (2, 0.2), (4, 0.3), (5, 0.2)], [(3, None)]], threshold=0.5)
        yield store


def test_the_partner_is_the_nearest_member_of_another_camera(site):
    assert link_partner(site, 4) == 2  # 0.1 rad from tracklet 2, 0.3 from tracklet 1
    assert link_partner(site, 5) == 1  # 0.2 rad from 1, 0.4 from 2
    assert link_partner(site, 2) == 4  # 0.1 rad from 4, 0.2 from 1


def test_another_cameras_member_comes_before_a_same_camera_one(site):
    assert (
        link_partner(site, 1) == 5
    )  # 2 (cam1) and 5 (cam2) are both 0.2 rad away: the link is across cameras


def test_an_identity_of_one_camera_takes_its_nearest_member(tmp_path):
    with Store(tmp_path / "one.db") as store:
        t = build(store, {"cam1": [(0.0, 0.0), (10.0, 0.3), (20.0, 0.1)]})
        link(store, [[(t["cam1", 0], None), (t["cam1", 1], 0.3), (t["cam1", 2], 0.1)]], threshold=0.5)
        assert link_partner(store, t["cam1", 1]) == t["cam1", 2]


def test_distances_are_taken_in_the_sites_centred_space(site):
    shift = [1.0 - math.cos(0.3), 0.0 - math.sin(0.3)]  # moves cam2's tracklet 4 onto angle 0
    site.set_meta(CENTRING_META, json.dumps({"cam2": shift}))
    assert link_partner(site, 1) == 4


def test_no_partner_alone_unlinked_or_without_embeddings(site, tmp_path):
    assert link_partner(site, 3) is None  # alone in its identity
    with pytest.raises(StoreError, match="no tracklet 99"):
        link_partner(site, 99)
    with Store(tmp_path / "bare.db") as store:
        video = VideoRecord(camera="cam1", path="/v.mp4", fps=10.0, frames=900, width=640, height=480)
        store.commit_video(
            video,
            [replace(tracklet(1, 0.0, 0.0), embedding=None), tracklet(2, 5.0, 0.1), tracklet(3, 10.0, 0.2)],
        )
        assert link_partner(store, 1) is None  # not linked yet
        link(store, [[(1, None), (2, 0.1)], [(3, None)]], threshold=0.5)
        assert link_partner(store, 1) is None  # it has no embedding
        assert link_partner(store, 2) is None  # its only other member has none
