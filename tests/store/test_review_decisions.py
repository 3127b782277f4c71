"""Decisions that say what the reviewer means: a group split off, a reject against its partner, a veto removed,
several memberships confirmed at once, one earlier decision reverted alone. Each is one review-log entry whose
undo restores every table exactly; a refused one writes nothing (full table dumps, review log included)."""

from __future__ import annotations

import sqlite3

import pytest
from store_helpers import dump, make_tracklet, video
from store_helpers import edit_undo_redo as undo_redo

from reid.errors import ReviewError
from reid.store import LinkProposal, Store, review_revert

# the ``linked`` fixture (conftest): identity 1 = {1, 3, 5} (1 its anchor), identity 2 = {2, 4}, identity 3 = {6}


def members(store, identity_id: int) -> list[int]:
    return sorted(t.id for t in store.identity_tracklets(identity_id))


def identity_of(store, tracklet_id: int) -> int | None:
    return store.tracklet(tracklet_id).identity_id


def vetoes(store) -> set[tuple[int, int]]:
    return store.link_constraints().cannot_link


def refused(store, edit, match: str) -> None:
    """``edit`` raises a one-line ReviewError matching ``match`` and writes nothing, not even to the log."""
    before = dump(store, skip=())
    with pytest.raises(ReviewError, match=match) as caught:
        edit()
    assert "\n" not in str(caught.value)
    assert dump(store, skip=()) == before


# --------------------------------------------------------------------------------------------- split_group
def test_split_group_moves_the_selection_together_confirmed_and_vetoed_against_the_rest(linked):
    linked.apply_links(
        [
            [
                LinkProposal(1),
                LinkProposal(3, 0.1, 0.8),
                LinkProposal(5, 0.3, 0.4),
                LinkProposal(2, 0.2, 0.6),
            ],
            [LinkProposal(4)],
        ]
    )  # a mixed identity of four
    iid = identity_of(linked, 1)
    staying = {t: linked.tracklet(t) for t in (1, 3)}
    new = undo_redo(linked, lambda: linked.split_group([5, 2]))
    assert members(linked, new) == [2, 5] and members(linked, iid) == [1, 3]
    for t in (2, 5):
        row = linked.tracklet(t)
        assert (row.state, row.cost, row.confidence, row.reason) == ("confirmed", None, None, None)
    assert {t: linked.tracklet(t) for t in (1, 3)} == staying  # the staying members keep their rows
    assert vetoes(linked) == {(1, 2), (1, 5), (2, 3), (3, 5)}  # every moved x every staying, none inside
    entry = linked.review_log()[-1]
    assert entry.action == "split_group"
    assert entry.description == f"split tracklets 2, 5 off identity {iid} into new identity {new}"


def test_split_group_of_one_tracklet(linked):
    new = undo_redo(linked, lambda: linked.split_group([3]))
    assert members(linked, new) == [3] and linked.tracklet(3).state == "confirmed"
    assert vetoes(linked) == {(1, 3), (3, 5)}


def test_split_group_refusals(linked):
    refused(linked, lambda: linked.split_group([]), "at least one")
    refused(
        linked,
        lambda: linked.split_group([3, 4]),
        r"tracklets 3 and 4 are in different identities \(1 and 2\)",
    )
    refused(linked, lambda: linked.split_group([1, 3, 5]), "cannot split all 3 tracklets off identity 1")
    refused(linked, lambda: linked.split_group([3, 99]), "no tracklet 99")
    linked.conn.execute("INSERT INTO cannot_link VALUES (3, 5)")  # a veto inside the selection
    refused(linked, lambda: linked.split_group([3, 5]), "tracklets 3 and 5 off together: they were rejected")


def test_split_group_of_an_unlinked_tracklet(store):
    store.commit_video(video(), [make_tracklet(1)])
    refused(store, lambda: store.split_group([1]), "not linked")


# ---------------------------------------------------------------------------------------- reject against
def test_reject_against_its_partner_vetoes_that_pair_only(linked):
    new = undo_redo(linked, lambda: linked.reject(3, against=[5]))
    assert identity_of(linked, 3) == new and members(linked, 1) == [1, 5]
    assert linked.tracklet(3).state == "proposed" and linked.tracklet(3).cost is None
    assert vetoes(linked) == {(3, 5)}
    entry = linked.review_log()[-1]
    assert (entry.action, entry.description) == (
        "reject",
        f"reject tracklet 3 from identity 1 against 5 into new identity {new}",
    )


