"""Jobs of the review window: plain functions of a read-only ``reid.store.Store``, run off the GUI thread
by ``gui.workers.QueryRunner``. No Qt here.

``reid.link`` (which imports torch: ~600 MB and seconds of start-up) is imported inside the jobs that need it,
in the worker, so the window opens without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from reid.distances import paired_distance_numpy
from reid.errors import ReviewError

if TYPE_CHECKING:
    from reid.link.review_queue import ReviewItem

Job = Callable[[Any], Any]  # receives the worker's read-only Store


def link_threshold(store: Any) -> float:
    """The threshold the linker used (meta ``link_threshold``) or the default of ``LinkConfig``."""
    value = store.get_meta("link_threshold")
    try:
        return float(value) if value is not None else _default_threshold()
    except ValueError:
        return _default_threshold()


def _default_threshold() -> float:
    """``LinkConfig``'s default threshold, for a database that does not record its own."""
    from reid.link.calibrate import DEFAULT_THRESHOLD

    return DEFAULT_THRESHOLD


def threshold_source(store: Any) -> str:
    """Where the threshold came from (meta ``link_threshold_source``, one line, e.g. "calibrated: FAR 1% on
    812 known-different pairs"); for older databases what is known."""
    source = store.get_meta("link_threshold_source")
    if source:
        return str(source).strip().splitlines()[0]
    if store.get_meta("link_threshold") is None:
        return "LinkConfig default; the database does not record its own"
    return "source not recorded"


def overview(store: Any) -> dict[str, Any]:
    """Counts, cameras, all link costs, the number of links left to review, the threshold and its source
    (overview and progress bar)."""
    return {
        "counts": store.counts(),
        "cameras": store.cameras(),
        "costs": store.link_costs(),
        "left": len(store.review_queue()),
        "decisions": store.decisions_made(),
        "threshold": link_threshold(store),
        "threshold_source": threshold_source(store),
    }


class QueueStep(NamedTuple):
    """The work queue's next question: its first ``item`` not skipped (None: none left), that item's tracklet
    ``row`` (to show), how many items of the queue were ``skipped`` and its ``total``."""

    item: ReviewItem | None
    row: Any
    skipped: int
    total: int


def item_key(item: ReviewItem) -> tuple[Any, ...]:
    """What a skipped item is remembered by: a link by its tracklet, a suggested merge by its two identities,
    a mixed-looking identity by the identity and the group it would split off."""
    if item.kind == "link":
        return ("link", item.tracklet)
    if item.kind == "mixed":
        return ("mixed", item.identity, item.group)
    return ("merge", min(item.identity, item.other or 0), max(item.identity, item.other or 0))


def queue_items(store: Any) -> list[ReviewItem]:
    """``reid.link.review_queue.review_items`` (proposed links, suggested merges and mixed-looking identities,
    most valuable decision first); a file without a stored threshold: its proposed links, least confident
    first (p NaN)."""
    from reid.link.review_queue import ReviewItem, review_items

    if store.get_meta("link_threshold"):
        try:
            return review_items(store)
        except ReviewError:
            pass
    rows = [store.tracklet(t) for t in store.review_queue()]
    return [
        ReviewItem("link", r.identity_id, None, r.id, None, r.cost or 0.0, math.nan, 1, 0.0)
        for r in rows
        if r is not None and r.identity_id is not None
    ]


def next_item(skipped: frozenset[tuple[Any, ...]]) -> Job:
    """The queue's first item whose key (``item_key``) is not in ``skipped``, as a ``QueueStep``."""

    def job(store: Any) -> QueueStep:
        items = queue_items(store)
        left = [i for i in items if item_key(i) not in skipped]
        item = left[0] if left else None
        return QueueStep(
            item,
            store.tracklet(item.tracklet) if item is not None else None,
            len(items) - len(left),
            len(items),
        )

    return job


def nearest(query_id: int, k: int) -> Job:
    """``(query, [(row, distance, mark)])``; mark 'same' = confirmed in the query's identity, 'cannot' = a
    reviewer separated the two."""

    def job(store: Any) -> Any:
        query = store.tracklet(query_id)
        cannot = store.link_constraints().cannot_link
        rows = []
        for row, dist in store.nearest_tracklets(query_id, k=k):
            pair = (min(query_id, row.id), max(query_id, row.id))
            if pair in cannot:
                mark: str | None = "cannot"
            elif (
                row.identity_id is not None
                and row.identity_id == query.identity_id
                and row.state == "confirmed"
            ):
                mark = "same"
            else:
                mark = None
            rows.append((row, float(dist), mark))
        return query, rows

    return job


def embedding_distance(store: Any, a: int, b: int) -> float | None:
    """Euclidean distance of the two stored (L2-normalised) embeddings, as the linker measures it."""
    ea, eb = store.embedding(a), store.embedding(b)
    if ea is None or eb is None:
        return None
    return float(paired_distance_numpy(np.asarray(ea, np.float32)[None], np.asarray(eb, np.float32)[None])[0])


def compare_pair(a: int, b: int | None) -> Job:
    """``(row_a, row_b, dets_a, dets_b, distance, threshold)``; ``b`` None picks a partner for ``a``: the
    closest other member of its identity (another camera preferred), else its nearest tracklet."""

    def job(store: Any) -> Any:
        ta = store.tracklet(a)
        partner = b
        if partner is None and ta.identity_id is not None:
            others = [t for t in store.identity_tracklets(ta.identity_id) if t.id != a]
            scored = [
                (t.camera == ta.camera, embedding_distance(store, a, t.id) or 0.0, t.id) for t in others
            ]
            partner = min(scored)[2] if scored else None
        if partner is None:
            near = store.nearest_tracklets(a, k=1)
            partner = near[0][0].id if near else None
        if partner is None:
            return None
        return (
            ta,
            store.tracklet(partner),
            store.detections(a),
            store.detections(partner),
            embedding_distance(store, a, partner),
            link_threshold(store),
        )

    return job


def export(kind: str, out_dir: str) -> Job:
    """Run ``reid.export.export_<kind>(store, out_dir)`` for kind in csv/json/mot/market (or 'all')."""

    def job(store: Any) -> list[str]:
        from reid import export as exporters

        kinds = ["csv", "json", "mot", "market"] if kind == "all" else [kind]
        written = []
        for k in kinds:
            result = getattr(exporters, f"export_{k}")(store, Path(out_dir))
            written.append(f"{k}: {result}" if result is not None else k)
        return written

    return job
