"""A reviewer decision relinks the part of the site it can affect, inside the decision's own review edit.

The component of a decision: the identities of the tracklets it touched, plus every tracklet within
``reach`` × the link threshold of one of them that could be the same person by time (another camera: at most
``max_gap`` s apart, overlapping at most ``max_overlap`` s; the same camera: after it, not overlapping), plus
the other members of those tracklets' identities (a component holds whole identities, so nothing outside it
changes). The linker runs on the component alone with every reviewer constraint in it (cannot-links stay
apart) at the site's threshold as the last full link resolved it (meta ``link_threshold``; never
re-calibrated here), and the new memberships are written through
``reid.store.component.apply_component`` into the decision's review-log entry
(``reid.store.review_extend.extend_entry``): one undo reverts the decision and its relink, exactly.

What may move: the tracklets the decision left alone (``freed_by``: a rejected or split tracklet) may join
another identity; every other identity of the component is held together (a must-link group) and stays as
it is. Why held: the linker on a component cannot learn the site's topology (the transitions and the looser
appearance gate through them come from the whole site's links), so left free it parts links the whole-site
run made through that gate; on the two-camera sample (``examples/``, hand-crafted embedder, threshold 0.246)
the first decision's relink, unheld, cut right cross-camera pairs from 49 to 27 of 61. Two held identities
are never joined by it either: the queue's suggested merges ask the reviewer.

``decide`` makes one decision and its relink in one transaction (the simulated reviewer of
``reid evaluate-review``); ``relink_component`` relinks after a decision already written (the review app,
whose edit is on screen at once and whose relink follows in a worker thread).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reid.config import LinkConfig
from reid.distances import pairwise_distance_numpy
from reid.errors import ReviewError
from reid.link.calibrate import resolve_threshold
from reid.link.camera_centring import CENTRING_META, centre_rows, centre_with, stored_shifts
from reid.link.link import link_tracklets
from reid.link.review_queue import site_threshold
from reid.link.topology import TopologyConfig
from reid.store import LinkConstraints, Store, review_revert
from reid.store import review as edits
from reid.store import review_extend as extend
from reid.store.component import ComponentWrite, apply_component, component_members, identity_closure
from reid.store.queries import get_meta, link_constraints, tracklet_features_of, tracklet_index

log = logging.getLogger(__name__)

REACH = (
    1.5  # neighbours up to this multiple of the threshold join a decision's component (a bound, not tuned)
)

# The decisions a reviewer makes (``reid.store.review``): name -> edit of a connection.
DECISIONS: dict[str, Callable[..., Any]] = {
    "confirm": edits.confirm,
    "reject": edits.reject,
    "split": edits.split,
    "merge": edits.merge,
    "assign": edits.assign,
    "keep_apart": edits.keep_apart,
    # the moved group is confirmed (held together) and vetoed against the rest (kept apart); a lone moved or
    # staying tracklet is free, but never joins across the vetoes
    "split_group": edits.split_group,
    "confirm_group": edits.confirm_group,
    "remove_veto": edits.remove_veto,  # no membership changes; a later relink may join the two
    "revert": review_revert.revert,  # relinks what the reverted rows touch
}


@dataclass(frozen=True)
class RelinkChange:
    """What the relink of one decision did: the review-log ``entry`` it extended, the ``component`` it relinked
    (tracklet ids), the tracklets the decision ``freed`` (free to join another identity), those ``moved`` to
    another identity, identities ``created`` and ``deleted``, and how long it took (s)."""

    entry: int
    component: tuple[int, ...]
    freed: tuple[int, ...]
    moved: tuple[int, ...]
    created: tuple[int, ...]
    deleted: tuple[int, ...]
    seconds: float


def _shifts(conn: sqlite3.Connection) -> dict[str, np.ndarray]:
    """The camera centring of the last whole-site link: the stored threshold was calibrated after it."""
    return stored_shifts(get_meta(conn, CENTRING_META))


def component_of(
    conn: sqlite3.Connection,
    touched: Iterable[int],
    threshold: float,
    reach: float = REACH,
    topo: TopologyConfig | None = None,
) -> list[int]:
    """The tracklets a decision touching ``touched`` can affect (see the module docstring), sorted."""
    topo = topo or TopologyConfig()
    seeds = identity_closure(conn, sorted(set(int(t) for t in touched)))
    index = tracklet_index(conn)
    embeddings = centre_rows(index.embeddings, index.cameras, _shifts(conn))  # the stored threshold's space
    pos = {int(t): k for k, t in enumerate(index.ids)}
    rows = np.array([pos[t] for t in seeds if t in pos], np.int64)
    near: set[int] = set()
    if len(rows) and len(index.ids):
        d = pairwise_distance_numpy(embeddings[rows], embeddings)
        t0, t1, cams = index.first_time, index.last_time, index.cameras
        gap = np.maximum(t0[None, :] - t1[rows][:, None], t0[rows][:, None] - t1[None, :])  # < 0: overlapping
        same = cams[rows][:, None] == cams[None, :]
        timely = np.where(same, gap > 0, gap >= -topo.max_overlap) & (gap <= topo.max_gap)
        near = {int(t) for t in index.ids[np.nonzero((d <= reach * threshold) & timely)[1]]}
    return identity_closure(conn, sorted(set(seeds) | near))


def freed_by(conn: sqlite3.Connection, touched: Iterable[int]) -> list[int]:
    """The tracklets among ``touched`` a decision left alone in an identity (or in none): free to join another."""
    touched = sorted(set(int(t) for t in touched))
    members = component_members(conn, touched)
    sizes = {
        iid: int(
            conn.execute("SELECT COUNT(*) FROM identity_members WHERE identity_id = ?", (iid,)).fetchone()[0]
        )
        for iid in {i for i, _ in members.values()}
    }
    return [t for t in touched if t not in members or sizes[members[t][0]] == 1]


def _constraints(conn: sqlite3.Connection, component: list[int], free: set[int]) -> LinkConstraints:
    """Every cannot-link inside the component; every identity's members but the free ones held together."""
    inside = set(component)
    held: dict[int, list[int]] = {}
    for t, (iid, _) in component_members(conn, component).items():
        if t not in free:
            held.setdefault(iid, []).append(t)
    return LinkConstraints(
        must_link=[tuple(sorted(g)) for _, g in sorted(held.items())],
        cannot_link={(a, b) for a, b in link_constraints(conn).cannot_link if a in inside and b in inside},
    )