def test_reject_without_against_vetoes_every_other_member(linked):
    undo_redo(linked, lambda: linked.reject(3, against=None))
    assert vetoes(linked) == {(1, 3), (3, 5)}
    assert linked.review_log()[-1].description.startswith(
        "reject tracklet 3 from identity 1 into new identity"
    )


def test_reject_against_refusals(linked):
    refused(linked, lambda: linked.reject(3, against=[4]), "against tracklet 4: it is not in identity 1")
    refused(linked, lambda: linked.reject(3, against=[5, 99]), "against tracklet 99: it is not in identity 1")
    refused(linked, lambda: linked.reject(3, against=[3]), "against itself")
    refused(linked, lambda: linked.reject(3, against=[]), "at least one tracklet")
    refused(linked, lambda: linked.reject(6, against=[1]), "alone in identity 3")


# ------------------------------------------------------------------------------------------- remove_veto
def test_remove_veto_in_either_order(linked):
    linked.reject(3)
    undo_redo(linked, lambda: linked.remove_veto(5, 3))
    assert vetoes(linked) == {(1, 3)}
    entry = linked.review_log()[-1]
    assert (entry.action, entry.description) == ("remove_veto", "remove the veto between tracklets 3 and 5")
    refused(linked, lambda: linked.remove_veto(5, 3), "tracklets 5 and 3 have no veto between them")
    refused(linked, lambda: linked.remove_veto(1, 5), "tracklets 1 and 5 have no veto between them")


def test_cannot_links_of_some_tracklets(linked):
    linked.reject(3)  # (1, 3), (3, 5)
    linked.reject(4)  # (2, 4)
    assert linked.cannot_links([5]) == [(3, 5)]
    assert linked.cannot_links([3, 2]) == [(1, 3), (2, 4), (3, 5)]
    assert linked.cannot_links([6, 99]) == [] and linked.cannot_links([]) == []
    assert linked.cannot_links(range(1, 1200)) == [(1, 3), (2, 4), (3, 5)]  # chunked IN lists


# ----------------------------------------------------------------------------------------- confirm_group
def test_confirm_group(linked):
    linked.confirm(3)
    assert undo_redo(linked, lambda: linked.confirm_group([5, 3, 4])) == 2
    assert [linked.tracklet(t).state for t in (3, 4, 5, 1)] == ["confirmed"] * 3 + ["proposed"]
    entry = linked.review_log()[-1]
    assert (entry.action, entry.description) == ("confirm_group", "confirm tracklets 4, 5 in identities 1, 2")
    refused(linked, lambda: linked.confirm_group([3, 4]), "tracklets 3, 4 already confirmed")
    refused(linked, lambda: linked.confirm_group([1, 99]), "no tracklet 99")
    refused(linked, lambda: linked.confirm_group([]), "at least one")


def test_confirm_group_of_an_unlinked_tracklet(store):
    store.commit_video(video(), [make_tracklet(1)])
    refused(store, lambda: store.confirm_group([1]), "tracklet 1 is not linked")


# ------------------------------------------------------------------------------------------------ revert
def copy_of(store, path) -> Store:
    """A second store holding the same rows now (SQLite's backup)."""
    target = sqlite3.connect(path)
    store.conn.backup(target)
    target.close()
    return Store(path)


def entry_id(store, index: int = -1) -> int:
    return store.review_log()[index].id


def test_revert_one_decision_keeps_the_later_ones(linked, tmp_path):
    with copy_of(linked, tmp_path / "twin.db") as twin:
        linked.reject(3)  # decision 1: identity 1 and tracklets 1, 3, 5
        first = entry_id(linked)
        for store in (linked, twin):  # decisions 2 and 3 touch other rows
            store.confirm_group([2, 4])
            store.annotate(2, "bob")
        undone = undo_redo(linked, lambda: linked.revert(first))
        assert dump(linked) == dump(twin)  # as if decision 1 had never been made
    assert [e.action for e in linked.review_log()] == ["reject", "confirm_group", "annotate", "revert"]
    assert linked.review_log()[-1].description == f"revert '{linked.review_log()[0].description}'"
    assert undone is None and members(linked, 1) == [1, 3, 5] and linked.tracklet(3).cost == 0.1


