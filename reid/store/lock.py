"""One writer per database: an OS lock (``fcntl.flock``) on ``<db>.lock`` next to the database file.

``reid process`` and ``reid relink`` hold it for their whole run, so a second writer on the same database is
refused at once (or waits, ``wait=True``) instead of redoing the first one's work and committing over it. The
file holds who has it (pid, host, command, since when) as text, for the refusal message; the lock itself is
the kernel's and ends with the process that holds it, so a file left by a killed process never blocks. Readers
(the review app, ``reid export``, ``reid adapt``) do not take it: SQLite's own locking serialises their short
transactions with the writer's.

Where ``fcntl`` is missing (Windows) the lock is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reid.errors import StoreLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def lock_path(db: str | Path) -> Path:
    """The lock file of database ``db``: ``site.db`` -> ``site.db.lock``."""
    db = Path(db)
    return db.with_name(db.name + ".lock")


def holder(db: str | Path) -> str:
    """Who holds ``db``'s writer lock, as the holder wrote it (``pid 12 on host, since ...: reid process ...``);
    ``"another process"`` when the file cannot be read."""
    try:
        text = lock_path(db).read_text(errors="replace").strip()
    except OSError:
        text = ""
    return text or "another process"


def _describe(command: str) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"pid {os.getpid()} on {socket.gethostname()}, since {since}: {command}"


def _open_locked(path: Path, wait: bool) -> int | None:
    """An fd of ``path`` holding its exclusive flock, or None when another process holds it (``wait=False``).

    The file is unlinked on release, so the fd locked may be of a file already removed (its holder released it
    between our open and our flock): then open the new file and try again."""
    assert fcntl is not None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not O_TRUNC: the holder's text stays readable
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def writer_lock(db: str | Path, command: str | None = None, wait: bool = False) -> Iterator[None]:
    """Hold ``db``'s writer lock for the block.

    Raises ``StoreLockedError`` naming the holder when another process has it, unless ``wait``: then logs who
    holds it and waits until it is free. ``command``: what this process is, for a refused one's message
    (default: this process's command line)."""
    if fcntl is None:
        yield
        return
    path = lock_path(db)
    try:
        fd = _open_locked(path, wait=False)
        if fd is None:
            who = holder(db)
            if not wait:
                raise StoreLockedError(
                    f"{db}: in use by {who}; one writer per database: wait for it to finish, or pass --wait"
                )
            log.warning("%s: in use by %s; waiting for it to finish (Ctrl-C to give up)", db, who)
            fd = _open_locked(path, wait=True)
            assert fd is not None
    except OSError as exc:
        raise StoreLockedError(f"{path}: cannot create the database's lock file ({exc.strerror})") from None
    try:
        os.ftruncate(fd, 0)
        os.write(
            fd, (_describe(command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])) + "\n").encode()
        )
        yield
    finally:
        try:
            os.unlink(path)  # while still holding the lock: nobody can have it locked meanwhile
        except OSError:
            pass
        os.close(fd)
