"""The reviewer's work queue for both kinds of error, best decision first.

* ``"link"``: a proposed link (a tracklet the linker put in an identity, with its link cost): a possible
  false link. Y confirms it, N rejects it (the tracklet leaves, vetoed against the rest of the identity).
* ``"merge"``: two identities with tracklets on different cameras, time-plausibly one person, whose closest
  cross-camera, time-plausible tracklet pair is at most ``QueueConfig.reach`` × the threshold apart and that no cannot-link keeps apart: a possible
  missed link. Y merges them, N keeps them apart (cannot-links between their tracklets).
* ``"mixed"``: an identity the linker formed whose members split cleanly in two by appearance
  (``reid.link.review_mixed``: average linkage of their embeddings, the two groups more than
  ``QueueConfig.mixed`` × the threshold apart): possibly two people. Y splits the smaller group off
  (``split_group``, cannot-links between the groups), N confirms every member as one person
  (``confirm_group``).

Items are ordered by what a decision is worth: ``uncertainty × moves``, where uncertainty is ``1 - |2p - 1|``
(1 at p = 0.5) and ``p`` the link probability of the cost (``reid.link.probability.link_probability``, a logistic
in cost / threshold fitted on the tuning splits and checked on the held-out ones). ``moves``
is how many tracklets the answer moves: 1 for a link, the smaller identity's size for a merge, the group's
size for a mixed identity.

Time plausibility is by time alone (the store keeps no learned topology): two identities may be one person
when no camera sees a tracklet of each at once, no two cameras see one of each at once for longer than
``max_overlap_s``, and some tracklet of one is at most ``max_gap_s`` from one of the other. ``rank_items`` is
a pure function of rows; ``review_items`` reads them from a store.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from reid.distances import pairwise_distance_numpy
from reid.errors import ReviewError
from reid.link.camera_centring import CENTRING_META, centre_rows, stored_shifts
from reid.link.probability import link_probability
from reid.link.review_mixed import mixed_splits
from reid.store import Store
from reid.store.queries import Membership, memberships, tracklet_index

_BLOCK = 1024  # rows per distance block


@dataclass(frozen=True)
class QueueConfig:
    """What the queue holds and how it ranks it."""

    reach: float = 1.3  # suggested merges up to this multiple of the link threshold (just past it)
    max_gap_s: float = 60.0  # as reid.link.topology.TopologyConfig.max_gap: the longest plausible transit
    # two cameras may see one person at once this long: overlapping views keep a person in both for longer than
    # the linker's 5 s (TopologyConfig.max_overlap); 15 chosen on the tuning splits with the closest-pair cost
    # (overlap128-bright-h1 recall 0.69 -> 0.88 after 15 decisions; 5 / 15 / 30 s otherwise alike)
    max_overlap_s: float = 15.0
    # "looks mixed" items for identities whose two appearance groups are more than this multiple of the
    # threshold apart (math.inf: none). Chosen 2026-12-08 on the five tuning splits of examples/splits.yaml
    # (simulated review of their fresh-install databases, mean of pair precision and recall after 5, 10, 20
    # and the budget's decisions): 0.5-0.9 score 0.847-0.849, 1.0 0.821, 1.2 and more (as none) 0.830; 0.8
    # stays clear of the drop at 1.0. It asks about most identities the linker formed on those sites.
    mixed: float = 0.8


@dataclass(frozen=True)
class ReviewItem:
    """One question for the reviewer.

    ``kind="link"``: is ``tracklet`` the same person as the rest of ``identity``? (``other``/``partner`` None.)
    ``kind="merge"``: are identities ``identity`` and ``other`` one person? ``identity`` is the one kept on Y
    (the larger); ``tracklet``/``partner`` their closest cross-camera, time-plausible tracklets (to show).
    ``kind="mixed"``: is ``group`` (members of ``identity``, the smaller of its two appearance groups) another
    person than the rest of it? ``tracklet`` (in ``group``) and ``partner`` (in the rest) the closest pair
    across the cut (to show); ``other`` None.
    ``cost``: the link cost, the identities' linkage distance or the two groups' average-linkage distance;
    ``p``: link probability (``link_probability``); ``moves``: tracklets the answer moves; ``value``:
    ``(1 - |2p - 1|) × moves``, the queue's order."""

    kind: Literal["link", "merge", "mixed"]
    identity: int
    other: int | None
    tracklet: int
    partner: int | None
    cost: float
    p: float
    moves: int
    value: float
    group: tuple[int, ...] = ()


