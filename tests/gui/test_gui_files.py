"""Opening files: bad files and newer schemas are refused with a dialog, a locked database opens read-only
with a banner, an empty database shows the empty state, missing videos are named; recent files; export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from gui_helpers import open_db, settle
from PySide6.QtCore import Qt

import reid.store
from reid.store import Store


def test_not_a_database_is_refused_with_a_dialog(window, dialogs, tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert not window.open_database(bad)
    assert len(dialogs.errors()) == 1
    assert "notes.db" in dialogs.errors()[0] and "not a SQLite database" in dialogs.errors()[0]
    assert window.store is None
    assert window.empty_state.title() == "No database open"


def test_missing_file_is_refused(window, dialogs, tmp_path):
    assert not window.open_database(tmp_path / "nope.db")
    assert "file not found" in dialogs.errors()[0]
    assert not (tmp_path / "nope.db").exists()  # opening never creates a database


def test_newer_schema_is_refused_with_the_store_message(window, dialogs, video_db):
    con = sqlite3.connect(video_db)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    assert not window.open_database(video_db)
    message = dialogs.errors()[0]
    assert "newer" in message and "999" in message


def test_failed_open_keeps_the_current_database(qtbot, window, dialogs, video_db, tmp_path):
    open_db(qtbot, window, video_db)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"x" * 4096)
    assert not window.open_database(bad)
    assert window.store is not None and window.store.path == video_db
    assert window.identity_model.rowCount() == 2


def test_locked_database_opens_read_only_with_banner(qtbot, window, dialogs, video_db, monkeypatch):
    class QuickStore(Store):  # do not wait the default 5 s for the other writer
        def __init__(self, path, readonly=False):
            super().__init__(path, readonly=readonly, timeout=0.1)

    monkeypatch.setattr(reid.store, "Store", QuickStore)
    holder = sqlite3.connect(video_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is writing
    try:
        open_db(qtbot, window, video_db)
        assert window.store.readonly
        assert window.banner.isVisible()
        assert "locked" in window.banner.text() and "read-only" in window.banner.text()
        assert "[read-only]" in window.windowTitle()
        for name in ("confirm", "reject", "merge", "split", "annotate", "assign"):
            assert not window.actions_by_name[name].isEnabled(), name
        assert window.actions_by_name["next"].isEnabled()
        qtbot.keyClick(window, Qt.Key.Key_Y)
        settle(qtbot, window)
        assert window.review.count() == 0
        assert window.identity_model.rowCount() == 2  # reading works
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store(video_db, readonly=True) as s:
        assert s.review_log() == []


def test_empty_database_shows_empty_state(qtbot, window, tmp_path):
    db = tmp_path / "empty.db"
    Store(db).close()
    open_db(qtbot, window, db)
    assert window.stack.currentWidget() is window.empty_state
    assert window.empty_state.title() == "Nothing to review yet"
    assert "empty.db" in window.empty_state.text()


def test_missing_video_is_named_in_banner_and_thumbnails_still_work(qtbot, window, video_db):
    missing = video_db.parent / "camB.mp4"
    missing.unlink()
    open_db(qtbot, window, video_db)
    assert window.banner.isVisible()
    assert str(missing) in window.banner.text()
    assert "camA.mp4" not in window.banner.text()
    settle(qtbot, window)
    assert window.current_tracklet() == 3  # on camB
    assert window.thumbnails.has(3) and window.thumbnails.images(3)
    assert "video missing" in window.viewer.canvas.caption
    assert window.viewer.canvas.image is not None  # the best crop instead of the frame


def test_video_moved_along_with_the_database_is_found(qtbot, window, tmp_path):
    from gui_helpers import make_video_db

    src = tmp_path / "a"
    src.mkdir()
    make_video_db(src)
    moved = tmp_path / "b"
    src.rename(moved)
    open_db(qtbot, window, moved / "video.db")
    assert not window.banner.isVisible()


def test_recent_files_are_remembered(qtbot, window, video_db, synthetic_db):
    open_db(qtbot, window, video_db)
    open_db(qtbot, window, synthetic_db)
    assert window.recent_files()[:2] == [str(synthetic_db.resolve()), str(video_db.resolve())]
    window.settings.sync()
    assert Path(window.settings.fileName()).is_file()


def test_file_open_dialog(qtbot, window, dialogs, video_db):
    dialogs.open_path = str(video_db)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.actions_by_name["open"].trigger()
    assert window.store.path == video_db


@pytest.mark.parametrize("kind", ["csv", "json", "all"])
def test_export_into_a_chosen_folder(qtbot, window, dialogs, video_db, tmp_path, kind):
    pytest.importorskip("reid.export")
    open_db(qtbot, window, video_db)
    out = tmp_path / "out"
    out.mkdir()
    dialogs.folder = str(out)
    window.actions_by_name[f"export_{kind}"].trigger()
    settle(qtbot, window)
    assert "exported" in window.status_label.text(), (window.status_label.text(), dialogs.errors())
    assert any(out.rglob("*"))


def test_export_cancelled_writes_nothing(qtbot, window, dialogs, video_db):
    open_db(qtbot, window, video_db)
    dialogs.folder = None
    window.actions_by_name["export_csv"].trigger()
    assert "export" not in window.status_label.text()
