"""The review queue: proposed links and suggested merges, ordered by what a decision is worth."""

from __future__ import annotations

import pytest
from review_site import at_distance, build, link

from reid.errors import ReviewError
from reid.link.probability import link_probability
from reid.link.review_queue import QueueConfig, rank_items, review_items
from reid.store import Store
from reid.store.queries import memberships

THR = 0.5


@pytest.fixture
def site(tmp_path):
    """cam1: a (0 s), b (20 s), e (200 s); cam2: c (4 s), d (24 s), f (300 s), g (26 s).
    Identity {a, c} (c proposed at 0.3); b, d, e, f, g alone. b-d 0.55 apart (just past the threshold, 2 s
    apart): a suggested merge; b-g 0.6 apart but vetoed; e-f 0.55 apart but 100 s apart; d-f far in time too."""
    with Store(tmp_path / "q.db") as store:
        ids = build(
            store,
            {
                "cam1": [(0.0, 0.0), (20.0, 1.5), (200.0, 3.0)],
                "cam2": [
                    (4.0, at_distance(0.3)),
                    (24.0, 1.5 + at_distance(0.55)),
                    (300.0, 3.0 + at_distance(0.55)),
                    (26.0, 1.5 - at_distance(0.6)),
                ],
            },
        )
        a, b, e = ids["cam1", 0], ids["cam1", 1], ids["cam1", 2]
        c, d, f, g = ids["cam2", 0], ids["cam2", 1], ids["cam2", 2], ids["cam2", 3]
        link(
            store,
            [[(a, None), (c, 0.3)], [(b, None)], [(d, None)], [(e, None)], [(f, None)], [(g, None)]],
            THR,
        )
        store.conn.execute("INSERT INTO cannot_link VALUES (?, ?)", (min(b, g), max(b, g)))
        yield store, dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g)


def test_queue_holds_the_link_and_the_one_plausible_merge(site):
    store, t = site
    items = review_items(store)
    assert [(i.kind, i.tracklet) for i in items if i.kind == "link"] == [("link", t["c"])]
    merges = [i for i in items if i.kind == "merge"]
    assert len(merges) == 1  # b-g vetoed, e-f and d-f too far apart in time, a-d / c-b beyond the reach
    m = merges[0]
    iid = {r.tracklet_id: r.identity_id for r in store.read(memberships)}
    assert {m.identity, m.other} == {iid[t["b"]], iid[t["d"]]}
    assert {m.tracklet, m.partner} == {t["b"], t["d"]}
    assert m.cost == pytest.approx(0.55, abs=1e-5)
    assert m.p == pytest.approx(link_probability(0.55, THR), abs=1e-5) and m.moves == 1  # the fitted p


def test_queue_orders_by_value_nearest_one_half_first(site):
    store, _ = site
    items = review_items(store)
    # the merge at 1.1 x threshold (p ~0.52) is worth more than the link at 0.6 x threshold (p ~0.84)
    assert [i.kind for i in items] == ["merge", "link"]
    assert items[0].value > items[1].value
    assert all(i.value == pytest.approx((1 - abs(2 * i.p - 1)) * i.moves) for i in items)


def test_a_veto_or_a_shorter_reach_drops_a_suggestion(site):
    store, t = site
    feats = store.tracklet_features()
    members = [m if m.tracklet_id != t["g"] else m._replace(identity_id=-1) for m in store.read(memberships)]
    items = rank_items(feats, members, set(), THR)
    # without the veto b-g is suggested too
    pairs = {(i.identity, i.other) for i in items if i.kind == "merge"}
    assert len(pairs) == 2
    reach_items = rank_items(feats, members, set(), THR, QueueConfig(reach=1.15))
    assert len([i for i in reach_items if i.kind == "merge"]) == 1  # 0.6 > 1.15 x 0.5


def test_confirmed_links_leave_the_queue_and_a_missing_threshold_is_an_error(site, tmp_path):
    store, t = site
    store.confirm(t["c"])
    assert [i.kind for i in review_items(store)] == ["merge"]
    store.set_meta("link_threshold", "")
    with pytest.raises(ReviewError, match="no link threshold"):
        review_items(store)
