"""The relink after a group split keeps both groups as the reviewer said; a relinked decision reverts whole."""

from __future__ import annotations

import sqlite3

import pytest
from review_people import build_site, link_site
from review_site import build, dump, link

from reid.config import LinkConfig
from reid.link.relink_component import decide
from reid.store import Store

CFG = LinkConfig()


@pytest.fixture
def mixed(tmp_path):
    """Two people seen by both cameras, wrongly linked as one identity: a (angles 0, 0.05) and b (0.25, 0.3),
    all within the 0.5 threshold of each other."""
    with Store(tmp_path / "mixed.db") as store:
        t = build(store, {"cam1": [(0.0, 0.0), (10.0, 0.25)], "cam2": [(3.0, 0.05), (13.0, 0.3)]})
        a, b = [t["cam1", 0], t["cam2", 0]], [t["cam1", 1], t["cam2", 1]]
        link(store, [[(a[0], None), (a[1], 0.05), (b[0], 0.25), (b[1], 0.3)]], threshold=0.5)
        yield store, a, b


def identity(store, tid):
    return store.tracklet(tid).identity_id


def test_split_group_relinks_and_both_groups_stay_as_the_reviewer_said(mixed):
    store, a, b = mixed
    before = dump(store)
    new, change = decide(store, "split_group", b, cfg=CFG)
    assert change is not None and set(change.component) == {*a, *b}
    assert identity(store, b[0]) == identity(store, b[1]) == new
    assert identity(store, a[0]) == identity(store, a[1]) != new
    assert {store.tracklet(t).state for t in b} == {"confirmed"}
    assert store.link_constraints().cannot_link == {(min(x, y), max(x, y)) for x in a for y in b}
    assert [e.action for e in store.review_log()] == ["split_group"]
    store.undo()
    assert dump(store) == before


def test_a_lone_tracklet_split_off_is_not_joined_back_across_its_vetoes(mixed):
    store, a, b = mixed
    new, _ = decide(store, "split_group", [b[1]], cfg=CFG)  # 0.05 from b[0]: a plain split would rejoin it
    assert identity(store, b[1]) == new
    assert identity(store, a[0]) == identity(store, a[1]) == identity(store, b[0]) != new


def test_reverting_a_relinked_decision_restores_the_state_before_it(tmp_path):
    with Store(tmp_path / "site.db") as store, Store(tmp_path / "twin.db") as twin:
        t = build_site(store, tmp_path / "gt")
        link_site(store)
        target = sqlite3.connect(tmp_path / "twin.db")
        store.conn.backup(target)
        target.close()
        decide(store, "reject", t["cam2", 4], cfg=CFG)  # the false link, with its relink in the same entry
        rejected = store.review_log()[-1].id
        for s in (store, twin):  # a later decision elsewhere on the site (persons 1, 100 s away)
            pair = (t["cam1", 1], t["cam2", 1])
            decide(s, "merge", identity(s, pair[0]), identity(s, pair[1]), pair, cfg=CFG)
        decide(store, "revert", rejected, cfg=None)
        assert dump(store) == dump(twin)  # the reject and its relink gone, the merge kept
        store.undo()
        decide(store, "revert", rejected, cfg=CFG)  # with its own relink: the reviewer's state holds
        assert identity(store, t["cam1", 3]) == identity(store, t["cam2", 4])
        assert [e.action for e in store.review_log()] == ["reject", "merge", "revert"]
