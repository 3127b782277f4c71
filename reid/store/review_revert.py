"""Reverting one earlier review edit without undoing the edits after it.

``revert`` writes the "before" image of a log entry (``reid.store.review``) back over the rows it changed, as a
new edit (action "revert"), so the revert is itself undoable. An entry logs more rows than it changes (the
identity a reject leaves, every member of the component its relink saw); only the rows whose before and after
differ count. It is refused (``ReviewError``, nothing written) unless the entry is applied and in the current
undo history, and its change still holds: every changed row equals its "after" row (a row only in "before" is
still absent), and no tracklet outside it is in an identity the revert would delete. When the rows changed, the message names the newest later edit that logged
one of them: that one is to be reverted first. An entry extended by its relink (``review_extend``) holds the
relink's rows too, so reverting it restores the state before the decision.
"""

from __future__ import annotations

import json
import sqlite3

from reid.errors import ReviewError
from reid.store.queries import undo_floor
from reid.store.review import _COLUMNS, _KEYS, Image, _Edit, _restore, _snapshot
from reid.store.review_extend import _keys

Keys = dict[str, set[tuple]]


def revert(conn: sqlite3.Connection, entry_id: int) -> None:
    """Revert review-log entry ``entry_id`` alone, as a new edit (see the module docstring)."""
    entry_id = int(entry_id)
    row = conn.execute("SELECT action, payload, undone FROM review_log WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        raise ReviewError(f"no review log entry {entry_id}")
    payload = json.loads(row[1])
    what = str(payload.get("description", row[0]))
    if row[2]:
        raise ReviewError(f"cannot revert '{what}': it is undone already")
    if entry_id <= undo_floor(conn):
        raise ReviewError(
            f"cannot revert '{what}': the site was linked or committed again since, which started a "
            "new undo history"
        )
    before, after = _what_changed(payload["before"], payload["after"])
    keys = {t: _keys(before)[t] | _keys(after)[t] for t in _COLUMNS}
    if not any(keys.values()):
        raise ReviewError(f"cannot revert '{what}': it changed nothing")
    changed = _changed(conn, keys, after) | _stranded(conn, keys, before, after)
    if changed:
        raise ReviewError(f"cannot revert '{what}': {_since(conn, entry_id, changed)}")
    with _Edit(
        conn,
        "revert",
        f"revert '{what}'",
        identities=[k[0] for k in keys["identities"]],
        tracklets=[k[0] for k in keys["identity_members"]],
        pairs=[(k[0], k[1]) for k in keys["cannot_link"]],
    ):
        conn.execute(
            "SAVEPOINT revert"
        )  # a refusal found after writing leaves nothing, even outside a transaction
        try:
            _write_back(conn, entry_id, what, keys, before, after)
        except BaseException:
            conn.execute("ROLLBACK TO revert")
            raise
        finally:
            conn.execute("RELEASE revert")


def _what_changed(before: Image, after: Image) -> tuple[Image, Image]:
    """The rows of both images whose before and after differ (or exist in one only). An entry logs more than it
    changes: the identity a reject leaves, every member of the component its relink saw; those rows are
    neither checked nor written back, so a later edit of them does not block the revert."""
    out_before: Image = {}
    out_after: Image = {}
    for table in _COLUMNS:
        n = _KEYS[table]
        b = {tuple(r[:n]): list(r) for r in before.get(table, [])}
        a = {tuple(r[:n]): list(r) for r in after.get(table, [])}
        differ = {k for k in b.keys() | a.keys() if b.get(k) != a.get(k)}
        out_before[table] = [b[k] for k in sorted(differ) if k in b]
        out_after[table] = [a[k] for k in sorted(differ) if k in a]
    return out_before, out_after


def _write_back(
    conn: sqlite3.Connection, entry_id: int, what: str, keys: Keys, before: Image, after: Image
) -> None:
    """The "before" image over the logged rows; ReviewError when that would break a foreign key or a veto."""
    try:
        _restore(conn, before, after)
    except sqlite3.IntegrityError:  # a row it restores refers to one a later edit removed
        raise ReviewError(f"cannot revert '{what}': the rows changed since") from None
    moved = {k[0] for k in keys["identity_members"]} | {t for k in keys["cannot_link"] for t in k}
    vetoed = _vetoed_together(conn, sorted(moved))
    if vetoed:
        a, b, iid = vetoed
        rows = {("identity_members", (a,)), ("identity_members", (b,)), ("cannot_link", (a, b))}
        raise ReviewError(
            f"cannot revert '{what}': tracklets {a} and {b} would share identity {iid} with a veto between "
            f"them; {_since(conn, entry_id, rows)}"
        )


def _changed(conn: sqlite3.Connection, keys: Keys, after: Image) -> set[tuple[str, tuple]]:
    """``(table, key)`` of the logged rows that no longer equal the "after" image."""
    now = _snapshot(conn, keys)
    out: set[tuple[str, tuple]] = set()
    for table in _COLUMNS:
        n = _KEYS[table]
        want = {tuple(r[:n]): list(r) for r in after[table]}
        have = {tuple(r[:n]): list(r) for r in now[table]}
        for key in keys[table]:
            a, h = want.get(key), have.get(key)
            if (a is None) != (h is None) or (a is not None and h is not None and h[: len(a)] != a):
                out.add((table, key))
    return out


def _stranded(conn: sqlite3.Connection, keys: Keys, before: Image, after: Image) -> set[tuple[str, tuple]]:
    """Memberships outside the entry in an identity the revert would delete (one it created)."""
    created = sorted(_keys(after)["identities"] - _keys(before)["identities"])
    out: set[tuple[str, tuple]] = set()
    for (iid,) in created:
        for (t,) in conn.execute("SELECT tracklet_id FROM identity_members WHERE identity_id = ?", (iid,)):
            if (int(t),) not in keys["identity_members"]:
                out.add(("identity_members", (int(t),)))
    return out


def _since(conn: sqlite3.Connection, entry_id: int, changed: set[tuple[str, tuple]]) -> str:
    """Which later applied edit changed the rows: the newest one that logged any of them."""
    for (payload,) in conn.execute(
        "SELECT payload FROM review_log WHERE id > ? AND undone = 0 ORDER BY id DESC", (entry_id,)
    ):
        later = json.loads(payload)
        logged = {
            (t, k)
            for image in (later["before"], later["after"])
            for t, ks in _keys(image).items()
            for k in ks
        }
        if logged & changed:
            return f"'{later.get('description', '')}' changed the same rows since; revert that first"
    return "the rows changed since"


def _vetoed_together(conn: sqlite3.Connection, tracklets: list[int]) -> tuple[int, int, int] | None:
    """A cannot_link pair touching ``tracklets`` whose two tracklets are in one identity, with it."""
    for t in tracklets:
        row = conn.execute(
            "SELECT c.tracklet_a, c.tracklet_b, a.identity_id FROM cannot_link c "
            "JOIN identity_members a ON a.tracklet_id = c.tracklet_a "
            "JOIN identity_members b ON b.tracklet_id = c.tracklet_b "
            "WHERE (c.tracklet_a = ? OR c.tracklet_b = ?) AND a.identity_id = b.identity_id LIMIT 1",
            (t, t),
        ).fetchone()
        if row is not None:
            return int(row[0]), int(row[1]), int(row[2])
    return None
