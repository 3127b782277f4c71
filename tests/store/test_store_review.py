"""Review edits: the state after each, and exact undo/redo (full table dumps)."""

from __future__ import annotations

import pytest
from store_helpers import dump, edit_undo_redo, make_tracklet, video

from reid.errors import ReviewError, StoreError
from reid.store import LinkProposal


def ident_of(store, tracklet_id: int) -> int | None:
    return store.tracklet(tracklet_id).identity_id


def state_of(store, tracklet_id: int) -> str | None:
    return store.tracklet(tracklet_id).state


def cannot_link(store) -> set[tuple[int, int]]:
    return store.link_constraints().cannot_link


def test_confirm(linked):
    edit_undo_redo(linked, lambda: linked.confirm(3))
    assert state_of(linked, 3) == "confirmed" and state_of(linked, 5) == "proposed"
    with pytest.raises(ReviewError, match="already confirmed"):
        linked.confirm(3)
    with pytest.raises(ReviewError, match="no tracklet 99"):
        linked.confirm(99)


def test_confirm_unlinked_tracklet(store):
    store.commit_video(video(), [make_tracklet(1)])
    with pytest.raises(ReviewError, match="not linked"):
        store.confirm(1)


def test_reject(linked):
    old = ident_of(linked, 3)
    new = edit_undo_redo(linked, lambda: linked.reject(3))
    assert new not in (old, None) and ident_of(linked, 3) == new
    assert state_of(linked, 3) == "proposed" and linked.tracklet(3).cost is None
    assert [t.id for t in linked.identity_tracklets(old)] == [1, 5]
    assert cannot_link(linked) == {(1, 3), (3, 5)}
    assert linked.review_log()[-1].action == "reject"


def test_reject_or_split_of_a_lone_tracklet(linked):
    before = dump(linked)
    for edit in (linked.reject, linked.split):
        with pytest.raises(ReviewError, match="alone"):
            edit(6)
    assert dump(linked) == before and linked.review_log() == []


def test_split(linked):
    old = ident_of(linked, 5)
    new = edit_undo_redo(linked, lambda: linked.split(5))
    assert ident_of(linked, 5) == new != old
    assert [t.id for t in linked.identity_tracklets(old)] == [1, 3]
    assert cannot_link(linked) == set()


def test_merge(linked):
    keep, other = ident_of(linked, 1), ident_of(linked, 2)
    linked.confirm(4)
    linked.annotate(other, "Bob", "cap")
    edit_undo_redo(linked, lambda: linked.merge(keep, other))
    assert [t.id for t in linked.identity_tracklets(keep)] == [1, 5, 3, 2, 4]
    assert state_of(linked, 4) == "confirmed" and state_of(linked, 2) == "proposed"  # states kept
    assert linked.conn.execute("SELECT status FROM identities WHERE id = ?", (other,)).fetchone()[0] == "merged"
    summaries = {s.id: s for s in linked.identity_summaries()}
    assert other not in summaries and (summaries[keep].name, summaries[keep].note) == ("Bob", "cap")
    with pytest.raises(ReviewError, match="merged"):
        linked.merge(keep, other)
    with pytest.raises(ReviewError, match="itself"):
        linked.merge(keep, keep)
    with pytest.raises(ReviewError, match="no identity 999"):
        linked.merge(keep, 999)


def test_merge_refuses_rejected_pairs(linked):
    new = linked.reject(3)
    with pytest.raises(ReviewError, match="rejected"):
        linked.merge(ident_of(linked, 1), new)


def test_assign_moves_confirmed_and_deletes_the_empty_identity(linked):
    target, lone = ident_of(linked, 1), ident_of(linked, 6)
    edit_undo_redo(linked, lambda: linked.assign(6, target))
    assert (ident_of(linked, 6), state_of(linked, 6)) == (target, "confirmed")
    assert linked.conn.execute("SELECT COUNT(*) FROM identities WHERE id = ?", (lone,)).fetchone()[0] == 0
    with pytest.raises(ReviewError, match="already confirmed"):
        linked.assign(6, target)


