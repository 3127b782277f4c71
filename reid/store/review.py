"""Review edits and their undo/redo.

Each edit runs inside the caller's write transaction and appends one ``review_log`` row whose JSON payload
holds a description and the *row images* of everything the edit may touch, before and after:
``{"identities": [[id, name, note, status], ...], "identity_members": [[tracklet_id, identity_id, cost,
confidence, state, reason], ...], "cannot_link": [[a, b], ...]}`` (edits logged before schema v3 have no
``reason``: their member rows are five long). Undo writes the "before" image back (rows only in
"after" are deleted), redo the "after" image, so both restore the tables exactly. Edits form a stack: undo
reverts the newest not-undone edit, redo re-applies the oldest undone one, a new edit drops the undone ones.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from reid.errors import ReviewError
from reid.store.queries import undo_floor
from reid.store.writer import insert_id

_COLUMNS = {
    "identities": ("id", "name", "note", "status"),
    "identity_members": ("tracklet_id", "identity_id", "cost", "confidence", "state", "reason"),
    "cannot_link": ("tracklet_a", "tracklet_b"),
}
_KEYS = {"identities": 1, "identity_members": 1, "cannot_link": 2}  # leading columns forming the key

Image = dict[str, list[list]]


class _Edit:
    """Collects the keys an edit touches, snapshots them before and after, and logs the edit."""

    def __init__(self, conn: sqlite3.Connection, action: str, description: str, identities: Iterable[int] = (),
                 tracklets: Iterable[int] = (), pairs: Iterable[tuple[int, int]] = ()):
        self.conn, self.action, self.description = conn, action, description
        self.keys: dict[str, set[tuple]] = {
            "identities": {(i,) for i in identities},
            "identity_members": {(t,) for t in tracklets},
            "cannot_link": {tuple(p) for p in pairs},
        }
        self.before = _snapshot(conn, self.keys)  # keys added later did not exist before the edit

    def new_identity(self) -> int:
        iid = insert_id(self.conn, "INSERT INTO identities DEFAULT VALUES")
        self.keys["identities"].add((iid,))
        return iid

    def __enter__(self) -> _Edit:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            return
        payload = {"description": self.description, "before": self.before, "after": _snapshot(self.conn, self.keys)}
        self.conn.execute("DELETE FROM review_log WHERE undone = 1")  # a new edit clears the redo history
        self.conn.execute("INSERT INTO review_log(action, payload) VALUES (?, ?)",
                          (self.action, json.dumps(payload, separators=(",", ":"))))


def _snapshot(conn: sqlite3.Connection, keys: dict[str, set[tuple]]) -> Image:
    image: Image = {}
    for table, cols in _COLUMNS.items():
        nkey = _KEYS[table]
        where = " AND ".join(f"{c} = ?" for c in cols[:nkey])
        rows = []
        for key in sorted(keys[table]):
            row = conn.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {where}", key).fetchone()
            if row is not None:
                rows.append(list(row))
        image[table] = rows
    return image


def _restore(conn: sqlite3.Connection, target: Image, other: Image) -> None:
    """Make the rows keyed in ``target`` or ``other`` equal ``target``: rows only in ``other`` are deleted."""
    def keyset(image: Image, table: str) -> set[tuple]:
        return {tuple(r[:_KEYS[table]]) for r in image[table]}

    for table in ("identities", "identity_members", "cannot_link"):  # parents first
        cols = _COLUMNS[table]
        if target[table]:  # an image logged before a column was added has fewer: those keep their default
            cols = cols[:len(target[table][0])]
        marks = ", ".join("?" * len(cols))
        if table == "identities":  # update in place: members outside the image still refer to it
            conn.executemany(f"INSERT INTO identities({', '.join(cols)}) VALUES ({marks}) ON CONFLICT(id) DO "
                             "UPDATE SET name = excluded.name, note = excluded.note, status = excluded.status",
                             target[table])
        else:
            conn.executemany(f"INSERT OR REPLACE INTO {table}({', '.join(cols)}) VALUES ({marks})", target[table])
    for table in ("cannot_link", "identity_members", "identities"):  # children first
        gone = keyset(other, table) - keyset(target, table)
        where = " AND ".join(f"{c} = ?" for c in _COLUMNS[table][:_KEYS[table]])
        conn.executemany(f"DELETE FROM {table} WHERE {where}", sorted(gone))


# --------------------------------------------------------------------------------------------------- lookups
def _membership(conn: sqlite3.Connection, tracklet_id: int) -> tuple[int, str]:
    if conn.execute("SELECT 1 FROM tracklets WHERE id = ?", (tracklet_id,)).fetchone() is None:
        raise ReviewError(f"no tracklet {tracklet_id}")
    row = conn.execute("SELECT identity_id, state FROM identity_members WHERE tracklet_id = ?",
                       (tracklet_id,)).fetchone()
    if row is None:
        raise ReviewError(f"tracklet {tracklet_id} is not linked to any identity yet")
    return int(row[0]), str(row[1])


def _active_identity(conn: sqlite3.Connection, identity_id: int) -> tuple[str, str]:
    row = conn.execute("SELECT name, note, status FROM identities WHERE id = ?", (identity_id,)).fetchone()
    if row is None:
        raise ReviewError(f"no identity {identity_id}")
    if row[2] != "active":
        raise ReviewError(f"identity {identity_id} was merged into another one")
    return str(row[0]), str(row[1])


def _members(conn: sqlite3.Connection, identity_id: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT tracklet_id FROM identity_members WHERE identity_id = ? "
                                       "ORDER BY tracklet_id", (identity_id,))]


def _conflict(conn: sqlite3.Connection, group_a: list[int], group_b: list[int]) -> tuple[int, int] | None:
    """A cannot_link pair between the two groups, if any."""
    b = set(group_b)
    for t in group_a:
        for x, y in conn.execute("SELECT tracklet_a, tracklet_b FROM cannot_link WHERE tracklet_a = ? OR "
                                 "tracklet_b = ?", (t, t)):
            if (y if x == t else x) in b:
                return (x, y)
    return None


# ----------------------------------------------------------------------------------------------------- edits
def confirm(conn: sqlite3.Connection, tracklet_id: int) -> None:
    """The tracklet's membership becomes confirmed. ReviewError if it already is (nothing to log or undo)."""
    iid, state = _membership(conn, tracklet_id)
    if state == "confirmed":
        raise ReviewError(f"tracklet {tracklet_id} is already confirmed in identity {iid}")
    with _Edit(conn, "confirm", f"confirm tracklet {tracklet_id} in identity {iid}", tracklets=[tracklet_id]):
        conn.execute("UPDATE identity_members SET state = 'confirmed' WHERE tracklet_id = ?", (tracklet_id,))


