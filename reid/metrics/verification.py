"""Verification metrics over query–gallery pairs: threshold at a false-accept rate, ROC, TAR@FAR, EER.

What a face-verification paper reports, on the pairs of the re-ID protocol: every (query, gallery) pair
is one verification trial. A pair is *linked* (accepted as the same person) when its distance is strictly
below the threshold, ``d < t``. FAR(t) is the fraction of different-person pairs linked, TAR(t) the
fraction of same-person pairs linked; the EER is where FAR = 1 - TAR.

Pairs follow the Market-1501 protocol of ``evaluate_rank``: same pid seen by the same camera is ignored
(not a trial), pairs with a junk image (pid -1) on either side are ignored; same pid across cameras is a
same-person pair, different pids (distractors, pid 0, included) a different-person pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from reid.metrics.rank import protocol_arrays

JUNK = -1
FARS = (1e-2, 1e-3)  # the false-accept rates reported, as face verification does (LFW/IJB-style TAR@FAR)
_CHUNK_ELEMENTS = 1 << 22  # distmat values masked at once


class PairDistances(NamedTuple):
    """Distances of the protocol's verification trials, each sorted ascending."""

    same: np.ndarray  # (S,) same person, different cameras
    diff: np.ndarray  # (D,) different people


class Roc(NamedTuple):
    """ROC as a polyline through every distinct operating point, thresholds ascending.

    ``far[i]``, ``tar[i]``: fractions of different / same pairs with distance < ``thresholds[i]``;
    starts at (0, 0) and ends at (1, 1).
    """

    far: np.ndarray
    tar: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True, eq=False)
class Verification:
    """The verification report of one distance matrix (see the module docstring for the protocol)."""

    far: float  # the chosen target false-accept rate
    threshold: float  # link when distance < threshold: the largest one whose FAR <= far
    tar: float  # TAR at that threshold
    eer: float  # equal error rate
    tar_at: dict[float, float]  # TAR at each of FARS (and at far)
    threshold_at: dict[float, float]  # the threshold used for each
    pairs: PairDistances = field(repr=False)
    roc: Roc = field(repr=False)

    @property
    def same_pairs(self) -> int:
        return len(self.pairs.same)

    @property
    def diff_pairs(self) -> int:
        return len(self.pairs.diff)

    def summary(self) -> dict[str, Any]:
        """JSON-able scalars: far, threshold, tar, eer, same_pairs, diff_pairs, tar_at_far_<x>."""
        out: dict[str, Any] = {"far": self.far, "threshold": self.threshold, "tar": self.tar, "eer": self.eer,
                               "same_pairs": self.same_pairs, "diff_pairs": self.diff_pairs}
        out.update({f"tar_at_far_{f:g}": v for f, v in self.tar_at.items()})
        return out


def threshold_at_far(negatives: np.ndarray, far: float) -> float:
    """The distance threshold that links at most a fraction ``far`` of known-different pairs (FaceNet-style).

    FaceNet calibration (Schroff et al. 2015): the threshold is read off the distances of pairs known to be
    different people so that the false-accept rate is held at a target. Returned is the largest ``t`` with
    ``count(negatives < t) <= floor(far * len(negatives))``: the ``k``-th smallest negative distance,
    ``k = floor(far * n)`` (0-based), or just above the largest one when ``far`` allows every pair.

    Args:
        negatives: (n,) distances of known-different pairs, any shape (flattened); no NaN.
        far: target false-accept rate in [0, 1].

    Raises:
        ValueError: ``negatives`` is empty or has NaN, or ``far`` is outside [0, 1].
    """
    neg = np.asarray(negatives).ravel()
    if neg.size == 0:
        raise ValueError("threshold_at_far: no known-different pairs to calibrate on")
    if not 0.0 <= far <= 1.0:
        raise ValueError(f"threshold_at_far: far must be in [0, 1], got {far}")
    if neg.dtype.kind != "f":
        neg = neg.astype(np.float64)
    n = neg.size
    k = _far_rank(n, far)
    if k >= n:
        top = neg.max()
        if np.isnan(top):
            raise ValueError("threshold_at_far: negatives contain NaN")
        return float(np.nextafter(top, np.asarray(np.inf, neg.dtype)))  # in the input's precision
    kth = np.partition(neg, k)[k]  # O(n); NaN sorts last, so check the whole array
    if np.isnan(kth) or np.isnan(neg).any():
        raise ValueError("threshold_at_far: negatives contain NaN")
    return float(kth)


def _far_rank(n: int, far: float) -> int:
    """How many of ``n`` negatives a threshold at ``far`` may link: ``floor(far * n)``."""
    x = far * n
    return math.floor(x + 1e-12 * max(x, 1.0))  # tolerance: 0.29 * 100 is 28.999999999999996 in floating point


def _threshold_sorted(neg_sorted: np.ndarray, far: float) -> float:
    """``threshold_at_far`` for negatives already sorted ascending (no copy, O(1))."""
    k = _far_rank(len(neg_sorted), far)
    if k >= len(neg_sorted):
        top = neg_sorted[-1]
        return float(np.nextafter(top, np.asarray(np.inf, top.dtype)))
    return float(neg_sorted[k])


