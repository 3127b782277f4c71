"""A decision's relink written into the decision's own review-log entry: one undo reverts both, exactly."""

from __future__ import annotations

import pytest
from store_helpers import dump

from reid.errors import ReviewError, StoreError
from reid.store import LinkProposal, review, review_extend
from reid.store.component import apply_component, identity_closure


def _identity(store, tid):
    return store.tracklet(tid).identity_id


def _decide_and_relink(store, decision, groups):
    """``decision(conn)`` then ``apply_component`` of the groups' tracklets (closed over identities), as one
    transaction and one log entry."""

    def run(conn):
        result = decision(conn)
        entry = review_extend.newest_entry(conn)
        comp = identity_closure(conn, sorted({p.tracklet_id for g in groups for p in g}))
        idents = {
            store.read(
                lambda c, t=t: c.execute(
                    "SELECT identity_id FROM identity_members WHERE tracklet_id = ?", (t,)
                ).fetchone()[0]
            )
            for t in comp
        }
        write = review_extend.extend_entry(
            conn, entry, comp, idents, lambda: apply_component(conn, comp, groups)
        )
        return result, write

    return store.write(run)


def test_one_undo_reverts_the_decision_and_its_relink_exactly(linked):
    store = linked
    before = dump(store)
    # reject 5 from {1, 3, 5}; the relink then puts 5 with the singleton 6 (into its identity) and leaves 1, 3
    groups = [
        [LinkProposal(1), LinkProposal(3, 0.1, 0.8)],
        [LinkProposal(6), LinkProposal(5, 0.2, 0.5, "why")],
    ]
    _, write = _decide_and_relink(store, lambda c: review.reject(c, 5), groups)
    after = dump(store)
    assert _identity(store, 5) == _identity(store, 6) != _identity(store, 1) == _identity(store, 3)
    assert store.tracklet(5).cost == pytest.approx(0.2) and store.tracklet(5).reason == "why"  # it moved
    assert set(write.moved) & {5, 6} and write.deleted  # one of the two singletons' identities emptied
    assert len(store.review_log()) == 1 and store.review_log()[0].action == "reject"
    assert store.undo() == "reject"
    assert dump(store) == before
    assert store.redo() == "reject"
    assert dump(store) == after


def test_keep_apart_vetoes_every_pair_and_undoes(linked):
    store = linked
    a, b = _identity(store, 1), _identity(store, 2)
    before = dump(store)
    assert store.write(review.keep_apart, a, b) == 6  # {1, 3, 5} x {2, 4}
    assert store.link_constraints().cannot_link >= {(1, 2), (1, 4), (2, 3), (3, 4), (2, 5), (4, 5)}
    with pytest.raises(ReviewError, match="already kept apart"):
        store.write(review.keep_apart, a, b)
    with pytest.raises(ReviewError, match="itself"):
        store.write(review.keep_apart, a, a)
    assert store.undo() == "keep_apart"
    assert dump(store) == before


def test_only_the_newest_edit_can_be_extended(linked):
    store = linked
    store.confirm(3)
    store.confirm(4)
    first = store.review_log()[0].id
    with pytest.raises(ReviewError, match="not the newest"):
        store.write(lambda c: review_extend.extend_entry(c, first, [1], [], lambda: None))


def test_a_component_must_hold_whole_identities_and_known_tracklets(linked):
    store = linked
    with pytest.raises(StoreError, match="misses tracklets"):
        store.write(apply_component, [1, 3], [[LinkProposal(1), LinkProposal(3, 0.1)]])
    with pytest.raises(StoreError, match="not in it"):
        store.write(apply_component, [6], [[LinkProposal(6), LinkProposal(2, 0.1)]])


def test_confirmed_members_stay_and_unchanged_rows_are_not_written(linked):
    store = linked
    store.confirm(3)
    comp = store.read(identity_closure, [1])
    assert comp == [1, 3, 5]
    # the linker's groups: 3 alone (confirmed, stays), 1 and 5 together
    write = store.write(
        apply_component, comp, [[LinkProposal(3)], [LinkProposal(1), LinkProposal(5, 0.3, 0.4)]]
    )
    assert _identity(store, 3) != _identity(store, 1) == _identity(store, 5)
    assert write.moved == (1, 5) and write.created
    again = store.write(
        apply_component, comp, [[LinkProposal(3)], [LinkProposal(1), LinkProposal(5, 0.3, 0.4)]]
    )
    assert again.moved == () and again.created == () and again.deleted == ()
