"""The store under faults: another program's file, a second writer, a lock held elsewhere, a full disk."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from store_helpers import make_tracklet, video

from reid.errors import StoreError, StoreLockedError
from reid.store import Store, writer
from reid.store.lock import lock_path, writer_lock


def test_foreign_sqlite_file_is_refused_and_left_byte_identical(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes(text) VALUES ('keep me')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a reid database"):
        Store(path)
    assert path.read_bytes() == before  # journal_mode=WAL would have rewritten the header
    assert not (tmp_path / "other.sqlite-wal").exists()


def test_a_video_already_done_is_not_committed_over(tmp_path):
    with Store(tmp_path / "s.db") as store:
        first = store.commit_video(video("cam1", "a.mp4"), [make_tracklet(1)])
        rows = store.conn.execute("SELECT id, track_id FROM tracklets").fetchall()
        # another run committed the file meanwhile: kept, nothing written
        assert (
            store.commit_video(video("cam1", "a.mp4"), [make_tracklet(7), make_tracklet(8)], replace=False)
            is None
        )
        assert store.conn.execute("SELECT id, track_id FROM tracklets").fetchall() == rows
        assert store.conn.execute("SELECT id FROM videos").fetchall() == [(first,)]
        # --force replaces it
        store.commit_video(video("cam1", "a.mp4"), [make_tracklet(7)], replace=True)
        assert [r[0] for r in store.conn.execute("SELECT track_id FROM tracklets")] == [7]


def test_disk_full_is_one_line_saying_what_is_kept_and_what_to_do(tmp_path, monkeypatch):
    def full(*args: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    with Store(tmp_path / "s.db") as store:
        store.commit_video(video("cam1", "a.mp4"), [make_tracklet(1)])
        monkeypatch.setattr(writer, "commit_video", full)
        with pytest.raises(StoreError) as err:
            store.commit_video(video("cam1", "b.mp4"), [make_tracklet(1)])
        message = str(err.value)
        assert "\n" not in message and "disk full" in message
        assert "finished videos" in message and "run the same command again" in message
        assert [v.path for v in store.videos()] == ["a.mp4"]


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    db = tmp_path / "site.db"
    with writer_lock(db, command="reid process --db site.db"):
        assert "reid process --db site.db" in lock_path(db).read_text()
        with pytest.raises(StoreLockedError) as err:
            with writer_lock(db, command="reid relink"):
                pass
    message = str(err.value)
    assert "\n" not in message and f"pid {os.getpid()}" in message and "reid process --db site.db" in message
    assert "since" in message and "--wait" in message
    assert not lock_path(db).exists()  # released and removed
    with writer_lock(db):  # free again
        pass


HOLD = textwrap.dedent("""
    import sys, time
    from reid.store.lock import writer_lock
    with writer_lock(sys.argv[1], command="holder"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_lock_of_another_process_is_waited_for_and_a_dead_holder_never_blocks(tmp_path, caplog):
    db = tmp_path / "site.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "1.5"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(StoreLockedError, match=f"pid {holder.pid} .*holder"):
        with writer_lock(db):
            pass
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="reid.store.lock"), writer_lock(db, wait=True):
        waited = time.monotonic() - t0
    assert 0.3 < waited < 30 and "waiting for it to finish" in caplog.text
    holder.wait()

    killed = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "60"], stdout=subprocess.PIPE, text=True)
    assert killed.stdout is not None and killed.stdout.readline().strip() == "held"
    killed.kill()
    killed.wait()
    assert lock_path(db).exists()  # its file stays behind, with its text ...
    with writer_lock(db):  # ... but the kernel's lock died with it
        pass


def test_sqlite_lock_held_elsewhere_is_waited_for_with_a_message(tmp_path, caplog, monkeypatch):
    import reid.store.db as db_module

    monkeypatch.setattr(db_module, "NOTICE_S", 0.2)
    path = tmp_path / "s.db"
    with Store(path, timeout=1.0) as store, caplog.at_level(logging.WARNING, logger="reid.store"):
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program writes
        t0 = time.monotonic()
        with pytest.raises(StoreLockedError, match="locked by another program"):
            store.set_meta("k", "v")
        assert time.monotonic() - t0 >= 0.9
    assert "another program is writing this database; waiting up to 1 s" in caplog.text
    other.execute("ROLLBACK")
    other.close()


def test_a_refused_damaged_file_gets_no_side_files(tmp_path) -> None:
    """Opening a truncated WAL-mode database read-only is refused and leaves no ``-wal`` / ``-shm`` behind."""
    from reid.errors import StoreError
    from reid.store import Store

    good = tmp_path / "good.db"
    Store(good).close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError):
        Store(damaged, readonly=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
