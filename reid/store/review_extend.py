"""Extending a review edit: more changes that belong to one decision (the relink it starts,
``reid.link.relink_component``) written into that decision's ``review_log`` entry, so that one undo reverts
both and one redo re-applies both (the row images of ``reid.store.review``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import TypeVar

from reid.errors import ReviewError
from reid.store.queries import undo_floor
from reid.store.review import _COLUMNS, _KEYS, Image, _snapshot

T = TypeVar("T")


def newest_entry(conn: sqlite3.Connection) -> int | None:
    """Id of the edit ``undo`` would revert next (the newest not undone in the current history), or None."""
    row = conn.execute(
        "SELECT MAX(id) FROM review_log WHERE undone = 0 AND id > ?", (undo_floor(conn),)
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _entry(conn: sqlite3.Connection, entry_id: int) -> dict:
    if newest_entry(conn) != entry_id:
        raise ReviewError(f"review log entry {entry_id} is not the newest edit; it cannot be extended")
    row = conn.execute("SELECT payload FROM review_log WHERE id = ?", (entry_id,)).fetchone()
    return dict(json.loads(row[0]))


def _keys(image: Image) -> dict[str, set[tuple]]:
    return {table: {tuple(r[: _KEYS[table]]) for r in image.get(table, [])} for table in _COLUMNS}


def touched(conn: sqlite3.Connection, entry_id: int) -> tuple[set[int], set[int]]:
    """``(tracklets, identities)`` whose rows edit ``entry_id`` logged (before or after): what it changed."""
    payload = json.loads(
        conn.execute("SELECT payload FROM review_log WHERE id = ?", (entry_id,)).fetchone()[0]
    )
    tracklets: set[int] = set()
    identities: set[int] = set()
    for image in (payload["before"], payload["after"]):
        identities.update(int(r[0]) for r in image["identities"])
        for r in image["identity_members"]:
            tracklets.add(int(r[0]))
            identities.add(int(r[1]))
        for r in image["cannot_link"]:
            tracklets.update((int(r[0]), int(r[1])))
    return tracklets, identities


def extend_entry(
    conn: sqlite3.Connection,
    entry_id: int,
    tracklets: Iterable[int],
    identities: Iterable[int],
    write: Callable[[], T],
) -> T:
    """Run ``write()`` (more changes belonging to edit ``entry_id``, e.g. the relink its decision starts) and add
    the rows it may change to that edit's images, so one undo reverts both and one redo re-applies both.

    ``tracklets``/``identities``: the memberships and identities ``write`` may change; identities that the
    memberships of ``tracklets`` point to afterwards (new ones included) are added by themselves. The entry
    must be the newest edit (``newest_entry``), else ReviewError. Keys already in the entry keep its "before"
    rows (as they were before the decision); new keys are snapshotted now, before ``write``."""
    payload = _entry(conn, entry_id)
    logged = {t: _keys(payload["before"])[t] | _keys(payload["after"])[t] for t in _COLUMNS}
    tracklets = list(tracklets)
    keys: dict[str, set[tuple]] = {
        "identities": {(int(i),) for i in identities},
        "identity_members": {(int(t),) for t in tracklets},
        "cannot_link": set(),
    }
    fresh = {t: keys[t] - logged[t] for t in _COLUMNS}
    before_fresh = _snapshot(conn, fresh)
    top = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM identities").fetchone()[0])
    result = write()
    named = keys["identities"] | logged["identities"]
    for start in range(0, len(tracklets), 500):  # stay under SQLite's bound-variable limit
        chunk = tracklets[start : start + 500]
        marks = ",".join("?" * len(chunk))
        keys["identities"].update(
            (int(r[0]),)
            for r in conn.execute(
                f"SELECT DISTINCT identity_id FROM identity_members WHERE tracklet_id IN ({marks})", chunk
            )
        )
    unnamed = sorted(i for (i,) in keys["identities"] - named if i <= top)
    if unnamed:  # an identity that existed before but was not snapshotted: undo could not restore it
        raise ReviewError(f"edit {entry_id} was extended into identities {unnamed} it did not name")
    payload["before"] = {t: payload["before"][t] + before_fresh[t] for t in _COLUMNS}
    payload["after"] = _snapshot(conn, {t: logged[t] | keys[t] for t in _COLUMNS})
    conn.execute(
        "UPDATE review_log SET payload = ? WHERE id = ?",
        (json.dumps(payload, separators=(",", ":")), entry_id),
    )
    return result