def _detach(conn: sqlite3.Connection, tracklet_id: int, action: str, cannot_link: bool,
            against: Iterable[int] | None = None) -> int:
    iid, _ = _membership(conn, tracklet_id)
    others = [t for t in _members(conn, iid) if t != tracklet_id]
    if not others:
        raise ReviewError(f"tracklet {tracklet_id} is alone in identity {iid}; nothing to {action} it from")
    description = f"{action} tracklet {tracklet_id} from identity {iid}"
    vetoed = others
    if against is not None:
        vetoed = _named_members(tracklet_id, iid, against, others)
        description += f" against {_ids(vetoed)}"
    pairs = [(min(t, tracklet_id), max(t, tracklet_id)) for t in vetoed] if cannot_link else []
    with _Edit(conn, action, description, identities=[iid], tracklets=[tracklet_id], pairs=pairs) as edit:
        new = edit.new_identity()
        edit.description += f" into new identity {new}"
        conn.execute("UPDATE identity_members SET identity_id = ?, state = 'proposed', cost = NULL, "
                     "confidence = NULL, reason = NULL WHERE tracklet_id = ?", (new, tracklet_id))
        conn.executemany("INSERT OR IGNORE INTO cannot_link(tracklet_a, tracklet_b) VALUES (?, ?)", pairs)
    return new


