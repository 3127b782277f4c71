"""Jobs of the inspecting views, beside ``gui.jobs``: the nearest tracklets with the timing limits to judge
them by, and what the merge dialog shows of each identity (a tracklet to picture it, how near it is to the
current identity). Plain functions of a read-only ``reid.store.Store``, run off the GUI thread; no Qt here."""

from __future__ import annotations

from typing import Any, NamedTuple

from gui import jobs, timing
from gui.state import Job
from reid.store.queries import memberships

ANCHORS = 8  # tracklets of the current identity whose nearest neighbours rank the merge candidates
ANCHOR_K = 64  # neighbours asked for each (one embedding scan each, as the nearest tab)


class NearestResult(NamedTuple):
    """``jobs.nearest``'s query and rows, with ``QueueConfig``'s timing limits (``gui.timing.queue_limits``)."""

    query: Any
    rows: list[tuple[Any, float, str | None]]
    max_gap_s: float
    max_overlap_s: float


def nearest_timed(query_id: int, k: int) -> Job:
    """``jobs.nearest`` plus the limits ``gui.timing.timing_fit`` judges its results by."""
    inner = jobs.nearest(query_id, k)

    def job(store: Any) -> NearestResult:
        query, rows = inner(store)
        return NearestResult(query, rows, *timing.queue_limits())

    return job


class IdentityPicture(NamedTuple):
    """What the merge dialog shows of an identity: ``tracklet`` (its first, whose best crop pictures it) and
    ``distance`` (the smallest embedding distance found to the current identity; None: not among the
    nearest)."""

    tracklet: int
    distance: float | None


def identity_pictures(anchor: int | None) -> Job:
    """``{identity: IdentityPicture}`` of every active identity but ``anchor``; distances from the nearest
    tracklets (``ANCHOR_K``) of up to ``ANCHORS`` of ``anchor``'s tracklets."""

    def job(store: Any) -> dict[int, IdentityPicture]:
        first: dict[int, int] = {}
        own: list[int] = []
        for m in store.read(memberships):  # tracklet id order: the first seen is the identity's first
            first.setdefault(m.identity_id, m.tracklet_id)
            if m.identity_id == anchor:
                own.append(m.tracklet_id)
        near: dict[int, float] = {}
        for tid in own[:ANCHORS]:
            for row, dist in store.nearest_tracklets(tid, k=ANCHOR_K):
                if row.identity_id is not None and row.identity_id != anchor:
                    near[row.identity_id] = min(float(dist), near.get(row.identity_id, float("inf")))
        return {i: IdentityPicture(t, near.get(i)) for i, t in first.items() if i != anchor}

    return job
