"""The ``Store``: one SQLite connection (WAL, foreign keys, busy timeout) and the public API, which delegates
to ``writer`` (pipeline writes, linking), ``queries`` (reads) and ``review`` (edits, undo/redo).

Every write runs in one ``BEGIN IMMEDIATE`` transaction: it is applied whole or not at all. A ``Store`` may be
shared between threads; its calls are serialised by a lock.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import numpy as np

from reid.errors import StoreError, StoreLockedError
from reid.store import embeddings, queries, review, review_revert, schema, writer
from reid.store.rows import (
    CameraRow,
    DetectionRow,
    IdentitySummary,
    LinkConstraints,
    LinkProposal,
    RecordSource,
    ReviewLogRow,
    TrackletFeature,
    TrackletRecord,
    TrackletRow,
    VideoRecord,
    VideoRow,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0  # how long a write waits for another writer's transaction before StoreLockedError
NOTICE_S = 2.0  # a write that has waited this long for another connection's lock says so, then waits on
WAIT_SLICE_S = 0.25  # SQLite's busy wait runs in slices this long (signals are handled between them)
DISK_FULL_HINT = ("disk full; nothing of this write was saved, earlier commits (finished videos) are kept: free "
                  "space and run the same command again")


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_full(exc: sqlite3.Error) -> bool:
    return "disk is full" in str(exc).lower()  # SQLITE_FULL: "database or disk is full"


def _error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The one-line ``StoreError`` for a failed statement (``StoreLockedError`` for a lock)."""
    if _is_locked(exc):
        return StoreLockedError(f"{path}: database is locked by another program")
    if _is_full(exc):
        return StoreError(f"{path}: {DISK_FULL_HINT}")
    return StoreError(f"{path}: {exc}")