def _named_members(tracklet_id: int, identity_id: int, against: Iterable[int], others: list[int]) -> list[int]:
    """``against`` checked: other members of the tracklet's identity, at least one (sorted)."""
    named = sorted({int(t) for t in against})
    if not named:
        raise ReviewError(f"name at least one tracklet to reject tracklet {tracklet_id} against")
    for t in named:
        if t == tracklet_id:
            raise ReviewError(f"cannot reject tracklet {tracklet_id} against itself")
        if t not in others:
            raise ReviewError(f"cannot reject tracklet {tracklet_id} against tracklet {t}: it is not in "
                              f"identity {identity_id}")
    return named


def _ids(ids: list[int], limit: int = 8) -> str:
    """``1, 2, 3`` for descriptions (the first ``limit`` - 1 and a count when there are more)."""
    if len(ids) <= limit:
        return ", ".join(map(str, ids))
    return f"{', '.join(map(str, ids[:limit - 1]))} ... ({len(ids)} in all)"


def reject(conn: sqlite3.Connection, tracklet_id: int, against: Iterable[int] | None = None) -> int:
    """Not the same person: the tracklet leaves for a new singleton identity (returned) and may never be
    linked again with the identity's other members (cannot_link rows); given ``against``, with those of them
    only (e.g. the partner its link stood on; each must be another member of its identity)."""
    return _detach(conn, tracklet_id, "reject", cannot_link=True, against=against)


def split(conn: sqlite3.Connection, tracklet_id: int) -> int:
    """The tracklet leaves for a new identity (returned); no cannot_link, the linker may join them again."""
    return _detach(conn, tracklet_id, "split", cannot_link=False)


def merge(conn: sqlite3.Connection, keep_id: int, other_id: int, confirm: Iterable[int] = ()) -> None:
    """Every member of ``other_id`` moves to ``keep_id`` with its state; ``other_id`` is marked 'merged'.
    ``keep_id`` takes the other's name and note when it has none. ``confirm``: members of the two (e.g. the
    pair a reviewer compared) confirmed in the same edit, so a relink keeps them together."""
    confirm = sorted(set(confirm))
    if keep_id == other_id:
        raise ReviewError(f"cannot merge identity {keep_id} with itself")
    keep_name, _ = _active_identity(conn, keep_id)
    other_name, other_note = _active_identity(conn, other_id)
    moving = _members(conn, other_id)
    clash = _conflict(conn, moving, _members(conn, keep_id))
    if clash:
        raise ReviewError(f"cannot merge identities {keep_id} and {other_id}: tracklets {clash[0]} and "
                          f"{clash[1]} were rejected as different people")
    stray = [t for t in confirm if t not in moving and t not in _members(conn, keep_id)]
    if stray:
        raise ReviewError(f"cannot confirm tracklet {stray[0]} in merging identities {keep_id} and {other_id}: "
                          "it is in neither")
    with _Edit(conn, "merge", f"merge identity {other_id} into {keep_id}", identities=[keep_id, other_id],
               tracklets=[*moving, *confirm]):
        conn.execute("UPDATE identity_members SET identity_id = ? WHERE identity_id = ?", (keep_id, other_id))
        conn.executemany("UPDATE identity_members SET state = 'confirmed' WHERE tracklet_id = ?",
                         [(t,) for t in confirm])
        conn.execute("UPDATE identities SET status = 'merged' WHERE id = ?", (other_id,))
        if not keep_name and other_name:
            conn.execute("UPDATE identities SET name = ?, note = ? WHERE id = ?", (other_name, other_note, keep_id))


