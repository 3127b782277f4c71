"""Nearest from the keyboard with a timing verdict per result, the merge dialog with pictures, and both sides
of a suggested merge on screen while Y / N answer it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gui_helpers import open_db, settle
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from review_people import build_site, link_site

from gui.main_window import COMPARE, NEAREST, REVIEW
from gui.models import ID_ROLE, NearestModel, tracklet_name
from gui.timing import queue_limits, timing_fit
from gui.widgets.dialogs import Dialogs
from gui.widgets.identity_picker import IdentityPicker
from reid.link.review_queue import QueueConfig
from reid.store import Store

GAP, OVERLAP = 60.0, 5.0  # the limits the verdicts below are written for


def span(camera: str, first: float, last: float) -> SimpleNamespace:
    return SimpleNamespace(camera=camera, first_time=first, last_time=last)


# ------------------------------------------------------------------------------------------------ timing_fit
@pytest.mark.parametrize(
    ("other", "fits", "verdict"),
    [
        (span("a", 15.0, 20.0), False, "same camera, overlaps in time"),
        (span("a", 20.0, 30.0), False, "same camera, overlaps in time"),  # touching: one camera, one moment
        (span("a", 32.3, 40.0), True, "same camera, Δ 12.3 s later"),
        (span("a", 0.0, 5.0), True, "same camera, Δ 5.0 s earlier"),
        (span("b", 18.0, 25.0), True, "other camera, overlaps 2.0 s"),
        (span("b", 14.0, 25.0), False, "other camera, overlaps 6.0 s (> 5 s)"),
        (span("b", 28.1, 30.0), True, "other camera, gap 8.1 s later"),
        (span("b", 0.0, 2.0), True, "other camera, gap 8.0 s earlier"),
        (span("b", 80.0, 90.0), True, "other camera, gap 60.0 s later"),  # the limit itself fits
        (span("b", 80.5, 90.0), False, "too far apart (other camera, gap 60.5 s later > 60 s)"),
        (span("a", 100.0, 110.0), False, "too far apart (same camera, Δ 80.0 s later > 60 s)"),
    ],
)
def test_timing_fit_says_whether_two_tracklets_can_be_one_person(other, fits, verdict):
    query = span("a", 10.0, 20.0)
    assert timing_fit(query, other, GAP, OVERLAP) == (fits, verdict)


def test_timing_limits_are_the_queues():
    assert queue_limits() == (QueueConfig().max_gap_s, QueueConfig().max_overlap_s)


# ------------------------------------------------------------------------------------------------ nearest
def focused():
    return QApplication.focusWidget()


def activate(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def press(qtbot, window, key, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(focused() or window, key, mod)
    settle(qtbot, window)


def open_nearest(qtbot, window, n: int | None = None):
    window.activateWindow()
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: (
            window.nearest_model.rowCount() > 0
            and (n is None or window.nearest_model.rowCount() == n)
            and window.nearest_view.query is not None
            and window.nearest_view.query.id == window.current_tracklet()
        ),
        timeout=5000,
    )
    settle(qtbot, window)


def current_result(window) -> int:
    return window.nearest_view.view.currentIndex().row()


def test_arrows_move_through_the_nearest_grid_and_enter_assigns(qtbot, window, video_db):
    open_db(qtbot, window, video_db)
    identity, tracklet = window.current_identity(), window.current_tracklet()
    assert (identity, tracklet) == (1, 3)
    open_nearest(qtbot, window, 3)
    assert window.tabs.currentIndex() == NEAREST
    assert focused() is window.nearest_view.view  # Ctrl+2 puts the keyboard on the first result
    assert current_result(window) == 0
    ids = [window.nearest_model.index(i, 0).data(ID_ROLE) for i in range(3)]
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Right)  # past the last: stays
    assert current_result(window) == 2
    press(qtbot, window, Qt.Key.Key_Left)
    assert current_result(window) == 1
    assert (window.current_identity(), window.current_tracklet()) == (identity, tracklet)  # not moved
    while window.nearest_view.selected_tracklet() != 4:
        press(qtbot, window, Qt.Key.Key_Right if ids.index(4) > current_result(window) else Qt.Key.Key_Left)
    press(qtbot, window, Qt.Key.Key_Return)
    with Store(video_db, readonly=True) as s:
        t = s.tracklet(4)
    assert (t.identity_id, t.state) == (1, "confirmed")
    press(qtbot, window, Qt.Key.Key_Left)  # the arrows still belong to the grid after the edit
    assert window.tabs.currentIndex() == NEAREST and window.current_tracklet() == tracklet
    window.show_tab(REVIEW)
    settle(qtbot, window)
    press(qtbot, window, Qt.Key.Key_Left)  # elsewhere they move through the tracklets as before
    assert window.current_tracklet() != tracklet


def test_up_and_down_move_a_row_of_the_grid(qtbot, window, synthetic_db):
    open_db(qtbot, window, synthetic_db)
    identity = window.current_identity()
    open_nearest(qtbot, window, 24)
    per_row = window.nearest_view.per_row()
    assert 1 < per_row < 24
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Down)
    assert current_result(window) == 1 + per_row
    view = window.nearest_view.view
    below = view.visualRect(window.nearest_model.index(1 + per_row, 0))
    above = view.visualRect(window.nearest_model.index(1, 0))
    assert below.top() > above.top() and abs(below.center().x() - above.center().x()) < 10  # right below
    press(qtbot, window, Qt.Key.Key_Up)
    press(qtbot, window, Qt.Key.Key_Up)  # on the first row: stays
    assert current_result(window) == 1
    assert window.current_identity() == identity


def test_g_goes_to_the_results_identity_and_c_compares_it(qtbot, window, video_db):
    open_db(qtbot, window, video_db)
    open_nearest(qtbot, window, 3)
    while window.nearest_view.selected_tracklet() != 2:
        press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: window.compare_view.pair is not None, timeout=5000)
    assert window.tabs.currentIndex() == COMPARE
    assert [t.id for t in window.compare_view.pair] == [3, 2]
    open_nearest(qtbot, window, 3)
    while window.nearest_view.selected_tracklet() != 2:
        press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_G)
    qtbot.waitUntil(lambda: window.current_tracklet() == 2, timeout=5000)
    assert window.tabs.currentIndex() == REVIEW and window.current_identity() == 2


def test_labels_name_tracklets_as_the_strip_does_and_say_whether_the_timing_fits(qtbot, window, video_db):
    open_db(qtbot, window, video_db)
    open_nearest(qtbot, window, 3)
    model = window.nearest_model
    labels = {model.index(i, 0).data(ID_ROLE): model.index(i, 0).data() for i in range(3)}
    strip = window.tracklet_model.index_of(1).data()  # the strip of identity 1 (tracklets 1 and 3)
    assert strip.startswith("#1 · track 1") and "#1 · track 1" in labels[1]
    assert "#4 · track 2" in labels[4] and tracklet_name(model.row(0)[0]) in labels[model.row(0)[0].id]
    # query 3 is camB 0-2.7 s; 1 and 2 are camA at the same time, 4 camB at the same time
    assert "camA · 00:00:00–00:00:02" in labels[1] and "identity #1 · d " in labels[1]
    assert "other camera, overlaps 2.7 s" in labels[1]
    assert "same camera, overlaps in time" in labels[4]
    fits = {model.index(i, 0).data(ID_ROLE): model.index(i, 0).data(NearestModel.FITS_ROLE) for i in range(3)}
    assert fits == {1: True, 2: True, 4: False}
    row4 = [model.index(i, 0) for i in range(3) if model.index(i, 0).data(ID_ROLE) == 4][0]
    assert row4.data(Qt.ItemDataRole.ForegroundRole) is not None  # dimmed, still listed
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "track 1" in window.nearest_view.query_label.text()  # the query too: #3 · track 1
    assert "1 dimmed" in window.nearest_view.query_label.text()


def test_the_nearest_tab_screenshot(qtbot, window, synthetic_db, shots):
    open_db(qtbot, window, synthetic_db)
    open_nearest(qtbot, window, 24)
    settle(qtbot, window)
    model = window.nearest_model
    verdicts = [model.timing(i) for i in range(model.rowCount())]
    assert all(v is not None for v in verdicts)
    image = window.grab()
    assert not image.isNull()
    image.save(str(shots / "h4-nearest.png"))


# ------------------------------------------------------------------------------------------------ merge
def drive_dialog(qtbot, answer, seen: dict, screenshot: str | None = None):
    """When the modal picker is up and its pictures are in: note what it shows, then type ``answer`` + Enter
    (None: Esc)."""

    tries = [0]

    def step():
        dialog = QApplication.activeModalWidget()
        ready = (
            isinstance(dialog, IdentityPicker)
            and dialog._tracklet_of
            and all(dialog._thumbnails.has(t) for t in dialog._tracklet_of.values())
        )
        tries[0] += 1
        if not ready and tries[0] > 250 and dialog is not None:  # not the picture dialog: give up, not hang
            seen["gave_up"] = type(dialog).__name__
            dialog.reject()
            return
        if not ready:
            QTimer.singleShot(20, step)
            return
        items = [dialog.list.item(i) for i in range(dialog.list.count())]
        seen["identities"] = dialog.identities()
        seen["selected"] = [i for i in items if i.isSelected()]
        seen["icons"] = [not i.icon().isNull() and i.icon().availableSizes() != [] for i in items]
        seen["texts"] = [i.text() for i in items]
        if screenshot:
            dialog.grab().save(screenshot)
        if answer is None:
            qtbot.keyClick(dialog.filter, Qt.Key.Key_Escape)
            return
        qtbot.keyClicks(dialog.filter, str(answer))
        seen["after_typing"] = dialog.selected_identity()
        qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)

    QTimer.singleShot(0, step)


def members(db, identity):
    with Store(db, readonly=True) as s:
        return sorted(t.id for t in s.identity_tracklets(identity))


def test_merge_dialog_shows_pictures_nearest_first_nothing_selected_and_merges_the_typed_one(
    qtbot, window, video_db
):
    open_db(qtbot, window, video_db)
    window.dialogs = Dialogs()  # the real dialog, driven by keys
    seen: dict = {}
    drive_dialog(qtbot, None, seen)
    press(qtbot, window, Qt.Key.Key_M)  # Esc: nothing merged
    assert seen["identities"] == [2] and seen["selected"] == [] and all(seen["icons"])
    assert members(video_db, 1) == [1, 3]
    drive_dialog(qtbot, 2, seen)
    activate(qtbot, window)  # the closed dialog took the active window with it
    press(qtbot, window, Qt.Key.Key_M)
    assert seen["after_typing"] == 2
    assert "camA, camB · 00:00:00–00:00:02 · 2 tracklets" in seen["texts"][0]
    assert members(video_db, 1) == [1, 2, 3, 4]


def test_merge_dialog_on_a_site_lists_the_nearest_identities_first(qtbot, window, synthetic_db, shots):
    open_db(qtbot, window, synthetic_db)
    keep = window.current_identity()
    window.dialogs = Dialogs()
    seen: dict = {}
    with Store(synthetic_db, readonly=True) as s:
        others = [r.id for r in s.identity_summaries() if r.id != keep]
        mine = [t.id for t in s.identity_tracklets(keep)]
        near: dict[int, float] = {}
        for tid in mine:
            for row, d in s.nearest_tracklets(tid, k=200):
                if row.identity_id not in (None, keep):
                    near[row.identity_id] = min(d, near.get(row.identity_id, 9.0))
    target = min(near, key=near.get)
    theirs = members(synthetic_db, target)
    drive_dialog(qtbot, target, seen, str(shots / "h4-merge.png"))
    press(qtbot, window, Qt.Key.Key_M)
    assert sorted(seen["identities"]) == sorted(others)
    assert seen["identities"][0] == target  # the nearest identity first
    assert seen["selected"] == [] and all(seen["icons"])
    assert " · d " in seen["texts"][0]
    assert members(synthetic_db, keep) == sorted(mine + theirs)


def test_picker_enter_without_a_choice_stays_open(qtbot):
    picker = IdentityPicker(None, "Merge", [(5, "#5 — cam1"), (7, "#7 — cam2")])
    qtbot.addWidget(picker)
    picker.show()
    assert picker.selected_identity() is None
    picker.accept()
    assert picker.isVisible() and picker.choice is None
    qtbot.keyClicks(picker.filter, "7")
    assert [picker.list.item(i).isHidden() for i in range(2)] == [True, False]
    assert picker.selected_identity() == 7
    picker.accept()
    assert picker.choice == 7 and not picker.isVisible()


# ------------------------------------------------------------------------------------------------ queue
@pytest.fixture
def site(qtbot, window, tmp_path):
    """``test_gui_queue``'s known-answer site: suggested merges 2+3 (tracklets 2, 8) and 6+7 (5, 11) first."""
    db = tmp_path / "site.db"
    with Store(db) as store:
        build_site(store, tmp_path / "gt")
        link_site(store)
    open_db(qtbot, window, db)
    window.activateWindow()
    return window, db


