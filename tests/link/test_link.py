"""Cross-camera linking on hand-made tracklet features whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from link_features import link

from reid.config import LinkConfig
from reid.store.rows import LinkConstraints, TrackletFeature


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def feat(tid: int, camera: str, t0: float, t1: float, emb: np.ndarray) -> TrackletFeature:
    return TrackletFeature(id=tid, camera=camera, video_id=0, track_id=tid, first_time=t0, last_time=t1,
                           embedding=np.asarray(emb, np.float32))


def partition(groups) -> set[frozenset[int]]:
    return {frozenset(p.tracklet_id for p in g) for g in groups}


def scenario(people: int, cams: list[str], noise: float, spread: float, seed: int) -> tuple[list, dict]:
    """Each person walks through every camera in order, 30 s per camera, 10 s transit; returns features
    and the true person of each tracklet id."""
    rng = np.random.default_rng(seed)
    dim = 64
    common = rng.normal(size=dim)
    base = unit(common * (1 - spread) + spread * rng.normal(size=(people, dim)) * 1.0)
    feats, truth, tid = [], {}, 100
    for p in range(people):
        start = float(rng.uniform(0, 40))
        for c, cam in enumerate(cams):
            t0 = start + 40.0 * c
            emb = unit(base[p] + noise * rng.normal(size=dim) / np.sqrt(dim))
            feats.append(feat(tid, cam, t0, t0 + 30.0, emb))
            truth[tid] = p
            tid += 1
    return feats, truth


def test_three_people_three_cameras() -> None:
    feats, truth = scenario(3, ["a", "b", "c"], noise=0.25, spread=1.0, seed=0)
    groups = link(feats, None, LinkConfig(threshold=0.6))
    assert len(groups) == 3
    expected = {frozenset(t for t, p in truth.items() if p == q) for q in range(3)}
    assert partition(groups) == expected
    for g in groups:
        assert g[0].cost is None and g[0].confidence is None
        members = [f for f in feats if f.id in {p.tracklet_id for p in g}]
        first = min(members, key=lambda f: (f.first_time, f.id))
        assert g[0].tracklet_id == first.id  # the group's first member is its earliest tracklet
        for p in g[1:]:
            assert 0 <= p.cost < 0.6 and p.confidence == pytest.approx(1 - p.cost / 0.6)


def test_empty_input() -> None:
    assert link([], None, LinkConfig()) == []
    assert link([], LinkConstraints(), LinkConfig()) == []


def test_every_tracklet_in_exactly_one_group() -> None:
    feats, _ = scenario(8, ["a", "b", "c", "d"], noise=0.6, spread=0.5, seed=3)
    groups = link(feats, None, LinkConfig(threshold=0.6))
    ids = [p.tracklet_id for g in groups for p in g]
    assert sorted(ids) == sorted(f.id for f in feats)


def test_tracklet_without_embedding_stays_alone() -> None:
    e = unit(np.ones(8))
    feats = [feat(1, "a", 0, 10, e), feat(2, "b", 20, 30, e)]
    feats.append(TrackletFeature(id=3, camera="c", video_id=0, track_id=3, first_time=40, last_time=50,
                                 embedding=None))
    assert partition(link(feats, None, LinkConfig(threshold=0.5))) == {frozenset({1, 2}), frozenset({3})}


def test_same_camera_overlap_never_merged() -> None:
    e = unit(np.ones(8))
    feats = [feat(1, "a", 0, 10, e), feat(2, "a", 5, 15, e), feat(3, "a", 20, 30, e)]
    groups = partition(link(feats, None, LinkConfig(threshold=0.5)))
    assert not any({1, 2} <= g for g in groups)  # overlap in one camera: two people
    assert len(groups) == 2  # 3 (re-entering, no overlap) joins one of them


def test_far_tracklet_starts_new_identity() -> None:
    rng = np.random.default_rng(1)
    a, b = unit(rng.normal(size=16)), unit(rng.normal(size=16))
    feats = [feat(1, "a", 0, 10, a), feat(2, "b", 20, 30, a), feat(3, "c", 40, 50, b)]
    groups = link(feats, None, LinkConfig(threshold=0.5))
    assert partition(groups) == {frozenset({1, 2}), frozenset({3})}
    assert [len(g) for g in groups] == [2, 1]  # time order of first members


def test_transit_windows() -> None:
    e = unit(np.ones(8))
    near = [feat(1, "a", 0, 10, e), feat(2, "b", 17, 30, e)]  # gap 7 s
    far = [feat(1, "a", 0, 10, e), feat(2, "b", 40, 50, e)]  # gap 30 s
    back = [feat(1, "b", 0, 10, e), feat(2, "a", 17, 30, e)]  # b -> a, gap 7 s
    cfg = LinkConfig(threshold=0.5, transit={"a->b": (5.0, 10.0)})
    assert len(link(near, None, cfg)) == 1
    assert len(link(far, None, cfg)) == 2
    assert len(link(back, None, cfg)) == 1  # the window holds both ways unless given
    one_way = LinkConfig(threshold=0.5, transit={"a->b": (5.0, 10.0), "b->a": (20.0, 40.0)})
    assert len(link(back, None, one_way)) == 2
    assert len(link(far, None, LinkConfig(threshold=0.5))) == 1  # no window: no time limit


def test_transit_checks_consecutive_sightings() -> None:
    """a -> b -> c: the a->c window is about direct walks; a detour through b is allowed."""
    e = unit(np.ones(8))
    feats = [feat(1, "a", 0, 10, e), feat(2, "b", 15, 20, e), feat(3, "c", 25, 30, e)]
    cfg = LinkConfig(threshold=0.5, transit={"a->b": (2, 8), "b->c": (2, 8), "a->c": (2, 8)})
    assert len(link(feats, None, cfg)) == 1


def test_cannot_link_and_must_link() -> None:
    rng = np.random.default_rng(2)
    e, far = unit(np.ones(8)), unit(rng.normal(size=8))
    feats = [feat(1, "a", 0, 10, e), feat(2, "b", 20, 30, e), feat(3, "c", 40, 50, far)]
    cons = LinkConstraints(must_link=[(1, 3)], cannot_link={(1, 2)})
    groups = link(feats, cons, LinkConfig(threshold=0.5))
    assert partition(groups) == {frozenset({1, 3}), frozenset({2})}
    # cannot-link with a member of a cluster keeps the whole cluster apart
    feats.append(feat(4, "d", 60, 70, e))
    cons = LinkConstraints(must_link=[], cannot_link={(2, 4)})
    groups = partition(link(feats, cons, LinkConfig(threshold=0.5)))
    assert not any({2, 4} <= g for g in groups)


def test_two_reviewed_identities_are_not_merged() -> None:
    e = unit(np.ones(8))
    feats = [feat(1, "a", 0, 10, e), feat(2, "b", 20, 30, e), feat(3, "c", 40, 50, e), feat(4, "d", 60, 70, e)]
    cons = LinkConstraints(must_link=[(1, 2), (3, 4)], cannot_link=set())
    assert partition(link(feats, cons, LinkConfig(threshold=0.5))) == {frozenset({1, 2}),
                                                                                  frozenset({3, 4})}


def test_hungarian_resolves_competition() -> None:
    """Greedy nearest-first would join a-b1 and leave a2 and b2 alone; the assignment matches both people.

    Points on a circle (angle = arc): b2 at -0.2, a at 0, b1 at 0.1, a2 at 0.35; a2-b2 is beyond the threshold.
    """
    def at(angle: float) -> np.ndarray:
        return np.array([np.cos(angle), np.sin(angle)], np.float32)

    feats = [feat(1, "a", 0, 10, at(0.0)), feat(2, "a", 0, 10, at(0.35)), feat(3, "b", 20, 30, at(0.1)),
             feat(4, "b", 20, 30, at(-0.2))]
    groups = partition(link(feats, None, LinkConfig(threshold=0.5)))
    assert groups == {frozenset({1, 4}), frozenset({2, 3})}


def test_camera_order_invariance() -> None:
    """Shuffled input and renamed cameras (another sort order) give the same partition and costs."""
    cams = ["a", "b", "c", "d"]
    feats, _ = scenario(10, cams, noise=0.7, spread=0.6, seed=4)
    transit = {"a->b": (0.0, 30.0), "b->c": (0.0, 30.0), "c->d": (0.0, 30.0)}
    cfg = LinkConfig(threshold=0.7, transit=transit)
    ref = link(feats, None, cfg)
    assert 10 <= len(ref) < len(feats)  # non-trivial: some merges, some competition
    rename = {"a": "z", "b": "m", "c": "q", "d": "b"}
    moved = [feat(f.id, rename[f.camera], f.first_time, f.last_time, f.embedding) for f in feats]
    rng = np.random.default_rng(0)
    moved = [moved[i] for i in rng.permutation(len(moved))]
    cfg2 = LinkConfig(threshold=0.7, transit={f"{rename[k[0]]}->{rename[k[-1]]}": w for k, w in transit.items()})
    out = link(moved, None, cfg2)
    assert partition(out) == partition(ref)
    assert {(p.tracklet_id, p.cost) for g in out for p in g} == {(p.tracklet_id, p.cost) for g in ref for p in g}


def test_rerank_option() -> None:
    pytest.importorskip("reid.metrics.rerank", reason="reid.metrics.re_ranking not there yet")
    feats, truth = scenario(4, ["a", "b", "c"], noise=0.25, spread=1.0, seed=5)
    groups = link(feats, None, LinkConfig(threshold=0.6, rerank=True))
    ids = sorted(p.tracklet_id for g in groups for p in g)
    assert ids == sorted(truth)