def _set_busy_timeout(conn: sqlite3.Connection, seconds: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def begin(conn: sqlite3.Connection, path: Path, timeout: float) -> None:
    """``BEGIN IMMEDIATE``, waiting up to ``timeout`` s for another connection's write lock; once the wait
    passes ``NOTICE_S`` it logs that it waits (a long wait is never silent). Raises ``StoreLockedError``.

    SQLite waits in slices of ``WAIT_SLICE_S``: its own wait is C code that a signal does not interrupt, so
    Ctrl-C or SIGTERM is acted on between slices. Leaves the busy timeout at ``timeout`` (for reads)."""
    started = time.monotonic()
    noticed = False
    try:
        while True:
            left = timeout - (time.monotonic() - started)
            _set_busy_timeout(conn, max(0.0, min(left, WAIT_SLICE_S)))
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise _error(path, exc) from None
            waited = time.monotonic() - started
            if waited >= timeout:
                raise StoreLockedError(f"{path}: database is locked by another program (waited {waited:.0f} s); "
                                       "close the program that writes it and run again")
            if not noticed and waited >= min(NOTICE_S, timeout / 2):
                log.warning("%s: another program is writing this database; waiting up to %.0f s for it", path,
                            timeout)
                noticed = True
    finally:
        _set_busy_timeout(conn, timeout)


def connect(path: Path, readonly: bool, timeout: float = DEFAULT_TIMEOUT_S) -> sqlite3.Connection:
    """Open ``path`` and check it is a store of a version this code reads; create or migrate unless read-only.

    Raises ``StoreError`` (one line naming the file) or ``StoreLockedError``.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a database")
    if readonly and not path.exists():
        raise StoreError(f"{path}: no such database")
    if not readonly and not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise StoreError(f"{path}: cannot create database (folder missing or not writable)")
    if not readonly and path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"{path}: file is not writable (open it read-only)")
    try:
        if readonly:
            uri = f"file:{quote(str(path.resolve()))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open database ({exc})") from None
    sides = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [side.exists() for side in sides]
    try:
        _prepare(conn, path, readonly, timeout)
    except BaseException:
        conn.close()
        _remove_new_side_files(sides, existed)
        raise
    return conn


def _remove_new_side_files(sides: list[Path], existed: list[bool]) -> None:
    """A refused file is left as it was: the empty ``-wal`` and its ``-shm`` that SQLite creates when it opens a
    WAL-mode file (even read-only) go again, when neither was there before and the ``-wal`` holds nothing."""
    wal, shm = sides
    if any(existed) or (wal.exists() and wal.stat().st_size > 0):
        return
    wal.unlink(missing_ok=True)
    shm.unlink(missing_ok=True)


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool, timeout: float) -> None:
    """Check the file is ours (reading only: another program's file is left byte-identical when refused), then
    switch a writable one to WAL (which writes the file header) and create or migrate its schema."""
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        version = schema.read_version(conn)  # ValueError for another program's database
        if version is not None and version > schema.SCHEMA_VERSION:
            raise ValueError(f"schema version {version} is newer than this program's "
                             f"{schema.SCHEMA_VERSION}; upgrade reid")
        if readonly:
            if version is None:
                raise StoreError(f"{path}: empty file, not a reid database")
            if version < schema.SCHEMA_VERSION:
                raise StoreError(f"{path}: schema version {version} needs an upgrade, which any command "
                                  "that writes it does (`reid review` on it, or `reid relink`); nothing was changed")
            return
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a crash loses at most the last commit
        schema.create_or_migrate(conn)
        begin(conn, path, timeout)  # fails now, not at the first edit, when another writer holds the file
        conn.execute("ROLLBACK")
    except ValueError as exc:
        raise StoreError(f"{path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreError(f"{path}: not a SQLite database") from None
        raise _error(path, exc) from None


@contextmanager
def transaction(conn: sqlite3.Connection, path: Path, timeout: float = DEFAULT_TIMEOUT_S
                ) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises. ``timeout``: seconds
    to wait for another connection's write lock (``begin``). A full disk is a one-line ``StoreError``."""
    begin(conn, path, timeout)
    try:
        with conn:  # commit on success, rollback on any exception
            yield conn
    except sqlite3.OperationalError as exc:
        raise _error(path, exc) from None


def _commit_video(conn: sqlite3.Connection, video: VideoRecord, records: Sequence[TrackletRecord],
                  replace: bool) -> int | None:
    if not replace and queries.is_video_done(conn, video.camera, str(video.path)):
        return None
    return writer.commit_video(conn, video, records)


class Store:
    """The identity store of one SQLite file. See docs/store.md."""

    def __init__(self, path: str | Path, readonly: bool = False, timeout: float = DEFAULT_TIMEOUT_S):
        self.path = Path(path)
        self.readonly = readonly
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(self.path, readonly, timeout)

    # ------------------------------------------------------------------------------------------ plumbing
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, readonly={self.readonly})"

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (for reading only; writes go through ``write``)."""
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._conn

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` under the store's lock."""
        with self._lock:
            return fn(self.conn, *args)

    def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one write transaction."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only; cannot write")
        with self._lock, transaction(self.conn, self.path, self.timeout) as conn:
            return fn(conn, *args)

    # ------------------------------------------------------------------------------------ pipeline writes
    def camera_id(self, name: str, start_time: float = 0.0) -> int:
        if self.readonly:
            found = self.read(queries.camera_id, name)
            if found is None:
                raise StoreError(f"{self.path}: no camera {name!r}")
            return found
        return self.write(writer.camera_id, name, start_time)

    def is_video_done(self, camera: str, path: str) -> bool:
        return self.read(queries.is_video_done, camera, str(path))

    def commit_video(self, video: VideoRecord, tracklets: Sequence[TrackletRecord | RecordSource],
                     replace: bool = True) -> int | None:
        """Write ``video`` and its tracklets in one transaction; returns the video id. An earlier commit of the
        same file is replaced when ``replace`` (``--force``), else kept: nothing is written and None returned
        (checked inside the transaction, so a file another run committed meanwhile is never written over).
        Objects that are not ``TrackletRecord``s give theirs by ``record()``, before the transaction starts."""
        records = [t if isinstance(t, TrackletRecord) else t.record() for t in tracklets]
        return self.write(_commit_video, video, records, replace)

    def set_meta(self, key: str, value: str) -> None:
        self.write(writer.set_meta, key, value)

    def get_meta(self, key: str) -> str | None:
        return self.read(queries.get_meta, key)

    # -------------------------------------------------------------------------------------------- linking
    def tracklet_features(self) -> list[TrackletFeature]:
        return self.read(queries.tracklet_features)

    def link_constraints(self) -> LinkConstraints:
        return self.read(queries.link_constraints)

    def apply_links(self, groups: Sequence[Sequence[LinkProposal]]) -> None:
        self.write(writer.apply_links, groups)

    def tracklet_ids(self) -> list[int]:
        return self.read(embeddings.tracklet_ids)

    def replace_embeddings(self, vectors: Mapping[int, np.ndarray], embedder: str) -> int:
        return self.write(embeddings.replace_embeddings, vectors, embedder)

    # -------------------------------------------------------------------------------------------- queries
    def cameras(self) -> list[CameraRow]:
        return self.read(queries.cameras)

    def videos(self) -> list[VideoRow]:
        return self.read(queries.videos)

    def identity_summaries(self) -> list[IdentitySummary]:
        return self.read(queries.identity_summaries)

    def identity_tracklets(self, identity_id: int) -> list[TrackletRow]:
        return self.read(queries.identity_tracklets, identity_id)

    def tracklet(self, tracklet_id: int) -> TrackletRow:
        return self.read(queries.tracklet, tracklet_id)

    def detections(self, tracklet_id: int) -> list[DetectionRow]:
        return self.read(queries.detections, tracklet_id)

    def thumbnails(self, tracklet_id: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        return self.read(queries.thumbnails, tracklet_id, limit)

    def embedding(self, tracklet_id: int) -> np.ndarray | None:
        return self.read(queries.embedding, tracklet_id)

    def nearest_tracklets(self, tracklet_id: int, k: int = 20) -> list[tuple[TrackletRow, float]]:
        return self.read(queries.nearest_tracklets, tracklet_id, k)

    def review_queue(self) -> list[int]:
        return self.read(queries.review_queue)

    def counts(self) -> dict:
        return self.read(queries.counts)

    def link_costs(self) -> np.ndarray:
        return self.read(queries.link_costs)

    # --------------------------------------------------------------------------------------------- review
    def confirm(self, tracklet_id: int) -> None:
        self.write(review.confirm, tracklet_id)

    def reject(self, tracklet_id: int, against: Iterable[int] | None = None) -> int:
        """``against``: veto only these members of its identity (default: every other member)."""
        return self.write(review.reject, tracklet_id, None if against is None else list(against))

    def split_group(self, tracklet_ids: Iterable[int]) -> int:
        return self.write(review.split_group, list(tracklet_ids))

    def confirm_group(self, tracklet_ids: Iterable[int]) -> int:
        return self.write(review.confirm_group, list(tracklet_ids))

    def remove_veto(self, tracklet_a: int, tracklet_b: int) -> None:
        self.write(review.remove_veto, tracklet_a, tracklet_b)

    def revert(self, entry_id: int) -> None:
        """Revert one earlier edit alone, as a new edit (``review_revert``)."""
        self.write(review_revert.revert, entry_id)

    def decisions_made(self) -> int:
        return self.read(queries.decisions_made)

    def cannot_links(self, tracklet_ids: Iterable[int]) -> list[tuple[int, int]]:
        return self.read(queries.cannot_links_of, list(tracklet_ids))

    def merge(self, keep_id: int, other_id: int) -> None:
        self.write(review.merge, keep_id, other_id)

    def split(self, tracklet_id: int) -> int:
        return self.write(review.split, tracklet_id)

    def assign(self, tracklet_id: int, identity_id: int) -> None:
        self.write(review.assign, tracklet_id, identity_id)

    def annotate(self, identity_id: int, name: str, note: str = "") -> None:
        self.write(review.annotate, identity_id, name, note)

    def undo(self) -> str | None:
        return self.write(review.undo)

    def redo(self) -> str | None:
        return self.write(review.redo)

    def review_log(self) -> list[ReviewLogRow]:
        return self.read(queries.review_log)