def assign(conn: sqlite3.Connection, tracklet_id: int, identity_id: int) -> None:
    """The tracklet joins ``identity_id`` as confirmed (linked or not before; its link cost is cleared); an
    identity it leaves empty is deleted. ReviewError if it is already confirmed there."""
    _active_identity(conn, identity_id)
    old: int | None
    try:
        old, state = _membership(conn, tracklet_id)
    except ReviewError:
        if conn.execute("SELECT 1 FROM tracklets WHERE id = ?", (tracklet_id,)).fetchone() is None:
            raise
        old, state = None, ""
    if old == identity_id and state == "confirmed":
        raise ReviewError(f"tracklet {tracklet_id} is already confirmed in identity {identity_id}")
    if old == identity_id:  # a proposed member: assigning it to its own identity confirms it
        with _Edit(conn, "assign", f"assign tracklet {tracklet_id} to identity {identity_id}",
                   tracklets=[tracklet_id]):
            conn.execute("UPDATE identity_members SET state = 'confirmed' WHERE tracklet_id = ?", (tracklet_id,))
        return
    clash = _conflict(conn, [tracklet_id], _members(conn, identity_id))
    if clash:
        raise ReviewError(f"cannot assign tracklet {tracklet_id} to identity {identity_id}: tracklets "
                          f"{clash[0]} and {clash[1]} were rejected as different people")
    olds = [] if old is None else [old]
    with _Edit(conn, "assign", f"assign tracklet {tracklet_id} to identity {identity_id}",
               identities=[identity_id, *olds], tracklets=[tracklet_id]):
        conn.execute("INSERT OR REPLACE INTO identity_members(tracklet_id, identity_id, cost, confidence, reason, "
                     "state) VALUES (?, ?, NULL, NULL, NULL, 'confirmed')", (tracklet_id, identity_id))
        if old is not None and not _members(conn, old):
            conn.execute("DELETE FROM identities WHERE id = ?", (old,))


def keep_apart(conn: sqlite3.Connection, identity_a: int, identity_b: int) -> int:
    """Two identities are different people: a cannot_link row between every tracklet of one and every tracklet
    of the other (the answer N to a suggested merge); returns how many rows were new. ReviewError when every
    such row exists already (nothing to log)."""
    if identity_a == identity_b:
        raise ReviewError(f"cannot keep identity {identity_a} apart from itself")
    _active_identity(conn, identity_a)
    _active_identity(conn, identity_b)
    pairs = sorted({(min(a, b), max(a, b)) for a in _members(conn, identity_a) for b in _members(conn, identity_b)})
    known = {p for p in pairs if conn.execute("SELECT 1 FROM cannot_link WHERE tracklet_a = ? AND tracklet_b = ?",
                                              p).fetchone() is not None}
    if not pairs or len(known) == len(pairs):
        raise ReviewError(f"identities {identity_a} and {identity_b} are already kept apart")
    with _Edit(conn, "keep_apart", f"keep identities {identity_a} and {identity_b} apart", pairs=pairs):
        conn.executemany("INSERT OR IGNORE INTO cannot_link(tracklet_a, tracklet_b) VALUES (?, ?)", pairs)
    return len(pairs) - len(known)


def split_group(conn: sqlite3.Connection, tracklet_ids: Iterable[int]) -> int:
    """The tracklets (members of one active identity, not all of them) move together to a new identity
    (returned), confirmed there (the reviewer said they belong together; link cost, confidence and reason
    cleared); a cannot_link row between every moved and every staying member, none inside either group. The
    staying members keep their rows."""
    moved = sorted({int(t) for t in tracklet_ids})
    if not moved:
        raise ReviewError("select at least one tracklet to split off")
    where = {t: _membership(conn, t)[0] for t in moved}
    iid = where[moved[0]]
    stray = next((t for t in moved if where[t] != iid), None)
    if stray is not None:
        raise ReviewError(f"tracklets {moved[0]} and {stray} are in different identities ({iid} and "
                          f"{where[stray]}); split off tracklets of one identity")
    _active_identity(conn, iid)
    staying = [t for t in _members(conn, iid) if t not in where]
    if not staying:
        raise ReviewError(f"cannot split all {len(moved)} tracklets off identity {iid}; leave at least one")
    clash = _conflict(conn, moved, moved)
    if clash:
        raise ReviewError(f"cannot split tracklets {clash[0]} and {clash[1]} off together: they were rejected "
                          "as different people")
    pairs = sorted((min(a, b), max(a, b)) for a in moved for b in staying)
    with _Edit(conn, "split_group", f"split tracklets {_ids(moved)} off identity {iid}", identities=[iid],
               tracklets=moved, pairs=pairs) as edit:
        new = edit.new_identity()
        edit.description += f" into new identity {new}"
        conn.executemany("UPDATE identity_members SET identity_id = ?, state = 'confirmed', cost = NULL, "
                         "confidence = NULL, reason = NULL WHERE tracklet_id = ?", [(new, t) for t in moved])
        conn.executemany("INSERT OR IGNORE INTO cannot_link(tracklet_a, tracklet_b) VALUES (?, ?)", pairs)
    return new


