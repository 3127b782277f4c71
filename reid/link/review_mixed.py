"""Identities that look like two people: the members of an identity split in two by appearance.

Each identity of at least two embedded tracklets that the linker formed (one member or more still a proposed
link with a cost) and that the reviewer has not confirmed whole is cut into two groups by average linkage
(``scipy.cluster.hierarchy``, Euclidean, on the embeddings as given: the queue passes them centred per camera
as the stored threshold's space). The split is "clean" when the two groups' average-linkage distance (the
mean distance between a tracklet of one and one of the other) exceeds ``factor`` × the link threshold.
Pure functions of rows; ``reid.link.review_queue`` turns each split into a ``"mixed"`` item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.cluster.hierarchy import cut_tree, linkage

from reid.distances import pairwise_distance_numpy
from reid.store.queries import Membership


class MixedSplit(NamedTuple):
    """An identity cut in two: ``group`` (the smaller part, sorted tracklet ids) against the rest;
    ``tracklet`` (in ``group``) and ``partner`` (in the rest) the closest pair across the cut; ``distance``
    the two groups' average-linkage distance."""

    identity: int
    group: tuple[int, ...]
    tracklet: int
    partner: int
    distance: float


def mixed_splits(
    features: Sequence[Any], members: Iterable[Membership], threshold: float, factor: float
) -> list[MixedSplit]:
    """The identities whose two-group split is past ``factor`` × ``threshold``, by identity id.

    ``features``: tracklets with ``.id`` and ``.embedding`` ((D,) float32); ``members``: memberships of active
    identities. Skipped: identities of fewer than two embedded tracklets, those with no proposed link (every
    member confirmed, or no linker cost: the reviewer or nobody formed them)."""
    emb = {int(f.id): f.embedding for f in features if f.embedding is not None}
    by_identity: dict[int, list[Membership]] = defaultdict(list)
    for m in members:
        by_identity[m.identity_id].append(m)
    out = []
    for iid, ms in sorted(by_identity.items()):
        if not any(m.state == "proposed" and m.cost is not None for m in ms):
            continue
        ids = sorted(m.tracklet_id for m in ms if m.tracklet_id in emb)
        if len(ids) < 2:
            continue
        split = _split(iid, ids, np.stack([np.asarray(emb[t], np.float32) for t in ids]))
        if split.distance > factor * threshold:
            out.append(split)
    return out


def _split(identity: int, ids: list[int], x: np.ndarray) -> MixedSplit:
    """Average-linkage cut of ``x`` ((N, D), N >= 2, rows in ``ids`` order) into two groups."""
    tree = linkage(x.astype(np.float64), method="average", metric="euclidean")
    labels = cut_tree(tree, n_clusters=2)[:, 0]  # exactly two groups, ties in the tree included
    one = labels == labels[0]  # the group holding the lowest tracklet id
    small = ~one if (~one).sum() <= one.sum() else one  # ties: the group without the lowest id splits off
    d = pairwise_distance_numpy(x[small], x[~small])
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    group, rest = np.asarray(ids)[small], np.asarray(ids)[~small]
    return MixedSplit(identity, tuple(int(t) for t in group), int(group[i]), int(rest[j]), float(tree[-1, 2]))