def link_at(
    features: list[Any], constraints: LinkConstraints, cfg: LinkConfig, threshold: float
) -> list[list[Any]]:
    """``link_tracklets`` of ``features`` at ``threshold``, already resolved for the whole site; the
    known-different pairs the linker's stitching gate and topology prior rest on are the component's own."""
    calibration = resolve_threshold(features, constraints, replace(cfg, threshold=threshold))
    return link_tracklets(features, constraints, cfg, calibration)


def relink_in(
    conn: sqlite3.Connection,
    entry: int,
    tracklet_ids: Iterable[int],
    cfg: LinkConfig,
    threshold: float,
    reach: float = REACH,
) -> RelinkChange:
    """Relink the component of ``tracklet_ids`` inside the caller's write transaction, extending review-log
    entry ``entry`` (which must be the newest edit)."""
    start = time.perf_counter()
    touched = list(tracklet_ids)
    component = component_of(conn, touched, threshold, reach)
    free = set(freed_by(conn, touched))
    identities = {i for i, _ in component_members(conn, component).values()}
    groups = link_at(
        centre_with(tracklet_features_of(conn, component), _shifts(conn)), _constraints(conn, component, free), cfg,
        threshold,
    )
    written: ComponentWrite = extend.extend_entry(
        conn, entry, component, identities, lambda: apply_component(conn, component, groups)
    )
    change = RelinkChange(
        entry,
        tuple(component),
        tuple(sorted(free)),
        written.moved,
        written.created,
        written.deleted,
        time.perf_counter() - start,
    )
    log.debug(
        "relinked %d tracklets after review edit %d: %d moved in %.3f s",
        len(component),
        entry,
        len(change.moved),
        change.seconds,
    )
    return change


def relink_component(
    store: Store, tracklet_ids: Iterable[int], cfg: LinkConfig, entry: int | None = None, reach: float = REACH
) -> RelinkChange:
    """Relink the component of ``tracklet_ids`` in one transaction, into review-log entry ``entry`` (default:
    the newest edit, the decision just made). ReviewError when there is no such edit or it is not the
    newest (the file was edited meanwhile), or the site has no stored threshold."""
    threshold = site_threshold(store)
    ids = list(tracklet_ids)

    def run(conn: sqlite3.Connection) -> RelinkChange:
        target = extend.newest_entry(conn) if entry is None else entry
        if target is None:
            raise ReviewError(f"{store.path}: no review edit to relink after")
        return relink_in(conn, target, ids, cfg, threshold, reach)

    return store.write(run)


def relink_after(store: Store, entry: int, cfg: LinkConfig, reach: float = REACH) -> RelinkChange:
    """Relink what review-log ``entry`` (a decision) touched: its tracklets and identities' members."""

    def run(conn: sqlite3.Connection) -> RelinkChange:
        return relink_in(conn, entry, _touched(conn, entry), cfg, site_threshold(store), reach)

    return store.write(run)


def _touched(conn: sqlite3.Connection, entry: int) -> list[int]:
    tracklets, identities = extend.touched(conn, entry)
    out = set(tracklets)
    for iid in identities:
        out.update(
            int(r[0])
            for r in conn.execute("SELECT tracklet_id FROM identity_members WHERE identity_id = ?", (iid,))
        )
    return sorted(out)


def decide(
    store: Store, action: str, *args: Any, cfg: LinkConfig | None, reach: float = REACH
) -> tuple[Any, RelinkChange | None]:
    """One reviewer decision (``DECISIONS[action](*args)``, e.g. ``decide(store, "reject", 12, cfg=cfg)``)
    and, unless ``cfg`` is None, the relink of what it touched, in one transaction and one review-log entry.
    Returns the edit's own result and the relink's change."""
    if action not in DECISIONS:
        raise ValueError(f"unknown decision {action!r}; one of {', '.join(DECISIONS)}")
    threshold = site_threshold(store) if cfg is not None else 0.0

    def run(conn: sqlite3.Connection) -> tuple[Any, RelinkChange | None]:
        result = DECISIONS[action](conn, *args)
        if cfg is None:
            return result, None
        entry = extend.newest_entry(conn)
        if entry is None:  # every edit logs itself
            raise ReviewError(f"{store.path}: {action} logged no review edit")
        return result, relink_in(conn, entry, _touched(conn, entry), cfg, threshold, reach)

    return store.write(run)