def test_a_suggested_merge_shows_both_sides_and_y_still_joins(qtbot, site, shots):
    window, db = site
    press(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.compare_view.pair is not None, timeout=5000)
    settle(qtbot, window)
    assert window.tabs.currentIndex() == COMPARE
    assert [t.id for t in window.compare_view.pair] == [2, 8]  # the item's tracklet and its partner
    assert [t.identity_id for t in window.compare_view.pair] == [2, 3]
    assert "Suggested merge" in window.compare_view.note_label.text()
    assert window.compare_view.note_label.isVisibleTo(window)
    assert (window.current_identity(), window.current_tracklet()) == (2, 2)  # the item stays on screen
    qtbot.waitUntil(lambda: "timing: other camera, gap 3.1 s later" in window.compare_view.cost_label.text())
    window.grab().save(str(shots / "h4-merge-pair.png"))
    press(qtbot, window, Qt.Key.Key_Y)
    with Store(db, readonly=True) as s:
        assert s.tracklet(8).identity_id == s.tracklet(2).identity_id == 2
    qtbot.waitUntil(lambda: window.compare_view.pair is not None, timeout=5000)
    settle(qtbot, window)
    assert [t.id for t in window.compare_view.pair] == [5, 11]  # the next suggested merge, both sides
    press(qtbot, window, Qt.Key.Key_N)  # keeps 6 and 7 apart; the next item is a link: the review tab
    with Store(db, readonly=True) as s:
        assert (5, 11) in s.link_constraints().cannot_link
    assert window.tabs.currentIndex() == REVIEW
    assert window.current_tracklet() == 10  # on the link, where Y / N answer it
