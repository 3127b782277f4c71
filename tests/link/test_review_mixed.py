""" "This identity looks mixed" items of the review queue: found, answered Y (split the group off, kept apart)
and N (confirmed as one person, not asked again)."""

from __future__ import annotations

import math

import pytest
from review_site import at_distance, build, link

from reid.config import LinkConfig
from reid.link.relink_component import decide, link_at
from reid.link.review_mixed import mixed_splits
from reid.link.review_oracle import answer
from reid.link.review_queue import QueueConfig, rank_items, review_items
from reid.link.review_sim import decision_for, identity_members
from reid.store import LinkConstraints, Store
from reid.store.queries import memberships

THR = 0.5


@pytest.fixture
def site(tmp_path):
    """Person A: a (cam1, 0 s), c (cam2, 4 s), 0.04 apart; person B: b (cam1, 20 s), d (cam2, 24 s), 0.04
    apart, about 0.45 from A (every cross-camera pair within the threshold: the linker joins all four);
    person E: e (cam1, 200 s), f (cam2, 204 s), 0.2 apart. Identities {a, c, b, d} (two people) and {e, f}."""
    with Store(tmp_path / "m.db") as store:
        near, apart = at_distance(0.04), at_distance(0.45)
        ids = build(
            store,
            {
                "cam1": [(0.0, 0.0), (20.0, apart), (200.0, 3.0)],
                "cam2": [(4.0, near), (24.0, apart + near), (204.0, 3.0 + at_distance(0.2))],
            },
        )
        t = dict(a=ids["cam1", 0], b=ids["cam1", 1], e=ids["cam1", 2], c=ids["cam2", 0], d=ids["cam2", 1])
        t["f"] = ids["cam2", 2]
        link(
            store,
            [
                [(t["a"], None), (t["c"], 0.04), (t["b"], 0.41), (t["d"], 0.45)],
                [(t["e"], None), (t["f"], 0.2)],
            ],
            THR,
        )
        yield store, t


def identity(store, tid):
    return next(m.identity_id for m in store.read(memberships) if m.tracklet_id == tid)


def mixed(store):
    return [i for i in review_items(store) if i.kind == "mixed"]


def test_a_two_person_identity_is_one_mixed_item_whose_group_is_one_person(site):
    store, t = site
    items = review_items(store)
    (item,) = [i for i in items if i.kind == "mixed"]  # {e, f} (0.2 apart) is not mixed
    assert item.identity == identity(store, t["a"])
    assert set(item.group) == {t["b"], t["d"]}  # person B, exactly
    assert item.tracklet in item.group and item.partner in (t["a"], t["c"])
    assert item.cost == pytest.approx(0.45, abs=0.01) and item.moves == 2
    assert items[0] == item  # p ~0.67 and two tracklets moved: the most valuable question
    persons = {t["a"]: 1, t["c"]: 1, t["b"]: 2, t["d"]: 2}
    assert answer(item, identity_members(store), persons) is True
    assert answer(item, identity_members(store), {k: 1 for k in persons}) is False  # all one person: N
    assert answer(item, identity_members(store), {**persons, t["d"]: 1}) is None  # wrong cut: pass


def test_no_mixed_item_when_off_or_nothing_the_linker_proposed_is_left(site):
    store, t = site
    feats, members = store.tracklet_features(), store.read(memberships)
    assert not [
        i for i in rank_items(feats, members, set(), THR, QueueConfig(mixed=math.inf)) if i.kind == "mixed"
    ]
    assert len(mixed_splits(feats, members, THR, 0.8)) == 1
    assert mixed_splits(feats, members, THR, 1.0) == []  # 0.45 apart: not past the threshold itself
    formed_by_hand = [m._replace(cost=None) for m in members]
    assert mixed_splits(feats, formed_by_hand, THR, 0.8) == []


def test_yes_splits_the_group_off_with_vetoes_and_the_relink_keeps_them_apart(site):
    store, t = site
    (item,) = mixed(store)
    action, args = decision_for(item, True)
    assert action == "split_group"
    decide(store, action, *args, cfg=LinkConfig())
    assert (
        identity(store, t["b"])
        == identity(store, t["d"])
        != identity(store, t["a"])
        == identity(store, t["c"])
    )
    cannot = store.link_constraints().cannot_link
    assert {(min(x, y), max(x, y)) for x in (t["a"], t["c"]) for y in (t["b"], t["d"])} <= cannot
    assert (min(t["b"], t["d"]), max(t["b"], t["d"])) not in cannot  # none inside a group
    feats = store.tracklet_features()
    together = {
        frozenset(p.tracklet_id for p in g) for g in link_at(feats, LinkConstraints(), LinkConfig(), THR)
    }
    assert frozenset((t["a"], t["b"], t["c"], t["d"])) in together  # unvetoed, a whole link joins them again
    kept = link_at(feats, store.link_constraints(), LinkConfig(), THR)
    assert not any({t["a"], t["b"]} <= {p.tracklet_id for p in g} for g in kept)
    assert mixed(store) == []


def test_no_confirms_every_member_and_the_item_does_not_come_back(site):
    store, t = site
    (item,) = mixed(store)
    action, args = decision_for(item, False, identity_members(store))
    assert (action, set(args[0])) == ("confirm_group", {t["a"], t["b"], t["c"], t["d"]})
    decide(store, action, *args, cfg=LinkConfig())
    assert identity(store, t["b"]) == identity(store, t["a"])
    left = review_items(store)
    assert [(i.kind, i.tracklet) for i in left] == [
        ("link", t["f"])
    ]  # no mixed item, no link of {a, b, c, d}
