"""Within-camera stitching on generated walks with a known answer: a lost track picked up where its motion leads is
joined; a look-alike elsewhere, someone else on the path, and reviewers' decisions are respected."""

from __future__ import annotations

import numpy as np
from link_features import feature, link

from reid.config import LinkConfig
from reid.link.calibrate import known_pairs, pair_distances
from reid.link.stitch import Stitch, pool
from reid.link.stitch import stitch_tracklets as stitch_with
from reid.store import Store, TrackletRecord, VideoRecord
from reid.store.rows import LinkConstraints, TrackletFeature, TrackMotion

HEIGHT = 0.2  # box height, fraction of the frame
CFG = LinkConfig(threshold=0.3, min_pairs=5)


def walker(fid: int, t0: float, t1: float, start: tuple[float, float], velocity: tuple[float, float],
           embedding: np.ndarray, camera: str = "a") -> TrackletFeature:
    """A person walking at constant ``velocity`` (fractions of the frame per s) from ``start`` at ``t0``."""
    x0, y0 = start
    end = (x0 + velocity[0] * (t1 - t0), y0 + velocity[1] * (t1 - t0))
    f = feature(fid, camera, t0, t1, embedding, start, end)
    return TrackletFeature(f.id, f.camera, f.video_id, f.track_id, f.first_time, f.last_time, f.embedding,
                           f.entry, f.exit, TrackMotion(velocity, velocity, HEIGHT, HEIGHT, 4 / 3))


COMMON = np.random.default_rng(0).normal(size=32)


def looks(seed: int, n: int, weight: float = 0.8, spread: float = 0.05) -> list[np.ndarray]:
    """``n`` views of one person (unit vectors close to one another). People share a common part, so two of
    them are 0.5-1.2 apart as in real footage; ``weight`` is how much of the look is the person's own."""
    rng = np.random.default_rng(seed)
    own = rng.normal(size=32)
    base = COMMON / np.linalg.norm(COMMON) + weight * own / np.linalg.norm(own)
    out = []
    for _ in range(n):
        v = base / np.linalg.norm(base) + spread * rng.normal(size=32) / np.sqrt(32)
        out.append((v / np.linalg.norm(v)).astype(np.float32))
    return out


def stitch_tracklets(feats: list[TrackletFeature], threshold: float) -> list[Stitch]:
    """Stitches among ``feats``, with their known-different pairs (tracks of one camera at the same time)."""
    different, _ = known_pairs(feats)
    emb = np.stack([f.embedding for f in feats])
    return stitch_with(feats, different, pair_distances(emb, different), CFG, threshold)


def crowd(n: int = 8) -> list[TrackletFeature]:
    """People walking across camera a at the same time, all in different places (known-different pairs)."""
    return [walker(100 + k, 0.0, 20.0, (0.1, 0.3 + 0.08 * k), (0.03, 0.0), looks(50 + k, 1, 0.4 + 0.1 * k)[0])
            for k in range(n)]


def test_a_lost_track_is_stitched_where_its_motion_leads_and_a_look_alike_elsewhere_is_not() -> None:
    a, b, c = looks(1, 3)
    lost = walker(1, 0.0, 4.0, (0.1, 0.5), (0.1, 0.0), a)  # leaves (0.5, 0.5) at t = 4 s, walking right
    found = walker(2, 5.0, 8.0, (0.6, 0.5), (0.1, 0.0), b)  # 1 s later, 0.1 further on: where it was heading
    elsewhere = walker(3, 5.0, 8.0, (0.6, 0.9), (0.1, 0.0), c)  # the same look, at the bottom of the view
    feats = [lost, found, elsewhere, *crowd()]
    stitches = stitch_tracklets(feats, CFG.threshold)
    assert [(s.earlier, s.later) for s in stitches] == [(1, 2)]
    s = stitches[0]
    assert abs(s.gap - 1.0) < 1e-9 and s.off_path < 0.05 and s.distance < s.threshold
    assert "picks up a lost track after 1.0 s" in s.reason()


def test_someone_else_on_the_path_is_not_stitched_and_one_to_one_picks_the_closer_look() -> None:
    a, b = looks(1, 2)
    other = looks(2, 1, weight=1.0)[0]  # a different person
    lost = walker(1, 0.0, 4.0, (0.1, 0.5), (0.1, 0.0), a)
    stranger = walker(2, 4.6, 8.0, (0.56, 0.5), (0.1, 0.0), other)  # right place, wrong person
    assert stitch_tracklets([lost, stranger, *crowd()], CFG.threshold) == []
    found = walker(3, 5.0, 8.0, (0.6, 0.52), (0.1, 0.0), b)
    stitches = stitch_tracklets([lost, stranger, found, *crowd()], CFG.threshold)
    assert [(s.earlier, s.later) for s in stitches] == [(1, 3)]


