"""The review flow without a window: a ``ReviewState``, ``ReviewEdits`` over a real store, a fake shell.
The store's review log is the only undo history. (That ``Store`` provides ``gui.edits.ReviewStore`` is
checked by mypy in ``gui/edits.py``.)"""

from __future__ import annotations

import pytest

from gui.edits import ReviewEdits
from gui.review_flow import ReviewFlow
from gui.state import ReviewState
from reid.store import Store


class FakeShell:
    thumbnails = None

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.identity: int | None = None
        self.jobs: list = []

    def submit(self, job, done):
        self.jobs.append((job, done))

    def show_status(self, text, error=False):
        self.said.append(("error" if error else "status", text))

    def show_error(self, title, text):
        self.said.append(("dialog", text))

    def beep(self):
        pass

    def ask_identity(self, title, candidates):
        self.said.append(("ask", repr([c[0] for c in candidates])))
        return self.identity

    def ask_annotation(self, identity_id, name, note):
        return ("Bob", "")

    def show_tab(self, index):
        pass

    def select_identity(self, identity_id):
        return True

    def select_tracklet(self, tracklet_id):
        return True

    def show_in_viewer(self, viewer, t, dets):
        pass


@pytest.fixture
def flow(qapp, video_db):
    store = Store(video_db)
    edits = ReviewEdits()
    edits.set_store(store)
    state = ReviewState(identity=1, tracklet=3, identities=tuple(store.identity_summaries()),
                        tracklets=tuple(store.identity_tracklets(1)))
    shell = FakeShell()
    yield ReviewFlow(state, edits, shell), store
    store.close()


def test_reject_stays_on_the_neighbour_and_undoes_through_the_log(flow):
    flow, store = flow
    flow.reject()
    assert flow.state.want_tracklet == 1
    assert store.tracklet(3).identity_id not in (1, 2)
    assert (flow.edits.count(), flow.edits.index()) == (1, 1)
    assert flow.edits.message.startswith("saved: reject tracklet 3")
    flow.undo()
    assert store.tracklet(3).identity_id == 1
    assert [(e.action, e.undone) for e in store.review_log()] == [("reject", True)]
    assert (flow.edits.count(), flow.edits.index()) == (1, 0)
    flow.redo()
    assert store.tracklet(3).identity_id not in (1, 2)


def test_merge_asks_the_shell_when_one_identity_is_selected(flow):
    flow, store = flow
    flow.shell.identity = 2
    flow.merge()
    assert ("ask", "[2]") in flow.shell.said
    assert store.tracklet(4).identity_id == 1 and flow.state.want_identity == 1


def test_refused_edit_is_said_and_not_logged(flow):
    flow, store = flow
    flow.state.tracklet = 1
    flow.confirm()  # the anchor is proposed too; confirm it, then again
    flow.confirm()
    assert flow.shell.said[-1][0] == "error" and "already confirmed" in flow.shell.said[-1][1]
    assert flow.edits.count() == 1


def test_an_edit_elsewhere_clears_this_windows_history_without_undoing_it(flow, video_db):
    flow, store = flow
    flow.confirm()
    with Store(video_db) as other:
        other.confirm(4)
    assert flow.edits.next_undo() is None  # the next entry is the other program's
    flow.undo()
    assert store.tracklet(4).state == "confirmed" and store.tracklet(3).state == "confirmed"
    assert flow.shell.said[-1][0] == "dialog" and "changed elsewhere" in flow.shell.said[-1][1]
    assert flow.edits.count() == 0


def test_read_only_store_refuses_edits(qapp, video_db):
    with Store(video_db, readonly=True) as store:
        edits = ReviewEdits()
        edits.set_store(store)
        refused: list[str] = []
        edits.refused.connect(refused.append)
        assert not edits.confirm(3)
        assert "read-only" in refused[0]
        assert not edits.undo()


def test_a_relink_elsewhere_ends_this_windows_history_with_a_message(flow, video_db):
    from reid.store import LinkProposal

    flow, store = flow
    flow.confirm()
    with Store(video_db) as other:  # the pipeline relinks: a new undo history starts
        other.apply_links([[LinkProposal(1), LinkProposal(3, 0.2, 0.67)], [LinkProposal(2), LinkProposal(4, 0.5, 0.17)]])
    assert flow.edits.next_undo() is None
    flow.undo()
    assert flow.shell.said[-1][0] == "dialog" and "changed elsewhere" in flow.shell.said[-1][1]
    assert flow.edits.count() == 0 and not flow.edits.mine
