"""Topology learning on a generated scene with known zones and transit times, and its use by the linker."""

from __future__ import annotations

import numpy as np
from link_features import feature, link

from reid.config import LinkConfig
from reid.link.topology import TopologyConfig, confident_links, learn_topology, zone, zone_name, zones_near
from reid.store.rows import TrackletFeature


def scene(seed: int = 0, people: int = 12) -> tuple[list[TrackletFeature], dict[int, int]]:
    """Every person walks through camera a, leaves it at its right edge (middle row), and enters camera b at
    its left edge 3 +- 0.5 s later. Returns tracklets and tracklet id -> person."""
    rng = np.random.default_rng(seed)
    looks = rng.normal(size=(people, 32))
    feats, person = [], {}
    for k in range(people):
        t = 8.0 * k
        for cam, (t0, t1), entry, exit_ in (("a", (t, t + 5), (0.5, 0.9), (0.95, 0.5)),
                                           ("b", (t + 5 + rng.uniform(2.5, 3.5), t + 12), (0.05, 0.5), (0.5, 0.1))):
            e = looks[k] + 0.3 * rng.normal(size=32)
            fid = len(feats)
            feats.append(feature(fid, cam, t0, t1, (e / np.linalg.norm(e)).astype(np.float32), entry, exit_))
            person[fid] = k
    return feats, person


def test_zones() -> None:
    assert zone((0.95, 0.5)) == 5 and zone_name(5) == "middle-right"
    assert zone((0.0, 0.0)) == 0 and zone((1.0, 1.0)) == 8 and zone(None) == -1


def test_learns_the_exit_zone_entry_zone_and_transit_time() -> None:
    feats, person = scene()
    links = confident_links(feats, threshold=1.0, cfg=TopologyConfig())
    assert links and all(person[a] == person[b] for a, b in links)  # mutual nearest neighbours are right here
    topo = learn_topology(feats, links)
    assert len(topo) == 1
    t = topo.transitions[0]
    assert (t.src, t.dst, t.exit_zone, t.entry_zone) == ("a", "b", zone((0.95, 0.5)), zone((0.05, 0.5)))
    assert 1.5 <= t.lo <= 2.5 and 3.5 <= t.hi <= 4.5  # 2.5..3.5 s plus the slack
    assert t.support == len(links)


def test_gate_keeps_a_look_alike_at_the_wrong_door_apart() -> None:
    feats, person = scene()
    # a look-alike of person 3, even closer to their camera-a tracklet than they are themselves, enters camera b
    # at the top-left corner on time
    twin = feats[7]
    feats.append(feature(100, "b", twin.first_time - 0.2, twin.last_time, feats[6].embedding.copy(), (0.05, 0.05),
                      (0.5, 0.1)))
    with_topology = link(feats, None, LinkConfig(threshold=1.0))
    without = link(feats, None, LinkConfig(threshold=1.0, topology=False))
    group_of = lambda groups: {m.tracklet_id: k for k, g in enumerate(groups) for m in g}  # noqa: E731
    g = group_of(with_topology)
    assert g[100] != g[6] and g[6] == g[7]  # person 3's own b tracklet is linked, the twin is not
    reasons = [m.reason for grp in with_topology for m in grp if m.reason]
    assert reasons and all("via a middle-right -> b middle-left" in r for r in reasons)
    g2 = group_of(without)
    assert g2[100] == g2[6] and g2[7] != g2[6]  # without the gate the twin takes person 3's link


def test_a_lost_track_is_picked_up_where_it_was_lost_not_across_the_view() -> None:
    feats, person = scene()
    # person 5 is lost in camera b and picked up 2 s later where it was lost; a look-alike appears across the view
    lost = feats[11]
    near = lost.embedding.copy()
    feats.append(feature(200, "b", lost.last_time + 2.0, lost.last_time + 6.0, near, lost.exit, (0.9, 0.1)))
    feats.append(feature(201, "b", lost.last_time + 2.0, lost.last_time + 6.0, near.copy(), (0.9, 0.9), (0.9, 0.1)))
    groups = link(feats, None, LinkConfig(threshold=1.0, max_reentry_s=10.0))
    g = {m.tracklet_id: k for k, grp in enumerate(groups) for m in grp}
    assert g[200] == g[11] and g[201] != g[11]


def test_the_gate_judges_the_whole_merge_and_a_border_foot_point_is_in_both_rows() -> None:
    from reid.link.linker import Linker as _Linker

    feats, person = scene()
    topo = learn_topology(feats, confident_links(feats, threshold=1.0, cfg=TopologyConfig()))
    a, b = feats[0], feats[1]  # person 0 in camera a, then in camera b through the learned transition
    later = feature(100, "b", b.last_time + 1.0, b.last_time + 4.0, b.embedding.copy(), b.exit, (0.9, 0.1))
    linker = _Linker([*feats, later], None, LinkConfig(linkage="complete"), topo, threshold=0.5)
    linker.route.cross_bonus = 0.5  # the threshold through a learned transition: 0.5 + 0.5
    ia, ib, il = linker.index[a.id], linker.index[b.id], linker.index[100]
    d = linker.distances(np.array([ia, ia]), np.array([ib, il]))
    # alone, a -> later is no learned transition (12 s after a left, from b's middle): no bonus
    assert np.allclose(linker.pair_costs(np.array([ia]), np.array([il])), d[1])
    # merged with b, the step a -> b goes through the transition, and every cross pair of the merge is loosened
    cost = linker.cluster_costs(np.array([ia]), np.array([1]), np.array([ib, il]), np.array([2]))
    assert np.isclose(cost[0], d.max() * 0.5 / 1.0)

    assert zone_name(zone((0.95, 0.33))) == "top-right"
    assert {zone_name(z) for z in zones_near((0.95, 0.33), 0.03)} == {"top-right", "middle-right"}
    assert zones_near((0.5, 0.5), 0.03) == [zone((0.5, 0.5))] and zones_near(None, 0.03) == [-1]
    # person 3 leaves a at y = 0.33, a hair into the top row, where everybody else left from the middle row
    moved = feats[6]
    feats[6] = feature(moved.id, "a", moved.first_time, moved.last_time, moved.embedding, moved.entry, (0.95, 0.33))
    for margin, together in ((0.03, True), (0.0, False)):
        groups = link(feats, None, LinkConfig(threshold=1.0, zone_margin=margin))
        g = {m.tracklet_id: k for k, grp in enumerate(groups) for m in grp}
        assert (g[6] == g[7]) is together
