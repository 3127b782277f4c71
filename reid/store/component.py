"""The linker's new identities for one component of the site (the tracklets a reviewer decision can affect),
written without touching anything outside it; ``reid.link.relink_component`` calls it inside the decision's
write transaction, through ``review_extend.extend_entry`` so that one undo reverts the decision and this relink.

Rules as ``writer.apply_links``, limited to the component: confirmed memberships never move; a group holding
confirmed members of an identity joins it (the one with most of them); a group without reuses the identity
most of its tracklets were in when no other group took it, else gets a new identity; a tracklet that would
share an identity with one it cannot link to, and one in no group, becomes a singleton; the component's
identities left empty are deleted. Only the rows of tracklets that move are written: one that stays in its
identity keeps its cost, confidence and reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reid.errors import StoreError
from reid.store.rows import LinkProposal
from reid.store.writer import check_groups, confirmed_by_identity, place_groups


@dataclass(frozen=True)
class ComponentWrite:
    """What ``apply_component`` changed: tracklets that moved to another identity (their rows are the only
    membership rows written), identities created and deleted."""

    moved: tuple[int, ...]
    created: tuple[int, ...]
    deleted: tuple[int, ...]


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[tuple[list[int], str]]:
    for start in range(0, len(ids), size):  # stay under SQLite's bound-variable limit
        chunk = list(ids[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


def component_members(conn: sqlite3.Connection, tracklets: Sequence[int]) -> dict[int, tuple[int, str]]:
    """``{tracklet: (identity, state)}`` of the linked ones among ``tracklets``."""
    out: dict[int, tuple[int, str]] = {}
    for chunk, marks in _chunks(tracklets):
        for t, i, s in conn.execute(
            f"SELECT tracklet_id, identity_id, state FROM identity_members WHERE tracklet_id IN ({marks})",
            chunk,
        ):
            out[int(t)] = (int(i), str(s))
    return out


def identity_closure(conn: sqlite3.Connection, tracklets: Sequence[int]) -> list[int]:
    """``tracklets`` plus every other member of their identities, sorted."""
    identities = sorted({i for i, _ in component_members(conn, tracklets).values()})
    out = set(tracklets)
    for chunk, marks in _chunks(identities):
        out.update(
            int(r[0])
            for r in conn.execute(
                f"SELECT tracklet_id FROM identity_members WHERE identity_id IN ({marks})", chunk
            )
        )
    return sorted(out)


def apply_component(
    conn: sqlite3.Connection, component: Sequence[int], groups: Sequence[Sequence[LinkProposal]]
) -> ComponentWrite:
    """Replace the proposed memberships of the tracklets in ``component`` by ``groups`` (one group = one
    identity; each tracklet of a group must be in ``component``, at most once). ``component`` must hold every
    member of each identity it touches (``identity_closure``), else StoreError."""
    comp = sorted(set(int(t) for t in component))
    old = component_members(conn, comp)
    outside = sorted(set(identity_closure(conn, comp)) - set(comp))
    if outside:
        raise StoreError(f"relink component misses tracklets {outside[:5]} of identities it touches")
    members = set(comp)
    known = sum(
        conn.execute(f"SELECT COUNT(*) FROM tracklets WHERE id IN ({marks})", chunk).fetchone()[0]
        for chunk, marks in _chunks(comp)
    )
    if known != len(comp):
        raise StoreError("relink component: it names tracklets that do not exist")
    seen = check_groups(groups, members, "relink component: tracklet {} is not in it", "relink component")
    confirmed_of = confirmed_by_identity(old)
    cannot: dict[int, set[int]] = {}
    for chunk, marks in _chunks(comp):
        for a, b in conn.execute(
            f"SELECT tracklet_a, tracklet_b FROM cannot_link WHERE tracklet_a IN ({marks}) "
            f"OR tracklet_b IN ({marks})",
            chunk + chunk,
        ):
            cannot.setdefault(a, set()).add(b)
            cannot.setdefault(b, set()).add(a)

    loose = [t for t in comp if t not in seen and old.get(t, (0, ""))[1] != "confirmed"]
    rows, created = place_groups(conn, groups, old, cannot, loose)

    # a tracklet that stays in its identity keeps its row (cost, confidence, reason): only moves are written
    moved = sorted(t for t, row in rows.items() if t not in old or old[t][0] != row[0])
    conn.executemany(
        "INSERT OR REPLACE INTO identity_members(tracklet_id, identity_id, cost, confidence, reason, "
        "state) VALUES (?, ?, ?, ?, ?, 'proposed')",
        [(t, *rows[t]) for t in moved],
    )
    emptied = sorted(({iid for iid, _ in old.values()} | set(created)) - set(confirmed_of))
    deleted = [
        iid
        for iid in emptied
        if conn.execute("SELECT 1 FROM identity_members WHERE identity_id = ? LIMIT 1", (iid,)).fetchone()
        is None
    ]
    conn.executemany("DELETE FROM identities WHERE id = ?", [(i,) for i in deleted])
    created = [i for i in created if i not in deleted]
    deleted = [i for i in deleted if i in {iid for iid, _ in old.values()}]
    return ComponentWrite(tuple(moved), tuple(created), tuple(deleted))
