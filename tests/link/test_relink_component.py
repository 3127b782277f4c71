"""A reviewer decision relinks its component inside the decision's review edit; one undo reverts both."""

from __future__ import annotations

import pytest
from review_people import THRESHOLD, build_site, link_site
from review_site import dump

from reid.config import LinkConfig
from reid.errors import ReviewError
from reid.link.relink_component import component_of, decide, relink_component
from reid.store import Store

CFG = LinkConfig()


@pytest.fixture
def site(tmp_path):
    """The known-answer site, linked at the threshold: 3-4 wrongly joined, 1 and 5 left apart."""
    with Store(tmp_path / "site.db") as store:
        ids = build_site(store, tmp_path / "gt")
        link_site(store)
        yield store, ids


def identity(store, tid):
    return store.tracklet(tid).identity_id


def test_the_site_is_linked_as_designed(site):
    store, t = site
    assert identity(store, t["cam1", 3]) == identity(store, t["cam2", 4])  # the false link
    assert identity(store, t["cam1", 1]) != identity(store, t["cam2", 1])  # missed links
    assert identity(store, t["cam1", 5]) != identity(store, t["cam2", 5])
    for p in (0, 2, 6):
        assert identity(store, t["cam1", p]) == identity(store, t["cam2", p])


def test_component_is_the_touched_identities_and_their_plausible_neighbours(site):
    store, t = site
    comp = store.read(component_of, [t["cam1", 1]], THRESHOLD)
    assert comp == sorted([t["cam1", 1], t["cam2", 1]])  # 0.6 <= 1.5 x 0.5 and 3 s apart; others 100 s away
    assert store.read(component_of, [t["cam1", 1]], THRESHOLD, 1.1) == [t["cam1", 1]]
    comp = store.read(component_of, [t["cam2", 4]], THRESHOLD)
    assert comp == sorted([t["cam1", 3], t["cam2", 4]])


def test_reject_relinks_and_one_undo_restores_every_table(site):
    store, t = site
    before = dump(store)
    new, change = decide(store, "reject", t["cam2", 4], cfg=CFG)
    after = dump(store)
    assert identity(store, t["cam1", 3]) != identity(store, t["cam2", 4])
    assert change is not None and set(change.component) == {t["cam1", 3], t["cam2", 4]}
    assert [e.action for e in store.review_log() if e.undoable] == ["reject"]  # one edit holds both
    assert store.undo() == "reject"
    assert dump(store) == before
    assert store.redo() == "reject"
    assert dump(store) == after


def test_a_merge_sticks_through_its_relink_and_undoes_exactly(site):
    store, t = site
    a, b = identity(store, t["cam1", 1]), identity(store, t["cam2", 1])
    before = dump(store)
    decide(store, "merge", a, b, (t["cam1", 1], t["cam2", 1]), cfg=CFG)
    # 0.6 apart is past the threshold: without the confirmed pair the relink would part them again
    assert identity(store, t["cam1", 1]) == identity(store, t["cam2", 1]) == a
    store.undo()
    assert dump(store) == before


def test_a_merge_without_a_confirmed_pair_is_held_by_its_relink(site):
    store, t = site
    a, b = identity(store, t["cam1", 5]), identity(store, t["cam2", 5])
    decide(store, "merge", a, b, cfg=CFG)
    assert identity(store, t["cam1", 5]) == identity(
        store, t["cam2", 5]
    )  # 0.6 > 0.5, but only freed ones move


def test_a_split_tracklet_is_free_and_rejoins_where_it_fits(site):
    store, t = site
    _, change = decide(store, "split", t["cam2", 4], cfg=CFG)
    assert set(change.freed) == {t["cam1", 3], t["cam2", 4]}  # both left alone by the split
    assert len(change.moved) == 1
    assert identity(store, t["cam1", 3]) == identity(store, t["cam2", 4])  # no veto: 0.35 < 0.5 joins again
    assert store.tracklet(t["cam2", 4]).cost is not None


def test_relink_after_a_decision_written_alone_extends_that_edit(site):
    store, t = site
    before = dump(store)
    store.reject(t["cam2", 4])  # the review app's edit ...
    change = relink_component(store, [t["cam2", 4], t["cam1", 3]], CFG)  # ... and its relink, in a worker
    assert change.entry == store.review_log()[-1].id
    store.undo()
    assert dump(store) == before


def test_relink_needs_an_edit_and_a_stored_threshold(site):
    store, t = site
    with pytest.raises(ReviewError, match="no review edit"):
        relink_component(store, [t["cam1", 1]], CFG)
    store.set_meta("link_threshold", "")
    with pytest.raises(ReviewError, match="no link threshold"):
        decide(store, "confirm", t["cam2", 0], cfg=CFG)