def test_assign_from_a_group_and_to_own_identity(linked):
    a, b = ident_of(linked, 1), ident_of(linked, 2)
    edit_undo_redo(linked, lambda: linked.assign(3, b))
    assert ident_of(linked, 3) == b and linked.tracklet(3).cost is None
    edit_undo_redo(linked, lambda: linked.assign(5, a))  # proposed member of a: confirms it
    assert (ident_of(linked, 5), state_of(linked, 5)) == (a, "confirmed")
    assert linked.review_log()[-1].action == "assign"


def test_assign_unlinked_tracklet_and_refusals(linked):
    linked.commit_video(video("cam3", "d.mp4"), [make_tracklet(1)])
    target = ident_of(linked, 1)
    new_id = 7
    assert ident_of(linked, new_id) is None
    edit_undo_redo(linked, lambda: linked.assign(new_id, target))
    assert ident_of(linked, new_id) == target
    rejected = linked.reject(3)
    with pytest.raises(ReviewError, match="rejected"):
        linked.assign(3, target)
    with pytest.raises(ReviewError, match="no identity"):
        linked.assign(3, 999)
    with pytest.raises(ReviewError, match="no tracklet"):
        linked.assign(999, rejected)


def test_annotate(linked):
    ident = ident_of(linked, 2)
    edit_undo_redo(linked, lambda: linked.annotate(ident, "Bob", "blue cap"))
    s = {s.id: s for s in linked.identity_summaries()}[ident]
    assert (s.name, s.note) == ("Bob", "blue cap")
    with pytest.raises(ReviewError):
        linked.annotate(999, "x")


def test_undo_redo_a_sequence_exactly(linked):
    states = [dump(linked)]
    a, b = ident_of(linked, 1), ident_of(linked, 2)
    edits = [lambda: linked.confirm(3), lambda: linked.reject(5), lambda: linked.merge(a, b),
             lambda: linked.annotate(a, "Alice"), lambda: linked.split(4), lambda: linked.assign(6, a)]
    for edit in edits:
        edit()
        states.append(dump(linked))
    for k in range(len(edits), 0, -1):
        assert linked.undo() is not None
        assert dump(linked) == states[k - 1]
    assert linked.undo() is None
    for k in range(1, len(edits) + 1):
        assert linked.redo() is not None
        assert dump(linked) == states[k]
    assert linked.redo() is None


def test_new_edit_clears_redo(linked):
    linked.confirm(3)
    linked.confirm(5)
    linked.undo()
    assert [r.undone for r in linked.review_log()] == [False, True]
    linked.confirm(4)
    assert [r.action for r in linked.review_log()] == ["confirm", "confirm"]
    assert linked.redo() is None
    assert state_of(linked, 5) == "proposed"


def test_relink_starts_a_new_undo_history(linked):
    linked.confirm(3)
    linked.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8)], [LinkProposal(2), LinkProposal(4, 0.2, 0.6)]])
    assert linked.undo() is None
    assert [(r.action, r.undoable) for r in linked.review_log()] == [("confirm", False)]
    assert state_of(linked, 3) == "confirmed"
    linked.confirm(4)
    assert linked.undo() == "confirm" and state_of(linked, 4) == "proposed"


def test_failed_edit_writes_nothing(linked, monkeypatch):
    from reid.store import review

    before = dump(linked, skip=())
    real = review._snapshot
    calls = []

    def boom(conn, keys):
        calls.append(1)
        if len(calls) == 2:  # the "after" snapshot: the change is made, the log row not yet
            raise RuntimeError("disk on fire")
        return real(conn, keys)

    monkeypatch.setattr(review, "_snapshot", boom)
    with pytest.raises(RuntimeError):
        linked.reject(3)
    assert len(calls) == 2
    assert dump(linked, skip=()) == before


def test_undo_on_readonly(linked, tmp_path):
    from reid.store import Store
    linked.confirm(3)
    with Store(linked.path, readonly=True) as ro, pytest.raises(StoreError, match="read-only"):
        ro.undo()
