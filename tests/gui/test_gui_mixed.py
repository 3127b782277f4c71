"""The window's work queue asks about a mixed-looking identity: Y splits its group off (kept apart from the
rest), N confirms it as one person; either way the queue moves on and the item does not come back."""

from __future__ import annotations

import pytest
from gui_helpers import identity_of, log_actions, open_db, settle
from PySide6.QtCore import Qt
from review_mixed_site import build_mixed_site

from reid.link.review_queue import review_items
from reid.store import Store

NEXT = (Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def key(qtbot, window, k, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, k, mod)
    settle(qtbot, window)  # queries, thumbnails and the decision's relink


@pytest.fixture
def site(qtbot, window, tmp_path):
    """Persons 0 and 2 in one identity: the queue's first item asks whether person 2's two tracklets are
    another person."""
    db = tmp_path / "site.db"
    with Store(db) as store:
        ids = build_mixed_site(store, tmp_path / "gt")
        item = review_items(store)[0]
    assert item.kind == "mixed" and set(item.group) == {ids["cam1", 2], ids["cam2", 2]}
    open_db(qtbot, window, db)
    window.activateWindow()
    return window, db, ids, item


def test_y_splits_the_mixed_identity_in_two_kept_apart(qtbot, site):
    window, db, ids, item = site
    key(qtbot, window, *NEXT)
    assert (window.current_identity(), window.current_tracklet()) == (item.identity, item.tracklet)
    status = window.status_label.text()
    assert f"looks mixed ({len(review_items_of(db))} in the queue): identity #{item.identity}" in status
    assert f"tracklets {list(item.group)} vs the rest" in status and "Y splits them off" in status
    key(qtbot, window, Qt.Key.Key_Y)
    assert log_actions(db) == ["split_group"]
    p0, p2 = (ids["cam1", 0], ids["cam2", 0]), (ids["cam1", 2], ids["cam2", 2])
    assert (
        identity_of(db, p2[0]) == identity_of(db, p2[1]) != identity_of(db, p0[0]) == identity_of(db, p0[1])
    )
    with Store(db, readonly=True) as s:
        cannot = s.link_constraints().cannot_link
    assert {(min(a, b), max(a, b)) for a in p0 for b in p2} <= cannot
    assert "looks mixed" not in window.status_label.text()  # the queue moved on


def test_n_confirms_the_identity_and_the_item_does_not_come_back(qtbot, site):
    window, db, ids, item = site
    key(qtbot, window, *NEXT)
    assert window.current_tracklet() == item.tracklet
    key(qtbot, window, Qt.Key.Key_N)
    assert log_actions(db) == ["confirm_group"]
    with Store(db, readonly=True) as s:
        rows = s.identity_tracklets(item.identity)
    assert len(rows) == 4 and all(r.state == "confirmed" for r in rows)
    assert "looks mixed" not in window.status_label.text()
    assert not [i for i in review_items_of(db) if i.kind == "mixed"]


def review_items_of(db):
    with Store(db, readonly=True) as s:
        return review_items(s)
