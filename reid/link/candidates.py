"""Time-plausible sighting pairs in bounded memory, and mutual nearest neighbours among them (issue 23).

A sighting has as many time-plausible successors as the site sees people in a minute: at 100,000 tracklets of
16 cameras over an hour, ~2,000 each, 10^8 pairs. Nothing here holds all of them, let alone pairs x dims:
``time_candidate_chunks`` yields them a bounded number at a time, and ``mutual_nearest`` scores them in blocks
of rows (in time order) against the columns their windows span, by one GEMM per block, keeping only the pairs
that may be a nearest neighbour; their exact distances (``paired_distance_numpy``) then decide, so the answer
is the one the plain all-pairs computation gives, ties included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from reid.distances import paired_distance_numpy

PAIR_BUDGET = 1_000_000  # pairs per chunk: 8 MB per int64 array of them (p, q, gaps, cells: ~100 MB in all)
BLOCK_AREA = 1 << 21  # rows x columns of one distance block: 8 MB float32


def paired_distances(emb: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """``paired_distance_numpy(emb[i], emb[j])``, (K,) float64, gathering ``chunk`` pairs at a time: the same
    values (each row's distance is computed alone) without a (K, D) copy."""
    out = np.empty(len(i), np.float64)
    for s in range(0, len(i), chunk):
        out[s : s + chunk] = paired_distance_numpy(emb[i[s : s + chunk]], emb[j[s : s + chunk]])
    return out


def successor_ranges(
    t0: np.ndarray, t1: np.ndarray, max_gap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, start, stop)``: the time order of the sightings (stable sort of ``t0``) and, per sighting p,
    the positions ``start[p]:stop[p]`` in that order of those starting after p starts and at most ``max_gap``
    s after p ends."""
    order = np.argsort(t0, kind="stable")
    starts = t0[order]
    start = np.searchsorted(starts, t0, "right")
    stop = np.maximum(np.searchsorted(starts, t1 + max_gap, "right"), start)
    return order, start, stop


def _keep(cams_p: np.ndarray, cams_q: np.ndarray, gap: np.ndarray, max_overlap: float) -> np.ndarray:
    """In another camera q may overlap p by ``max_overlap`` s; in the same camera it starts after p ends."""
    return np.where(cams_p != cams_q, gap >= -max_overlap, gap > 0)


def time_candidate_chunks(
    cams: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    max_gap: float,
    max_overlap: float,
    budget: int = PAIR_BUDGET,
    rows: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``topology.time_candidates`` a chunk at a time (p in index order, q in time order, as there), each chunk
    at most ``budget`` pairs before the camera rule (or one p's successors, when they are more); ``rows``: only
    the pairs of these p (ascending), all when None."""
    order, start, stop = successor_ranges(t0, t1, max_gap)
    ps = np.arange(len(t0)) if rows is None else np.asarray(rows, np.int64)
    count = stop[ps] - start[ps]
    ends = np.cumsum(count)
    lo = 0
    while lo < len(ps):
        base = int(ends[lo - 1]) if lo else 0
        hi = max(int(np.searchsorted(ends, base + budget, "right")), lo + 1)
        c = count[lo:hi]
        p = np.repeat(ps[lo:hi], c)
        q = order[np.repeat(start[ps[lo:hi]], c) + np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)]
        keep = _keep(cams[p], cams[q], t0[q] - t1[p], max_overlap)
        yield p[keep], q[keep]
        lo = hi