def _item(
    kind: Literal["link", "merge", "mixed"],
    identity: int,
    other: int | None,
    tracklet: int,
    partner: int | None,
    cost: float,
    moves: int,
    threshold: float,
    cfg: QueueConfig,
    group: tuple[int, ...] = (),
) -> ReviewItem:
    p = link_probability(cost, threshold)
    return ReviewItem(
        kind, identity, other, tracklet, partner, cost, p, moves, (1.0 - abs(2.0 * p - 1.0)) * moves, group
    )


def rank_items(
    features: Sequence[Any],
    members: Iterable[Membership],
    cannot_link: Iterable[tuple[int, int]],
    threshold: float,
    cfg: QueueConfig | None = None,
) -> list[ReviewItem]:
    """Proposed links, suggested merges and mixed-looking identities, most valuable decision first (ties: cost
    nearer the threshold, then ids).

    ``features``: tracklets with ``.id``, ``.camera``, ``.first_time``/``.last_time`` (s) and ``.embedding``
    ((D,) float32, L2-normalised), e.g. ``Store.tracklet_features()``; ``members``: memberships of active
    identities; ``cannot_link``: tracklet pairs; ``threshold``: the site's resolved link threshold."""
    cfg = cfg or QueueConfig()
    if threshold <= 0:
        raise ValueError(f"link threshold must be positive, got {threshold}")
    members = list(members)
    items = [
        _item("link", m.identity_id, None, m.tracklet_id, None, m.cost, 1, threshold, cfg)
        for m in members
        if m.state == "proposed" and m.cost is not None
    ]
    items += _merges(features, members, set(cannot_link), threshold, cfg)
    for s in mixed_splits(features, members, threshold, cfg.mixed):
        cost, n = s.distance, len(s.group)
        items.append(
            _item("mixed", s.identity, None, s.tracklet, s.partner, cost, n, threshold, cfg, s.group)
        )
    items.sort(
        key=lambda it: (-it.value, abs(it.cost - threshold), it.identity, it.other or 0, it.tracklet, it.kind)
    )
    return items


