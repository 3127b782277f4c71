"""Opening: schema creation, versions and migrations, bad paths, locks, read-only."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from reid.errors import StoreError, StoreLockedError
from reid.store import Store, schema


def test_new_file_has_schema_version_wal_and_foreign_keys(tmp_path):
    with Store(tmp_path / "new.db") as s:
        assert s.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"cameras", "videos", "tracklets", "detections", "thumbnails", "identities", "identity_members",
                "cannot_link", "review_log", "meta"} <= tables
    with Store(tmp_path / "new.db") as s:  # reopening keeps it
        assert s.get_meta("schema_version") == str(schema.SCHEMA_VERSION)


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")}


def test_older_version_is_migrated_to_the_same_schema_as_a_new_file(tmp_path):
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(schema.DDL_V1)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO cameras(name) VALUES ('cam1')")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert [c.name for c in s.cameras()] == ["cam1"]  # data kept
        migrated = _indexes(s.conn)
    with Store(tmp_path / "fresh.db") as s:
        assert _indexes(s.conn) == migrated


def test_migration_hook_runs_each_step(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION - 1, "ALTER TABLE cameras ADD COLUMN site TEXT;")
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(schema.DDL_V1)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
        cols = [r[1] for r in s.conn.execute("PRAGMA table_info(cameras)")]
        assert "site" in cols


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer") as err:
            Store(path, readonly=readonly)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is a text file, not SQLite\n" * 100)
    with pytest.raises(StoreError, match="not a SQLite database") as err:
        Store(path)
    assert str(err.value) == f"{path}: not a SQLite database"
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(path, readonly=True)


def test_foreign_sqlite_file(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE stuff (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a reid database"):
        Store(path)


def test_missing_folder(tmp_path):
    path = tmp_path / "nope" / "s.db"
    with pytest.raises(StoreError) as err:
        Store(path)
    assert str(err.value) == f"{path}: cannot create database (folder missing or not writable)"
    assert not path.parent.exists()


def test_unwritable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as if chmod 500 (root ignores modes)
    with pytest.raises(StoreError) as err:
        Store(folder / "s.db")
    assert str(err.value) == f"{folder / 's.db'}: cannot create database (folder missing or not writable)"


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_readonly_never_creates(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="no such database"):
        Store(path, readonly=True)
    assert not path.exists()


def test_readonly_cannot_write(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    with Store(path, readonly=True) as s:
        assert s.readonly
        assert s.counts()["tracklets"] == 0
        with pytest.raises(StoreError, match="read-only"):
            s.set_meta("k", "v")
        with pytest.raises(StoreError, match="read-only"):
            s.annotate(1, "x")
        with pytest.raises(sqlite3.OperationalError):  # the connection itself refuses too
            s.conn.execute("INSERT INTO meta VALUES ('a', 'b')")


def test_locked_database_raises_store_locked_error(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreLockedError, match="locked") as err:
            Store(path, timeout=0.05)
        assert isinstance(err.value, StoreError) and str(path) in str(err.value)
        with Store(path, readonly=True) as s:  # the GUI's fallback: reading still works under WAL
            assert s.counts()["tracklets"] == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    Store(path, timeout=0.05).close()


def test_write_while_another_writer_holds_the_lock(tmp_path):
    path = tmp_path / "s.db"
    with Store(path, timeout=0.05) as s:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreLockedError):
                s.set_meta("k", "v")
        finally:
            other.execute("ROLLBACK")
            other.close()
        s.set_meta("k", "v")
        assert s.get_meta("k") == "v"


def test_closed_store(tmp_path):
    s = Store(tmp_path / "s.db")
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.counts()


def test_v2_database_gains_link_reasons_and_keeps_its_undo_history(tmp_path):
    """A v2 file (no identity_members.reason; review-log images with five member columns) opens as v3, and an
    edit logged before the upgrade still undoes and redoes."""
    from store_helpers import make_tracklet, video

    from reid.store import LinkProposal

    path = tmp_path / "v2.db"
    with Store(path) as s:
        s.commit_video(video(), [make_tracklet(1), make_tracklet(2, first_frame=10)])
        s.apply_links([[LinkProposal(1), LinkProposal(2, 0.2, 0.6)]])
        s.reject(2)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE identity_members DROP COLUMN reason")
    (payload,) = conn.execute("SELECT payload FROM review_log").fetchone()
    image = json.loads(payload)
    for side in ("before", "after"):
        image[side]["identity_members"] = [row[:5] for row in image[side]["identity_members"]]
    conn.execute("UPDATE review_log SET payload = ?", (json.dumps(image),))
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.get_meta("schema_version") == str(schema.SCHEMA_VERSION) == "3"
        assert s.tracklet(2).reason is None
        joined = s.tracklet(1).identity_id
        assert s.tracklet(2).identity_id != joined
        assert s.undo() == "reject"
        assert (s.tracklet(2).identity_id, s.tracklet(2).cost, s.tracklet(2).reason) == (joined, 0.2, None)
        assert s.redo() == "reject" and s.tracklet(2).identity_id != joined
