"""Whether two tracklets can be one person by their timing alone, said in words for the reviewer.

The rule is the work queue's (``reid.link.review_queue``, time plausibility of a suggested merge): one camera
never sees a person twice at once; two cameras may see one person at once for at most ``max_overlap_s`` (their
fields of view overlap); a person walks from one camera to another in at most ``max_gap_s``. The limits are
``QueueConfig``'s (``queue_limits``), read in the worker with the other reads. No Qt here.
"""

from __future__ import annotations

from typing import Protocol


class Timed(Protocol):
    """A tracklet's camera and time span (s), e.g. ``reid.store.rows.TrackletRow`` (read-only is enough)."""

    @property
    def camera(self) -> str: ...

    @property
    def first_time(self) -> float: ...

    @property
    def last_time(self) -> float: ...


def timing_fit(query: Timed, other: Timed, max_gap_s: float, max_overlap_s: float) -> tuple[bool, str]:
    """``(fits, verdict)``: can ``other`` be the person of ``query`` by time alone, and why, e.g.
    "other camera, gap 8.1 s later". "later"/"earlier" say where ``other`` lies relative to ``query``.

    Same camera: no overlap at all (touching counts as overlapping, as in the queue). Other camera: an
    overlap of at most ``max_overlap_s``. Either: a gap of at most ``max_gap_s``."""
    later = other.first_time >= query.first_time
    if other.first_time > query.last_time:
        gap = other.first_time - query.last_time
    elif query.first_time > other.last_time:
        gap = query.first_time - other.last_time
    else:  # overlapping: minus the overlap
        gap = max(query.first_time, other.first_time) - min(query.last_time, other.last_time)
    side = "later" if later else "earlier"
    if other.camera == query.camera:
        if gap <= 0:
            return False, "same camera, overlaps in time"
        where = f"same camera, Δ {gap:.1f} s {side}"
    elif gap < 0:
        fits = -gap <= max_overlap_s
        return fits, f"other camera, overlaps {-gap:.1f} s" + ("" if fits else f" (> {max_overlap_s:g} s)")
    else:
        where = f"other camera, gap {gap:.1f} s {side}"
    if gap > max_gap_s:
        return False, f"too far apart ({where} > {max_gap_s:g} s)"
    return True, where


def queue_limits() -> tuple[float, float]:
    """``QueueConfig``'s ``(max_gap_s, max_overlap_s)``. Imports ``reid.link``: call it in a worker."""
    from reid.link.review_queue import QueueConfig

    cfg = QueueConfig()
    return cfg.max_gap_s, cfg.max_overlap_s