def _merges(
    features: Sequence[Any],
    members: list[Membership],
    cannot: set[tuple[int, int]],
    threshold: float,
    cfg: QueueConfig,
) -> list[ReviewItem]:
    identity = {m.tracklet_id: m.identity_id for m in members}
    feats = sorted(
        (f for f in features if int(f.id) in identity and f.embedding is not None), key=lambda f: int(f.id)
    )
    if len(feats) < 2:
        return []
    ids = np.array([int(f.id) for f in feats], np.int64)
    ident = np.array([identity[int(f.id)] for f in feats], np.int64)
    cams = np.unique([str(f.camera) for f in feats], return_inverse=True)[1]
    t0 = np.array([f.first_time for f in feats], np.float64)
    t1 = np.array([f.last_time for f in feats], np.float64)
    emb = np.stack([np.asarray(f.embedding, np.float32) for f in feats])
    reach = cfg.reach * threshold
    near: set[tuple[int, int]] = (
        set()
    )  # identity pairs with a close, cross-camera, time-plausible tracklet pair
    for s in range(0, len(feats), _BLOCK):
        d = pairwise_distance_numpy(emb[s : s + _BLOCK], emb)
        i, j = np.nonzero(d <= reach)
        i = i + s
        gap = np.maximum(t0[j] - t1[i], t0[i] - t1[j])  # > 0: apart by that much; < 0: overlapping
        keep = (
            (i < j)
            & (ident[i] != ident[j])
            & (cams[i] != cams[j])
            & (gap >= -cfg.max_overlap_s)
            & (gap <= cfg.max_gap_s)
        )
        near.update(
            (int(min(a, b)), int(max(a, b))) for a, b in zip(ident[i[keep]], ident[j[keep]], strict=True)
        )
    rows_of: dict[int, list[int]] = defaultdict(list)
    for k, iid in enumerate(ident.tolist()):
        rows_of[iid].append(k)
    out = []
    for a, b in sorted(near):
        ra, rb = np.array(rows_of[a]), np.array(rows_of[b])
        if _vetoed(ids[ra], ids[rb], cannot) or not _time_plausible(ra, rb, cams, t0, t1, cfg):
            continue
        d = pairwise_distance_numpy(emb[ra], emb[rb])
        cross = cams[ra][:, None] != cams[rb][None, :]
        # the closest cross-camera pair, not the linker's cross-complete linkage: a missed link is one pair the
        # linker did not trust; on the tuning splits (simulated review, one decision per crossing person) this
        # took pooled recall 0.73 -> 0.78 at precision 0.98 -> 0.97 (gap128-h2: 0.75 -> 0.95)
        cost = float(d[cross].min())
        if cost > reach:
            continue
        gap = np.maximum(t0[rb][None, :] - t1[ra][:, None], t0[ra][:, None] - t1[rb][None, :])
        close = np.where(cross & (gap <= cfg.max_gap_s), d, np.inf)
        x, y = np.unravel_index(int(np.argmin(close)), close.shape)
        keep, other, tk, tp = (
            (a, b, ids[ra][x], ids[rb][y]) if len(ra) >= len(rb) else (b, a, ids[rb][y], ids[ra][x])
        )
        out.append(_item("merge", keep, other, int(tk), int(tp), cost, min(len(ra), len(rb)), threshold, cfg))
    return out


def _vetoed(a: np.ndarray, b: np.ndarray, cannot: set[tuple[int, int]]) -> bool:
    return any((min(x, y), max(x, y)) in cannot for x in a.tolist() for y in b.tolist())


def _time_plausible(
    ra: np.ndarray, rb: np.ndarray, cams: np.ndarray, t0: np.ndarray, t1: np.ndarray, cfg: QueueConfig
) -> bool:
    """No camera sees one of each at once, no two cameras longer than ``max_overlap_s``."""
    overlap = np.minimum(t1[ra][:, None], t1[rb][None, :]) - np.maximum(t0[ra][:, None], t0[rb][None, :])
    same = cams[ra][:, None] == cams[rb][None, :]
    return not bool(np.any(same & (overlap >= 0)) or np.any(~same & (overlap > cfg.max_overlap_s)))


def site_threshold(store: Store) -> float:
    """The link threshold the site's last full link resolved (meta ``link_threshold``); never re-calibrated."""
    value = store.get_meta("link_threshold")
    try:
        threshold = float(value) if value else math.nan
    except ValueError:
        threshold = math.nan
    if not threshold > 0:
        raise ReviewError(
            f"{store.path}: no link threshold stored (meta link_threshold); run `reid process` or "
            "`reid relink` on it first"
        )
    return threshold


class _Row(NamedTuple):
    id: int
    camera: str
    first_time: float
    last_time: float
    embedding: np.ndarray


def review_items(store: Store, cfg: QueueConfig | None = None) -> list[ReviewItem]:
    """``rank_items`` over the store's tracklets, memberships and cannot-links at its stored threshold."""
    index = store.read(tracklet_index)  # no detections read: the queue needs times and embeddings only
    # compared in the space the stored threshold was calibrated in (the last link's camera centring)
    embeddings = centre_rows(index.embeddings, index.cameras, stored_shifts(store.get_meta(CENTRING_META)))
    rows = [
        _Row(int(i), str(c), float(a), float(b), e)
        for i, c, a, b, e in zip(
            index.ids, index.cameras, index.first_time, index.last_time, embeddings, strict=True
        )
    ]
    return rank_items(
        rows, store.read(memberships), store.link_constraints().cannot_link, site_threshold(store), cfg
    )