def sample_rows(t0: np.ndarray, t1: np.ndarray, max_gap: float, most: int) -> np.ndarray | None:
    """Every k-th sighting (k as small as keeps their time-plausible pairs under about ``most``), or None when
    all of them are under it: for shares estimated over those pairs."""
    _, start, stop = successor_ranges(t0, t1, max_gap)
    total = int((stop - start).sum())
    if total <= most:
        return None
    return np.arange(0, len(t0), -(-total // most))


def _by_camera(idx: np.ndarray, cams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``idx`` regrouped by camera (stable) and the offset of each camera's run (for ``reduceat``)."""
    idx = idx[np.argsort(cams[idx], kind="stable")]
    c = cams[idx]
    return idx, np.flatnonzero(np.r_[True, c[1:] != c[:-1]])


def _first_min(key: np.ndarray, dist: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Per distinct ``key``, the position of its smallest ``dist`` (ties: smallest ``tie``)."""
    o = np.lexsort((tie, dist, key))
    return o[np.r_[True, key[o][1:] != key[o][:-1]]] if len(o) else o


def mutual_nearest(
    cams: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    emb: np.ndarray,
    threshold: float,
    max_gap: float,
    max_overlap: float,
) -> np.ndarray:
    """(K, 2) index pairs (p, q), sorted: q is p's nearest later time-plausible sighting in q's camera
    (``time_candidate_chunks``), p is q's nearest earlier one in p's camera, and their distance is below
    ``threshold``. ``cams``: (n,) int camera codes; ``emb``: (n, D) float32.

    Distances are first bounded by a float32 GEMM block by block (rows in time order against the columns
    their windows reach); a pair is kept only while its bound can still be its group's minimum (the error of
    the float32 squared distance is at most ``tol``); the kept pairs' exact distances (``paired_distance_numpy``)
    decide: each group's first minimum in the order the pairs are enumerated (p by index, q by time)."""
    n, dim = emb.shape
    order, start, stop = successor_ranges(t0, t1, max_gap)
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    ncam = int(cams.max()) + 1 if n else 1
    sq = np.einsum("ij,ij->i", emb, emb, dtype=np.float64)
    # float32 GEMM error of a squared distance: (D + 8) roundings of at most eps |x|^2, 4x to spare
    tol = np.float32(4.0 * (dim + 8) * np.finfo(np.float32).eps * (float(sq.max()) if n else 1.0))
    sq32 = sq.astype(np.float32)
    cut = np.float32(threshold * threshold + tol) if np.isfinite(threshold) else np.float32(np.inf)
    before = np.full((n, ncam), np.inf, np.float32)  # (q, camera of p): smallest bound seen so far
    after_parts: list[np.ndarray] = []
    before_parts: list[np.ndarray] = []
    kept = 0
    reach = np.maximum.accumulate(stop[order])  # >= the last column any row up to here needs
    s = 0
    while s < n:
        # rows in time order: a block's columns run from its first row's start to its rows' furthest stop
        area = np.arange(1, min(n - s, 4096) + 1) * (reach[s : s + 4096] - start[order[s]])
        e = s + max(int(np.searchsorted(area, BLOCK_AREA, "right")), 1)
        rows = order[s:e]
        lo, hi = int(start[rows].min()), int(stop[rows].max())
        s = e
        if hi <= lo:
            continue
        rows, row_seg = _by_camera(rows, cams)
        cols, col_seg = _by_camera(order[lo:hi], cams)
        d2 = emb[rows] @ emb[cols].T
        d2 *= -2.0
        d2 += sq32[rows, None]
        d2 += sq32[None, cols]
        valid = (pos[cols][None, :] >= start[rows][:, None]) & (pos[cols][None, :] < stop[rows][:, None])
        gap = t0[cols][None, :] - t1[rows][:, None]
        valid &= _keep(cams[rows][:, None], cams[cols][None, :], gap, max_overlap) & (d2 < cut)
        d2[~valid] = np.inf
        # after: per row and camera of the column; exact within the block (a row's columns are all here)
        row_min = np.minimum.reduceat(d2, col_seg, axis=1)
        col_cam = np.repeat(np.arange(len(col_seg)), np.diff(np.r_[col_seg, len(cols)]))
        r, k = np.nonzero(valid & (d2 <= row_min[:, col_cam] + 2 * tol))
        after_parts.append(np.stack([rows[r], cols[k], d2[r, k].view(np.int32)], 1))
        # before: per column and camera of the row, over every block so far (a running minimum)
        seg_min = np.minimum.reduceat(d2, row_seg, axis=0)
        row_cams = cams[rows[row_seg]]
        at = (cols[None, :], row_cams[:, None])  # each (column, camera) once per block
        before[at] = np.minimum(before[at], seg_min)
        r, k = np.nonzero(valid & (d2 <= before[cols[None, :], cams[rows][:, None]] + 2 * tol))
        before_parts.append(np.stack([rows[r], cols[k], d2[r, k].view(np.int32)], 1))
        kept += len(r)
        if kept > PAIR_BUDGET:  # drop what a later block has beaten
            before_parts = [_still_near(np.concatenate(before_parts), before, cams, tol)]
            kept = len(before_parts[0])
    after = np.concatenate(after_parts) if after_parts else np.zeros((0, 3), np.int64)
    near = _still_near(np.concatenate(before_parts), before, cams, tol) if before_parts else after[:0]
    return _exact_mutual(after[:, :2], near[:, :2], cams, pos, emb, threshold, ncam)


def _still_near(parts: np.ndarray, before: np.ndarray, cams: np.ndarray, tol: np.float32) -> np.ndarray:
    """Rows (p, q, float32 bits of the bound) whose bound may still be the minimum of (q, camera of p)."""
    d2 = parts[:, 2].astype(np.int32).view(np.float32)
    return parts[d2 <= before[parts[:, 1], cams[parts[:, 0]]] + 2 * tol]


def _exact_mutual(
    after: np.ndarray,
    near: np.ndarray,
    cams: np.ndarray,
    pos: np.ndarray,
    emb: np.ndarray,
    threshold: float,
    ncam: int,
) -> np.ndarray:
    """Mutual nearest pairs by exact distance among the candidate pairs of each side."""
    pa, qa = after[:, 0], after[:, 1]
    da = paired_distances(emb, pa, qa)
    ok = da < threshold
    pa, qa, da = pa[ok], qa[ok], da[ok]
    best = _first_min(pa * ncam + cams[qa], da, pos[qa])  # p's nearest later sighting per camera
    pa, qa = pa[best], qa[best]
    pb, qb = near[:, 0], near[:, 1]
    db = paired_distances(emb, pb, qb)
    ok = db < threshold
    pb, qb, db = pb[ok], qb[ok], db[ok]
    best = _first_min(qb * ncam + cams[pb], db, pb)  # q's nearest earlier sighting per camera
    mutual = np.zeros(0, np.int64)
    if len(best):
        n = len(cams)
        back = np.sort(pb[best] * n + qb[best])
        want = pa * n + qa
        found = np.searchsorted(back, want)
        mutual = np.flatnonzero(back[np.minimum(found, len(back) - 1)] == want) if len(back) else mutual
    out = np.stack([pa[mutual], qa[mutual]], 1).astype(np.int64)
    return out[np.lexsort((out[:, 1], out[:, 0]))] if len(out) else out.reshape(0, 2)


def camera_codes(features: list[Any] | Any) -> np.ndarray:
    """(n,) int64 code of each feature's camera (sorted camera names)."""
    names = np.array([str(f.camera) for f in features])
    return np.unique(names, return_inverse=True)[1].astype(np.int64).reshape(-1)
