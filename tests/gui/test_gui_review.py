"""Review actions through the window's shortcuts: the database before, after, after undo and after redo."""

from __future__ import annotations

import pytest
from gui_helpers import cannot_link, dump, member, open_db, settle
from PySide6.QtCore import Qt

from reid.store import Store


def log_state(db):
    with Store(db, readonly=True) as s:
        return [(r.action, r.undone) for r in s.review_log()]


def key(qtbot, window, k, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, k, mod)
    settle(qtbot, window)


UNDO = (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
REDO = (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


@pytest.fixture
def opened(qtbot, window, video_db):
    open_db(qtbot, window, video_db)
    window.activateWindow()
    return window, video_db


def test_first_screen_selects_first_identity_and_its_least_confident_tracklet(opened):
    window, _ = opened
    assert window.identity_model.rowCount() == 2
    assert window.current_identity() == 1
    assert window.current_tracklet() == 3  # the proposed link; tracklet 1 is the identity's anchor
    assert window.stack.currentWidget() is window.splitter
    assert [t.id for t in window.tracklet_model.rows()] == [1, 3]  # camA then camB


def test_confirm_with_y_then_undo_and_redo(qtbot, opened):
    window, db = opened
    assert member(db, 3) == (1, "proposed")
    key(qtbot, window, Qt.Key.Key_Y)
    assert member(db, 3) == (1, "confirmed")
    # its only link confirmed: reviewed (the anchor, tracklet 1, carries no link to confirm)
    assert window.identity_model.summary(window.identity_model.row_of(1)).status == "reviewed"
    assert "confirmed" in window.tracklet_model.index_of(3).data()
    key(qtbot, window, *UNDO)
    assert member(db, 3) == (1, "proposed")
    assert log_state(db) == [("confirm", True)]
    key(qtbot, window, *REDO)
    assert member(db, 3) == (1, "confirmed")
    assert log_state(db) == [("confirm", False)]
    assert window.review.index() == 1


def test_reject_with_n_moves_tracklet_out_and_forbids_the_pair(qtbot, opened):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_N)
    new_identity, _ = member(db, 3)
    assert new_identity not in (1, 2)
    assert (1, 3) in cannot_link(db)
    assert window.identity_model.rowCount() == 3
    assert window.current_identity() == 1  # the reviewer stays where they were
    assert [t.id for t in window.tracklet_model.rows()] == [1]
    key(qtbot, window, *UNDO)
    assert member(db, 3) == (1, "proposed")
    assert (1, 3) not in cannot_link(db)
    assert window.identity_model.rowCount() == 2
    key(qtbot, window, *REDO)
    assert member(db, 3)[0] == new_identity
    assert (1, 3) in cannot_link(db)


def test_split_with_s(qtbot, window, video_db):
    with Store(video_db) as s:  # no stored threshold: decisions do not relink, the split stays as made
        s.conn.execute("DELETE FROM meta WHERE key = 'link_threshold'")
        s.conn.commit()
    open_db(qtbot, window, video_db)
    window.activateWindow()
    assert window.review.relinker is None
    key(qtbot, window, Qt.Key.Key_S)
    new_identity, _ = member(video_db, 3)
    assert new_identity not in (1, 2)
    assert cannot_link(video_db) == set()
    key(qtbot, window, *UNDO)
    assert member(video_db, 3) == (1, "proposed")


def test_a_split_relinks_its_component_and_one_undo_reverts_both(qtbot, opened):
    window, db = opened
    before = dump(db)
    assert window.review.relinker is not None  # the file records its threshold (0.6): decisions relink
    key(qtbot, window, Qt.Key.Key_S)  # settle waits for the relink too
    # a split records no veto: the relink joins 3 to 1 again (0.2 apart < 0.6), in the split's own entry
    assert member(db, 3)[0] == 1
    assert log_state(db) == [("split", False)]
    assert "relinked 2 tracklets, 1 moved" in window.status_label.text()
    assert sorted(t.id for t in window.tracklet_model.rows()) == [1, 3]
    key(qtbot, window, *UNDO)
    assert dump(db) == before
    assert log_state(db) == [("split", True)]


def test_merge_with_m_uses_the_second_selected_identity(qtbot, opened):
    window, db = opened
    view = window.identity_list.view
    from PySide6.QtCore import QItemSelectionModel

    view.selectionModel().select(
        window.identity_list.proxy.index(1, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert window.identity_list.selected_identities() == [1, 2]
    key(qtbot, window, Qt.Key.Key_M)
    assert member(db, 2)[0] == 1 and member(db, 4)[0] == 1
    assert window.identity_model.rowCount() == 1
    assert window.current_identity() == 1
    assert sorted(t.id for t in window.tracklet_model.rows()) == [1, 2, 3, 4]
    key(qtbot, window, *UNDO)
    assert member(db, 2)[0] == 2 and member(db, 4)[0] == 2
    assert window.identity_model.rowCount() == 2


def test_merge_asks_for_the_identity_when_only_one_is_selected(qtbot, opened, dialogs):
    window, db = opened
    dialogs.identity = 2
    key(qtbot, window, Qt.Key.Key_M)
    assert dialogs.asked[-1][0] == "identity" and dialogs.asked[-1][2] == "[2]"
    assert member(db, 4)[0] == 1
    dialogs.identity = None  # cancelled: nothing happens
    key(qtbot, window, Qt.Key.Key_M)
    assert log_state(db) == [("merge", False)]


def test_annotate_with_a(qtbot, opened, dialogs):
    window, db = opened
    dialogs.annotation = ("Alice", "red shirt")
    key(qtbot, window, Qt.Key.Key_A)
    with Store(db, readonly=True) as s:
        first = s.identity_summaries()[0]
    assert (first.id, first.name, first.note) == (1, "Alice", "red shirt")
    assert window.identity_model.index(window.identity_model.row_of(1), 0).data() == "#1  Alice"
    key(qtbot, window, *UNDO)
    with Store(db, readonly=True) as s:
        assert s.identity_summaries()[0].name == ""


def test_impossible_edit_is_refused_with_a_message_and_not_stacked(qtbot, opened, dialogs):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_N)  # tracklet 3 leaves; identity 1 keeps tracklet 1 alone
    assert window.current_tracklet() == 1
    key(qtbot, window, Qt.Key.Key_S)  # nothing to split it from
    assert "alone" in window.status_label.text()
    assert not dialogs.errors()  # no modal dialog in the middle of keyboard review
    assert window.review.count() == 1
    assert len(log_state(db)) == 1


def test_undo_stack_and_review_log_stay_in_step(qtbot, opened):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_Y)  # confirm 3
    window.identity_list.select_identity(2)
    settle(qtbot, window)
    key(qtbot, window, Qt.Key.Key_Y)  # confirm 4
    key(qtbot, window, *UNDO)
    key(qtbot, window, *UNDO)
    assert log_state(db) == [("confirm", True), ("confirm", True)]
    assert window.review.index() == 0
    key(qtbot, window, *REDO)
    assert log_state(db) == [("confirm", False), ("confirm", True)]
    assert member(db, 3) == (1, "confirmed") and member(db, 4) == (2, "proposed")


def test_work_queue_goes_least_confident_first(qtbot, opened):
    window, db = opened
    with Store(db, readonly=True) as s:
        assert s.review_queue() == [4, 3]
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert (window.current_identity(), window.current_tracklet()) == (2, 4)
    key(qtbot, window, Qt.Key.Key_Tab)
    assert (window.current_identity(), window.current_tracklet()) == (1, 3)
    key(qtbot, window, Qt.Key.Key_Y)  # confirm 3: the queue is [4]
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current_tracklet() == 4
    key(qtbot, window, Qt.Key.Key_Y)
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert "nothing left to review" in window.status_label.text()
    assert window.progress.value() == window.progress.maximum() == 2


def test_progress_shows_reviewed_share(qtbot, opened):
    window, _ = opened
    assert (window.progress.value(), window.progress.maximum()) == (0, 2)
    key(qtbot, window, Qt.Key.Key_Y)
    assert window.progress.value() == 1


def test_progress_total_does_not_shrink_when_a_link_is_rejected(qtbot, opened):
    """A reject removes its link; the bar counts it as a decision made, so its total stays."""
    window, _ = opened
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)  # the current link, whole identity
    qtbot.waitUntil(lambda: window.progress.value() == 1, timeout=5000)
    assert window.progress.maximum() == 2
    assert window.progress.format().startswith("decisions made: 1, links left to review: 1")


