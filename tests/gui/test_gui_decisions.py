"""Decisions that say what the reviewer means, through the window's keys and dialogs: split a selected group
off (Shift+S), reject against the link partner (N) or the whole identity (Shift+N), see and remove vetoes
(V), revert one decision from the history (Ctrl+H). The database is checked after each."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import _track, _unit, dump, member, open_db, settle
from PySide6.QtCore import QItemSelectionModel, Qt

from reid.store import LinkProposal, Store, VideoRecord

SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
# person -> (camA embedding, camB embedding); persons 1 and 2 share identity 1 (a wrong link), 3 is alone
EMB = {
    1: (_unit(1, 0, 0, 0), _unit(0.9, 0.1, 0, 0.1)),
    2: (_unit(0, 1, 0, 0), _unit(0.1, 0.9, 0, 0.1)),
    3: (_unit(0, 0, 1, 0), _unit(0, 0.1, 0.9, 0.1)),
}


def make_mixed_db(folder: Path) -> Path:
    """Two cameras (video files missing, crops stored). Tracklets: camA 1 (person 1), 2 (person 2), 3 (person 3);
    camB 4 (person 2), 5 (person 1), 6 (person 3). Identity 1 = {1, 2, 4, 5} mixes persons 1 and 2 (strip
    order 1, 2 | 4, 5: Shift+Right from 2 selects person 2's pair); identity 2 = {3, 6}. No stored threshold:
    decisions do not relink, so what each writes stays as written."""
    db = folder / "mixed.db"
    with Store(db) as store:
        for cam, people in (("camA", (1, 2, 3)), ("camB", (2, 1, 3))):
            video = str(folder / f"{cam}.mp4")
            tracks = [
                _track(min(p, 2), cam, video, k + 1, 10.0 * k, EMB[p][cam == "camB"])
                for k, p in enumerate(people)
            ]
            store.commit_video(VideoRecord(cam, video, 10.0, 30, 96, 64), tracks)
        store.apply_links(
            [
                [
                    LinkProposal(1),
                    LinkProposal(2, 0.3, 0.5),
                    LinkProposal(4, 0.35, 0.4),
                    LinkProposal(5, 0.2, 0.7),
                ],
                [LinkProposal(3), LinkProposal(6, 0.25, 0.6)],
            ]
        )
    return db


def vetoes(db):
    with Store(db, readonly=True) as s:
        return s.link_constraints().cannot_link


def key(qtbot, widget, k, mod=Qt.KeyboardModifier.NoModifier, window=None):
    qtbot.keyClick(widget, k, mod)
    settle(qtbot, window or widget)


@pytest.fixture
def opened(qtbot, window, tmp_path):
    db = make_mixed_db(tmp_path)
    open_db(qtbot, window, db)
    window.activateWindow()
    assert window.review.relinker is None  # no threshold stored: nothing relinks behind the test's back
    return window, db


def test_shift_s_splits_the_selected_group_off_with_vetoes_between_the_groups_and_undo_restores_all(
    qtbot, opened
):
    window, db = opened
    assert [t.id for t in window.tracklet_model.rows()] == [1, 2, 4, 5]
    window.strips.select_tracklet(2)
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)  # extends the selection from 2 to 4 (across cameras)
    assert sorted(window.state.selected_tracklets) == [2, 4]
    before = dump(db)
    key(qtbot, window, Qt.Key.Key_S, SHIFT)
    new = member(db, 2)[0]
    assert new not in (1, 2)
    assert member(db, 2) == member(db, 4) == (new, "confirmed")
    assert member(db, 1)[0] == member(db, 5)[0] == 1
    assert vetoes(db) == {(1, 2), (1, 4), (2, 5), (4, 5)}  # between the groups, none inside either
    assert window.current_identity() == 1  # the reviewer stays on what is left of the old identity
    assert [t.id for t in window.tracklet_model.rows()] == [1, 5]
    assert window.current_tracklet() == 5  # the first remaining tracklet after where they were
    assert "split 2 tracklets (2, 4) off" in window.status_label.text()
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dump(db) == before


def test_a_group_split_survives_its_relink_and_one_undo_reverts_both(qtbot, window, tmp_path):
    db = make_mixed_db(tmp_path)
    with Store(db) as s:
        s.set_meta("link_threshold", "0.6")  # as `reid process` records it: decisions relink
    open_db(qtbot, window, db)
    window.activateWindow()
    assert window.review.relinker is not None
    before = dump(db)
    window.strips.select_tracklet(2)
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)
    key(qtbot, window, Qt.Key.Key_S, SHIFT)  # settle waits for the relink too
    assert member(db, 2)[0] == member(db, 4)[0] != member(db, 1)[0] == member(db, 5)[0]
    assert vetoes(db) == {(1, 2), (1, 4), (2, 5), (4, 5)}
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dump(db) == before


def test_mouse_ctrl_click_selects_a_group(qtbot, opened):
    window, _ = opened
    window.strips.select_tracklet(1)
    view = window.strips.view
    view.scrollTo(window.tracklet_model.index_of(5))
    rect = view.visualRect(window.tracklet_model.index_of(5))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, CTRL, rect.center())
    assert sorted(window.state.selected_tracklets) == [1, 5]
    key(qtbot, window, Qt.Key.Key_Left, SHIFT)  # extending starts where the mouse left the current row: 5
    assert window.current_tracklet() == 4 and sorted(window.state.selected_tracklets) == [4, 5]


def test_shift_s_keeps_the_reviewer_on_their_tracklet_when_it_stays(qtbot, opened):
    window, db = opened
    window.strips.select_tracklet(2)
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)  # {2, 4}, current 4
    view = window.strips.view
    flags = QItemSelectionModel.SelectionFlag
    selection = view.selectionModel()
    selection.select(window.tracklet_model.index_of(5), flags.Select | flags.Rows)  # as Ctrl+click 5, then 4
    selection.select(window.tracklet_model.index_of(4), flags.Deselect | flags.Rows)
    settle(qtbot, window)
    assert sorted(window.state.selected_tracklets) == [2, 5] and window.current_tracklet() == 4
    key(qtbot, window, Qt.Key.Key_S, SHIFT)
    assert member(db, 2)[0] == member(db, 5)[0] not in (1, None)
    assert window.current_tracklet() == 4  # it stayed in identity 1, and so did the reviewer
    assert "kept apart from the 2 left in #1" in window.status_label.text()  # 1 and 4


def test_shift_n_on_a_queue_item_rejects_the_link_whatever_the_item(qtbot, opened):
    window, db = opened
    window.flow.item = _merge_item = type("Item", (), {"kind": "mixed", "tracklet": 4, "identity": 1})()
    assert window.flow.item_on_screen() is _merge_item
    key(qtbot, window, Qt.Key.Key_N, SHIFT)
    assert member(db, 4)[0] not in (1, None)
    assert vetoes(db) == {(1, 4), (2, 4), (4, 5)}  # a reject against the whole identity, no confirm_group
    with Store(db, readonly=True) as s:
        assert [e.action for e in s.review_log()] == ["reject"]


def test_n_rejects_a_link_against_its_partner_only(qtbot, opened):
    window, db = opened
    assert window.current_tracklet() == 4  # the least confident link of identity 1 (person 2 in camB)
    with Store(db, readonly=True) as s:
        from reid.link.partner import link_partner

        assert link_partner(s, 4) == 2  # the link stands on person 2's camA tracklet
    key(qtbot, window, Qt.Key.Key_N)
    assert member(db, 4)[0] not in (1, 2)
    assert vetoes(db) == {(2, 4)}  # not against 1 and 5, whom it was never compared with
    assert "rejected tracklet 4 against tracklet 2" in window.status_label.text()
    assert window.current_identity() == 1 and window.current_tracklet() == 5


def test_shift_n_rejects_against_the_whole_identity(qtbot, opened):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_N, SHIFT)
    assert vetoes(db) == {(1, 4), (2, 4), (4, 5)}


def test_vetoes_dialog_lists_and_removes_a_veto(qtbot, opened, shots):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_N, SHIFT)  # 4 leaves identity 1, vetoed against 1, 2 and 5
    key(qtbot, window, Qt.Key.Key_V)
    dialog = window.vetoes_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.model.rowCount() == 3)
    assert dialog.identity == 1 and dialog.windowTitle() == "Vetoes of identity #1"
    pairs = [dialog.model.pair(r) for r in range(3)]
    assert pairs == [(1, 4), (2, 4), (5, 4)]  # this identity's tracklet first, in strip order
    text = dialog.model.index(1, 1).data()
    assert text.startswith("#4 · camB · track 1") and f"identity #{member(db, 4)[0]}" in text
    settle(qtbot, window)  # thumbnails
    dialog.grab().save(str(shots / "h2-vetoes.png"))
    dialog.view.selectRow(1)
    dialog.activateWindow()
    dialog.view.setFocus()
    key(qtbot, dialog.view, Qt.Key.Key_Delete, window=window)
    assert vetoes(db) == {(1, 4), (4, 5)}
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    assert "removed the veto between tracklets 2 and 4" in window.status_label.text()
    key(qtbot, dialog, Qt.Key.Key_Z, CTRL, window=window)  # the removal is undoable, from the dialog too
    assert vetoes(db) == {(1, 4), (2, 4), (4, 5)}
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3)
    window.identity_list.select_identity(2)  # the open dialog follows the identity shown
    qtbot.waitUntil(lambda: dialog.identity == 2 and dialog.model.rowCount() == 0)
    assert "no vetoes" in dialog.label.text()


def test_history_reverts_decision_1_of_2_and_keeps_decision_2(qtbot, opened, shots):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_Y)  # decision 1: confirm 4 (identity 1)
    window.identity_list.select_identity(2)
    settle(qtbot, window)
    key(qtbot, window, Qt.Key.Key_Y)  # decision 2: confirm 6 (identity 2)
    assert member(db, 4) == (1, "confirmed") and member(db, 6) == (2, "confirmed")
    key(qtbot, window, Qt.Key.Key_H, CTRL)
    dialog = window.history_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.model.rowCount() == 2)
    first, second = dialog.model.entry(1), dialog.model.entry(0)  # newest first
    assert first.description == "confirm tracklet 4 in identity 1"
    assert second.description == "confirm tracklet 6 in identity 2"
    assert dialog.select_entry(first.id)
    dialog.grab().save(str(shots / "h2-history.png"))
    qtbot.mouseClick(dialog.revert_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert member(db, 4) == (1, "proposed")  # decision 1 reverted ...
    assert member(db, 6) == (2, "confirmed")  # ... decision 2 kept
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3)  # the revert is a decision of its own
    key(qtbot, dialog, Qt.Key.Key_Z, CTRL, window=window)  # and Ctrl+Z takes it back
    assert member(db, 4) == (1, "confirmed") and member(db, 6) == (2, "confirmed")


def test_a_revert_a_later_decision_depends_on_is_refused_in_the_status_bar(qtbot, opened, dialogs):
    window, db = opened
    key(qtbot, window, Qt.Key.Key_Y)  # decision 1: confirm 4
    key(qtbot, window, Qt.Key.Key_N, SHIFT)  # decision 2: 4 leaves identity 1 (the same row changes)
    key(qtbot, window, Qt.Key.Key_H, CTRL)
    dialog = window.history_dialog
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    assert dialog.select_entry(dialog.model.entry(1).id)
    snapshot = dump(db)
    dialog.revert_selected()
    settle(qtbot, window)
    assert dump(db) == snapshot
    assert window.status_label.text().startswith("not done:")
    assert not dialogs.errors()


def test_new_keys_are_in_the_menus_and_the_help(opened):
    window, _ = opened
    rows = dict((what, keys) for keys, what in window.help_overlay.rows())
    assert rows["Split selected off as a group"] == "Shift+S"
    assert rows["Reject link (against its partner)"] == "N"
    assert rows["Reject link against the whole identity"] == "Shift+N"
    assert rows["Show vetoes of this identity"] == "V"
    assert rows["Decision history"] == "Ctrl+H"