def confirm_group(conn: sqlite3.Connection, tracklet_ids: Iterable[int]) -> int:
    """Several memberships confirmed in one edit; returns how many changed. ReviewError when one is not linked
    or every one is confirmed already."""
    ids = sorted({int(t) for t in tracklet_ids})
    if not ids:
        raise ReviewError("select at least one tracklet to confirm")
    where = {t: _membership(conn, t) for t in ids}
    todo = [t for t in ids if where[t][1] != "confirmed"]
    if not todo:
        raise ReviewError(f"tracklet{'s' * (len(ids) > 1)} {_ids(ids)} already confirmed")
    identities = sorted({where[t][0] for t in todo})
    with _Edit(conn, "confirm_group", f"confirm tracklets {_ids(todo)} in identit"
               f"{'y' if len(identities) == 1 else 'ies'} {_ids(identities)}", tracklets=todo):
        conn.executemany("UPDATE identity_members SET state = 'confirmed' WHERE tracklet_id = ?",
                         [(t,) for t in todo])
    return len(todo)


def confirm_identity(conn: sqlite3.Connection, identity_id: int) -> int:
    """``confirm_group`` of the identity's members as they are now (N to "this identity looks mixed": one
    person), whatever a relink moved since the question was asked."""
    _active_identity(conn, identity_id)
    return confirm_group(conn, _members(conn, identity_id))


def remove_veto(conn: sqlite3.Connection, tracklet_a: int, tracklet_b: int) -> None:
    """The cannot_link row between the two tracklets (either order) is deleted: the linker may join them again.
    ReviewError when there is none."""
    pair = (min(int(tracklet_a), int(tracklet_b)), max(int(tracklet_a), int(tracklet_b)))
    if conn.execute("SELECT 1 FROM cannot_link WHERE tracklet_a = ? AND tracklet_b = ?", pair).fetchone() is None:
        raise ReviewError(f"tracklets {tracklet_a} and {tracklet_b} have no veto between them")
    with _Edit(conn, "remove_veto", f"remove the veto between tracklets {pair[0]} and {pair[1]}", pairs=[pair]):
        conn.execute("DELETE FROM cannot_link WHERE tracklet_a = ? AND tracklet_b = ?", pair)


def annotate(conn: sqlite3.Connection, identity_id: int, name: str, note: str = "") -> None:
    _active_identity(conn, identity_id)
    with _Edit(conn, "annotate", f"name identity {identity_id} {name!r}", identities=[identity_id]):
        conn.execute("UPDATE identities SET name = ?, note = ? WHERE id = ?", (name, note, identity_id))


# ------------------------------------------------------------------------------------------------ undo/redo
def undo(conn: sqlite3.Connection) -> str | None:
    """Revert the newest edit not yet undone (in the current history); returns its action or None."""
    row = conn.execute("SELECT id, action, payload FROM review_log WHERE undone = 0 AND id > ? "
                       "ORDER BY id DESC LIMIT 1", (undo_floor(conn),)).fetchone()
    if row is None:
        return None
    payload = json.loads(row[2])
    _restore(conn, payload["before"], payload["after"])
    conn.execute("UPDATE review_log SET undone = 1 WHERE id = ?", (row[0],))
    return str(row[1])


def redo(conn: sqlite3.Connection) -> str | None:
    """Re-apply the oldest undone edit; returns its action or None."""
    row = conn.execute("SELECT id, action, payload FROM review_log WHERE undone = 1 AND id > ? "
                       "ORDER BY id LIMIT 1", (undo_floor(conn),)).fetchone()
    if row is None:
        return None
    payload = json.loads(row[2])
    _restore(conn, payload["after"], payload["before"])
    conn.execute("UPDATE review_log SET undone = 0 WHERE id = ?", (row[0],))
    return str(row[1])