def test_navigation_find_and_help_shortcuts(qtbot, opened):
    window, _ = opened
    key(qtbot, window, Qt.Key.Key_Down)
    assert window.current_identity() == 2
    key(qtbot, window, Qt.Key.Key_Up)
    assert window.current_identity() == 1
    key(qtbot, window, Qt.Key.Key_Left)
    assert window.current_tracklet() == 1
    key(qtbot, window, Qt.Key.Key_Right)
    assert window.current_tracklet() == 3
    key(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.identity_list.find_edit.hasFocus()
    qtbot.keyClicks(window.identity_list.find_edit, "#2")  # typing is not taken as shortcuts
    qtbot.keyClick(window.identity_list.find_edit, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.current_identity() == 2
    key(qtbot, window, Qt.Key.Key_F1)
    assert window.help_overlay.isVisible()
    assert ("Y", "Confirm link") in window.help_overlay.rows()
    qtbot.keyClick(window.help_overlay, Qt.Key.Key_Escape)
    assert not window.help_overlay.isVisible()
    key(qtbot, window, Qt.Key.Key_Question)
    assert window.help_overlay.isVisible()


def test_space_plays_and_pauses_the_tracklet(qtbot, opened):
    window, _ = opened
    qtbot.waitUntil(lambda: window.viewer.tracklet is not None and window.viewer.tracklet.id == 3)
    start = window.viewer.frame
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.viewer.playing
    qtbot.waitUntil(lambda: window.viewer.frame > start + 2, timeout=3000)
    key(qtbot, window, Qt.Key.Key_Space)
    assert not window.viewer.playing


def test_every_shortcut_is_in_a_menu(opened):
    window, _ = opened
    in_menus = set()
    for menu_action in window.menuBar().actions():
        stack = [menu_action.menu()]
        while stack:
            menu = stack.pop()
            for a in menu.actions():
                if a.menu() is not None:
                    stack.append(a.menu())
                in_menus.add(a)
    for name, action in window.actions_by_name.items():
        assert action in in_menus, name


def test_edit_made_elsewhere_clears_the_undo_stack_without_undoing_it(qtbot, opened, dialogs):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_Y)  # confirm 3 here
    with Store(db) as other:  # another program confirms 4
        other.confirm(4)
    key(qtbot, window, *UNDO)
    assert member(db, 4) == (2, "confirmed") and member(db, 3) == (1, "confirmed")  # nothing undone
    assert "changed elsewhere" in dialogs.errors()[-1]
    qtbot.waitUntil(lambda: window.review.count() == 0)


def test_assign_from_nearest_can_be_undone(qtbot, opened):
    window, db = opened
    window.show_tab(window.NEAREST)
    qtbot.waitUntil(lambda: window.nearest_model.rowCount() == 3, timeout=5000)
    window.flow.assign_from_nearest(4)
    settle(qtbot, window)
    assert member(db, 4) == (1, "confirmed")
    key(qtbot, window, *UNDO)
    assert member(db, 4) == (2, "proposed")
    key(qtbot, window, *REDO)
    assert member(db, 4) == (1, "confirmed")


def test_docs_list_every_shortcut(window):
    from pathlib import Path

    from gui.widgets.help_overlay import shortcut_rows

    doc = (Path(__file__).resolve().parents[2] / "docs" / "gui.md").read_text()
    for keys, what in shortcut_rows(list(window.actions_by_name.values())):
        for k in keys.split(" / "):
            assert k in doc, (k, what)


def test_confirming_twice_is_refused_quietly(qtbot, opened, dialogs):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_Y)
    key(qtbot, window, Qt.Key.Key_Y)
    assert "already confirmed" in window.status_label.text()
    assert not dialogs.errors()
    assert log_state(db) == [("confirm", False)]
    assert window.review.count() == 1