def test_a_stopped_person_is_picked_up_where_they_stopped_but_not_behind_where_they_were() -> None:
    a, b, c = looks(1, 3)
    lost = walker(1, 0.0, 4.0, (0.1, 0.5), (0.1, 0.0), a)
    stopped = walker(2, 6.0, 8.0, (0.52, 0.5), (0.0, 0.0), b)  # 2 s later, barely moved: slowed down
    assert [(s.earlier, s.later) for s in stitch_tracklets([lost, stopped, *crowd()], 0.3)] == [(1, 2)]
    back = walker(3, 6.0, 8.0, (0.1, 0.5), (0.0, 0.0), c)  # 2 s later, back where it came from: not a lost track
    assert stitch_tracklets([lost, back, *crowd()], 0.3) == []


def test_stitches_respect_reviewers_and_become_members_with_their_reason() -> None:
    a, b = looks(1, 2)
    lost = walker(1, 0.0, 4.0, (0.1, 0.5), (0.1, 0.0), a)
    found = walker(2, 5.0, 8.0, (0.6, 0.5), (0.1, 0.0), b)
    other_cam = walker(3, 8.5, 12.0, (0.1, 0.5), (0.1, 0.0), looks(1, 4)[3], camera="b")
    feats = [lost, found, other_cam, *crowd()]
    stitches = stitch_tracklets(feats, CFG.threshold)
    assert pool(feats, LinkConstraints(cannot_link={(1, 2)}), stitches).members[1] == [(1, None)]
    assert pool(feats, LinkConstraints(must_link=[(1,), (2,)]), stitches).members[2] == [(2, None)]
    pooled = pool(feats, None, stitches)
    assert [t for t, _ in pooled.members[1]] == [1, 2] and 2 not in pooled.members
    unit = next(u for u in pooled.units if u.id == 1)
    assert (unit.first_time, unit.last_time, unit.exit) == (0.0, 8.0, found.exit)
    groups = link(feats, None, LinkConfig(threshold=0.3, min_pairs=5, topology=False))
    person = next(g for g in groups if g[0].tracklet_id == 1)
    assert [m.tracklet_id for m in person] == [1, 2, 3]  # the stitched pair, then camera b through the pool
    assert person[1].reason.startswith("same camera: picks up a lost track") and 0 <= person[1].confidence <= 1
    assert 0 <= person[1].cost < 0.3  # read against the link threshold, as every cost
    off = link(feats, None, LinkConfig(threshold=0.3, min_pairs=5, topology=False, stitch=False))
    assert all(m.reason is None or not m.reason.startswith("same camera") for g in off for m in g)


def test_the_store_gives_each_tracklet_its_velocity_and_box_height_at_both_ends(tmp_path) -> None:
    frames = np.arange(0, 30)
    times = frames / 10.0
    # walks right at 20 px/s for 1.5 s, then stands still; boxes 100 px high in a 400 x 300 frame
    x = np.where(times < 1.5, 50 + 20 * times, 80.0)
    boxes = np.stack([x - 10, np.full(30, 150.0), x + 10, np.full(30, 250.0)], 1).astype(np.float32)
    rec = TrackletRecord(1, frames, times, boxes, np.ones(30, np.float32), np.ones(4, np.float32) / 2)
    with Store(tmp_path / "s.db") as store:
        store.commit_video(VideoRecord("cam", "v.mp4", 10.0, 30, 400, 300), [rec])
        (f,) = store.tracklet_features()
    assert f.motion is not None
    assert np.allclose(f.motion.entry_velocity, (20 / 400, 0.0), atol=1e-6)  # the first second: walking
    assert np.allclose(f.motion.exit_velocity, (0.0, 0.0), atol=1e-6)  # the last second: standing
    assert np.isclose(f.motion.entry_height, 100 / 300) and np.isclose(f.motion.aspect, 400 / 300)
    assert np.allclose(f.entry, (50 / 400, 250 / 300)) and np.allclose(f.exit, (80 / 400, 250 / 300))


def test_a_stitched_chain_that_spans_the_other_cameras_sighting_links_through_its_own_steps() -> None:
    """A person steps out of camera a into camera b for a second and back (the two views overlap at the cut): the
    stitched chain a1 + a2 spans the b sighting, which only its tracklets' own times can place."""
    a, b, c = looks(1, 3)
    out = walker(1, 0.0, 4.0, (0.55, 0.5), (0.1, 0.0), a)  # leaves a at its right edge at 4 s
    back = walker(2, 6.5, 10.0, (0.95, 0.5), (-0.1, 0.0), b)  # back where it left, 2.5 s later
    across = walker(3, 4.5, 6.0, (0.05, 0.5), (0.0, 0.0), c, camera="b")  # meanwhile at b's left edge
    feats = [out, back, across, *crowd()]
    cfg = LinkConfig(threshold=0.3, min_pairs=5, topology=False, transit={"a->b": (0.0, 1.0)})
    groups = link(feats, None, cfg)
    person = next(g for g in groups if g[0].tracklet_id == 1)
    assert sorted(m.tracklet_id for m in person) == [1, 2, 3]
    late = walker(4, 8.0, 9.0, (0.05, 0.5), (0.0, 0.0), c, camera="b")  # b sees them while a still does: 2 s
    group_of = {m.tracklet_id: k for k, g in enumerate(link([out, back, late, *crowd()], None, cfg))
                for m in g}
    assert group_of[1] == group_of[2] != group_of[4]  # 2 s in both views at once is outside a->b's window