def pair_distances(distmat: np.ndarray, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any) -> PairDistances:
    """Same-person and different-person distances of all query–gallery pairs, protocol rules applied.

    Args:
        distmat: (num_query, num_gallery) distances; no NaN.
        q_pids, g_pids, q_camids, g_camids: labels as for ``evaluate_rank``; pid -1 is junk.

    Returns:
        ``PairDistances(same, diff)``, each sorted ascending, in distmat's float dtype. Memory: one value
        per pair (Market-1501: ~66M different-person pairs, 266 MB as float32).
    """
    distmat, q_pids, g_pids, q_camids, g_camids = protocol_arrays(distmat, q_pids, g_pids, q_camids, g_camids)
    g_ok = g_pids != JUNK
    same, diff = [], []
    step = max(1, _CHUNK_ELEMENTS // max(len(g_pids), 1))
    for s in range(0, len(q_pids), step):
        block, qp, qc = distmat[s:s + step], q_pids[s:s + step, None], q_camids[s:s + step, None]
        valid = (qp != JUNK) & g_ok
        pid_eq = qp == g_pids
        same.append(block[valid & pid_eq & (qc != g_camids)])
        diff.append(block[valid & ~pid_eq])
    out = PairDistances(np.concatenate(same), np.concatenate(diff))
    for a in out:
        a.sort()
        if len(a) and np.isnan(a[-1]):  # NaN sorts last
            raise ValueError("distmat has NaN distances")
    return out


def roc_curve(same: np.ndarray, diff: np.ndarray) -> Roc:
    """Exact ROC of same- and different-person distances (link when ``d < t``).

    TAR only changes at a same-pair distance ``u``, so every operating point is reached at a threshold
    ``u`` or just above it (``nextafter(u)``); the polyline through those points, from (0, 0) to (1, 1),
    is the ROC, ties included. O((S + D) log) for the sorting, O(S log D) after.
    """
    dtype = np.result_type(np.asarray(same), np.asarray(diff), np.float32)
    same = np.sort(np.asarray(same, dtype).ravel())
    diff = np.sort(np.asarray(diff, dtype).ravel())
    if len(same) == 0 or len(diff) == 0:
        raise ValueError(f"roc_curve needs same and different pairs, got {len(same)} and {len(diff)}")
    return _roc_sorted(same, diff)


def _roc_sorted(same: np.ndarray, diff: np.ndarray) -> Roc:
    """``roc_curve`` of non-empty arrays already sorted ascending, of one float dtype."""
    dtype = same.dtype
    u = np.unique(same)
    up = np.nextafter(u, np.asarray(np.inf, dtype))
    lo = min(same[0], diff[0])
    hi = np.nextafter(max(same[-1], diff[-1]), np.asarray(np.inf, dtype))
    thresholds = np.concatenate([[lo], np.stack([u, up], axis=1).ravel(), [hi]]).astype(dtype)
    far = np.searchsorted(diff, thresholds, side="left") / len(diff)
    tar = np.searchsorted(same, thresholds, side="left") / len(same)
    return Roc(far, tar, thresholds)


def equal_error_rate(roc: Roc) -> float:
    """The FAR where the ROC polyline crosses FAR = 1 - TAR (linear between its points)."""
    g = roc.far + roc.tar - 1.0  # non-decreasing along the ROC, from -1 to 1
    i = int(np.searchsorted(g, 0.0, side="left"))
    if i == 0 or g[i] == 0.0:
        return float(roc.far[i])
    alpha = -g[i - 1] / (g[i] - g[i - 1])
    return float(roc.far[i - 1] + alpha * (roc.far[i] - roc.far[i - 1]))


def tar_at_far(same: np.ndarray, diff: np.ndarray, far: float) -> tuple[float, float]:
    """``(TAR, threshold)`` at the threshold ``threshold_at_far(diff, far)``: TAR = fraction of same < threshold."""
    threshold = threshold_at_far(diff, far)
    same = np.asarray(same).ravel()
    if len(same) == 0:
        raise ValueError("tar_at_far: no same-person pairs")
    return float(np.count_nonzero(same < threshold)) / len(same), threshold


def verify(distmat: np.ndarray, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any, far: float = 1e-2,
           fars: tuple[float, ...] = FARS) -> Verification:
    """The verification report over all query–gallery pairs of the protocol: TAR at ``fars`` and at
    ``far``, the threshold at ``far``, EER, ROC.

    Raises:
        ValueError: as ``pair_distances``; no same-person pair across cameras or no different-person
        pair; ``far`` outside [0, 1].
    """
    if not 0.0 <= far <= 1.0:
        raise ValueError(f"far must be in [0, 1], got {far}")
    pairs = pair_distances(distmat, q_pids, g_pids, q_camids, g_camids)
    if len(pairs.same) == 0 or len(pairs.diff) == 0:
        raise ValueError(f"verification needs same-person pairs across cameras and different-person pairs; "
                         f"found {len(pairs.same)} and {len(pairs.diff)}")
    threshold_at, tar_at = {}, {}
    for f in dict.fromkeys((*fars, far)):
        t = _threshold_sorted(pairs.diff, f)
        threshold_at[f] = t
        tar_at[f] = int(np.searchsorted(pairs.same, np.asarray(t, pairs.same.dtype), side="left")) / len(pairs.same)
    roc = _roc_sorted(pairs.same, pairs.diff)
    return Verification(far=far, threshold=threshold_at[far], tar=tar_at[far], eer=equal_error_rate(roc),
                        tar_at=tar_at, threshold_at=threshold_at, pairs=pairs, roc=roc)
