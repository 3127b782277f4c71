"""The window's work queue: proposed links and suggested merges (``review_items``), answered with Y / N, from
its top, moving on after each answer, skipped items not shown again unasked."""

from __future__ import annotations

import pytest
from gui_helpers import identity_of, log_actions, open_db, settle
from PySide6.QtCore import Qt
from review_people import build_site, link_site

from reid.link.review_queue import review_items
from reid.store import Store

NEXT = (Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def key(qtbot, window, k, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, k, mod)
    settle(qtbot, window)  # queries, thumbnails and the decision's relink


def on_screen(window):
    return window.current_identity(), window.current_tracklet()


@pytest.fixture
def site(qtbot, window, tmp_path):
    """The known-answer site (threshold 0.5): suggested merges of identities 2+3 (tracklets 2, 8) and 6+7
    (5, 11) first, then proposed links 10 (the false one), 12, 9, 7."""
    db = tmp_path / "site.db"
    with Store(db) as store:
        build_site(store, tmp_path / "gt")
        link_site(store)
        queue = [(i.kind, i.identity, i.other, i.tracklet) for i in review_items(store)]
    assert queue == [
        ("merge", 2, 3, 2),
        ("merge", 6, 7, 5),
        ("link", 5, None, 10),
        ("link", 8, None, 12),
        ("link", 4, None, 9),
        ("link", 1, None, 7),
    ]
    open_db(qtbot, window, db)
    window.activateWindow()
    return window, db


def test_the_queue_starts_at_its_top_and_answers_merges_and_links(qtbot, site):
    window, db = site
    key(qtbot, window, *NEXT)
    assert on_screen(window) == (2, 2)
    assert "suggested merge" in window.status_label.text() and "#3" in window.status_label.text()
    key(qtbot, window, Qt.Key.Key_Y)  # joins 2 and 3, then the queue moves on to the next merge
    assert identity_of(db, 8) == identity_of(db, 2) == 2
    assert log_actions(db) == ["merge"]
    assert on_screen(window) == (6, 5)
    key(qtbot, window, Qt.Key.Key_N)  # keeps 6 and 7 apart, then on to the least certain link
    with Store(db, readonly=True) as s:
        assert (5, 11) in s.link_constraints().cannot_link
    assert identity_of(db, 5) != identity_of(db, 11)
    assert log_actions(db) == ["merge", "keep_apart"]
    assert on_screen(window) == (5, 10)
    assert "proposed link" in window.status_label.text()
    assert "p(right) 0." in window.status_label.text()  # the fitted link probability beside the cost
    key(qtbot, window, *NEXT)  # skip 10
    assert window.current_tracklet() == 12
    for tid in (12, 9, 7):  # Y confirms and moves on; the skipped 10 is not shown again
        assert window.current_tracklet() == tid
        key(qtbot, window, Qt.Key.Key_Y)
    assert window.current_tracklet() == 7
    assert "1 skipped item(s) left" in window.status_label.text()
    key(qtbot, window, *NEXT)  # asked for: the skipped one again
    assert on_screen(window) == (5, 10)
    key(qtbot, window, Qt.Key.Key_N)  # the false link: 10 leaves identity 5, vetoed against its cam1 view
    assert identity_of(db, 10) != 5
    assert "nothing left to review" in window.status_label.text()
    assert log_actions(db) == ["merge", "keep_apart", "confirm", "confirm", "confirm", "reject"]
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert identity_of(db, 10) == 5


def test_away_from_the_item_y_confirms_the_current_tracklet(qtbot, site):
    window, db = site
    key(qtbot, window, *NEXT)
    assert on_screen(window) == (2, 2)
    window.select_identity(1)  # the reviewer looks elsewhere: Y is about what is on screen, not the item
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.current_tracklet() == 7, timeout=5_000)
    key(qtbot, window, Qt.Key.Key_Y)
    assert log_actions(db) == ["confirm"]
    assert identity_of(db, 2) != identity_of(db, 8)
    assert window.current_tracklet() == 7  # no item answered: the queue did not move on