def test_revert_refused_while_a_later_decision_changed_the_same_rows(linked):
    new = linked.reject(3)
    first = entry_id(linked)
    linked.assign(3, 2)  # moves tracklet 3 again (and deletes its emptied identity)
    assigned = entry_id(linked)
    refused(
        linked,
        lambda: linked.revert(first),
        f"cannot revert 'reject tracklet 3 from identity 1 into new "
        f"identity {new}': 'assign tracklet 3 to identity 2' changed the "
        "same rows since; revert that first",
    )
    linked.revert(assigned)  # reverted first, the earlier one reverts too
    assert identity_of(linked, 3) == new
    linked.revert(first)
    assert members(linked, 1) == [1, 3, 5] and vetoes(linked) == set()


def test_revert_ignores_rows_the_decision_logged_but_did_not_change(linked):
    """A reject logs the identity it leaves, and its relink every member of the component it saw: later
    edits of those rows do not block reverting it."""
    from reid.store import review_extend

    linked.reject(3)
    first = entry_id(linked)
    linked.write(review_extend.extend_entry, first, [5], [], lambda: None)  # a relink that left 5 as it was
    linked.annotate(1, "bob")  # identity 1's row: logged by the reject, not changed by it
    linked.confirm(5)  # tracklet 5's row: logged by the "relink", not changed by it
    linked.revert(first)
    assert members(linked, 1) == [1, 3, 5] and vetoes(linked) == set()
    assert linked.tracklet(5).state == "confirmed" and linked.identity_summaries()[0].name == "bob"


def test_revert_refused_when_a_later_member_joined_an_identity_it_created(linked):
    linked.split(3)
    first = entry_id(linked)
    new = identity_of(linked, 3)
    linked.assign(5, new)  # tracklet 5 joins the identity the split created: reverting would delete it
    refused(
        linked, lambda: linked.revert(first), f"'assign tracklet 5 to identity {new}' changed the same rows"
    )


def test_revert_refused_when_it_would_join_vetoed_tracklets(linked):
    linked.reject(3)
    linked.remove_veto(3, 5)
    removed = entry_id(linked)
    new = identity_of(linked, 3)
    linked.assign(5, new)  # allowed now that the veto is gone
    refused(
        linked,
        lambda: linked.revert(removed),
        f"tracklets 3 and 5 would share identity {new} with a veto "
        f"between them; 'assign tracklet 5 to identity {new}' changed",
    )
    # found after writing the "before" image: rolled back even on a connection outside a transaction
    refused(linked, lambda: linked.read(review_revert.revert, removed), "with a veto between them")


def test_revert_refusals(linked):
    refused(linked, lambda: linked.revert(42), "no review log entry 42")
    linked.confirm(3)
    linked.undo()
    refused(
        linked,
        lambda: linked.revert(entry_id(linked)),
        "cannot revert 'confirm tracklet 3 in identity 1': it is undone already",
    )
    linked.confirm(5)
    linked.apply_links(
        [
            [LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(5, 0.3, 0.4)],
            [LinkProposal(2), LinkProposal(4, 0.2, 0.6)],
        ]
    )  # a new undo history
    refused(linked, lambda: linked.revert(entry_id(linked)), "new undo history")


def test_revert_of_a_revert_and_of_a_merge(linked):
    linked.merge(1, 2)
    merged = entry_id(linked)
    linked.confirm(6)
    before = dump(linked)
    undo_redo(linked, lambda: linked.revert(merged))
    assert members(linked, 1) == [1, 3, 5] and members(linked, 2) == [2, 4]
    undo_redo(linked, lambda: linked.revert(entry_id(linked)))  # the revert reverted: merged again
    after = dump(linked)
    assert after == before


def test_decisions_made_counts_applied_decisions_of_the_current_history(linked):
    assert linked.decisions_made() == 0
    linked.confirm(3)
    linked.annotate(1, "bob")  # a name is not a decision
    linked.reject(5)
    assert linked.decisions_made() == 2
    linked.undo()
    linked.undo()
    assert linked.decisions_made() == 1
