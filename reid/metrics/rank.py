"""CMC and mAP under the Market-1501 protocol, without sorting the whole distance matrix.

Only the positives' ranks matter: CMC needs the rank of each query's first positive, AP the ranks of
all of them. A positive's rank is the number of valid gallery entries ahead of it: a binary search in
the sorted *values* of the row (``np.sort`` of values is several times faster than ``argsort``), of
only the entries no farther than the query's farthest positive when those are few, plus two small
corrections: entries removed by the protocol, and exact ties broken by gallery index. Memory is
bounded by processing queries in chunks.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_CHUNK_ELEMENTS = 1 << 22  # rows of distmat sorted at once: ~4M values (16 MB as float32)


def evaluate_rank(distmat: np.ndarray, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any,
                  max_rank: int = 50) -> tuple[np.ndarray, float]:
    """CMC curve and mean average precision, Market-1501 protocol.

    Protocol: for each query, gallery samples with the query's pid *and* camid are ignored (same
    person seen by the same camera); a query with no remaining sample of its pid is skipped. Gallery
    order is ascending distance, ties broken by gallery index (as ``np.argsort(kind="stable")``).
    Junk images (pid -1) are expected to be removed from the gallery by the data loader.

    Args:
        distmat: (num_query, num_gallery) distances, smaller is more similar; no NaN.
        q_pids, g_pids: (num_query,), (num_gallery,) identity labels.
        q_camids, g_camids: (num_query,), (num_gallery,) camera labels.
        max_rank: length of the CMC curve.

    Returns:
        ``(cmc, mAP)``: cmc (max_rank,) float64, ``cmc[k]`` = fraction of valid queries whose first
        correct match is within the top ``k + 1``; mAP in [0, 1].

    Raises:
        ValueError: shapes disagree, NaN distances, ``max_rank < 1``, or no query has a valid match.
    """
    distmat = np.asarray(distmat)
    if distmat.dtype not in (np.float32, np.float64):
        distmat = distmat.astype(np.float64)
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    if distmat.ndim != 2 or distmat.shape != (len(q_pids), len(g_pids)) \
            or len(q_camids) != len(q_pids) or len(g_camids) != len(g_pids):
        raise ValueError(f"distmat {distmat.shape} must be (num_query, num_gallery) = ({len(q_pids)}, "
                         f"{len(g_pids)}); got {len(q_camids)} query and {len(g_camids)} gallery camids")
    if max_rank < 1:
        raise ValueError(f"max_rank must be >= 1, got {max_rank}")
    num_q, num_g = distmat.shape
    if num_g < max_rank:
        log.debug("gallery has %d samples, fewer than max_rank=%d", num_g, max_rank)

    qi, gj = same_pid_pairs(q_pids, g_pids)
    same_cam = q_camids[qi] == g_camids[gj]
    pos_q, pos_g = qi[~same_cam], gj[~same_cam]  # valid matches, sorted by (query, gallery index)
    rem_q, rem_g = qi[same_cam], gj[same_cam]  # ignored by the protocol
    if len(pos_q) == 0:
        raise ValueError("no query has a valid match in the gallery (same pid seen by another camera)")
    ranks = _positive_ranks(distmat, pos_q, pos_g, rem_q, rem_g)

    # AP: the m-th positive (0-based) by rank r contributes precision (m + 1) / (r + 1)
    order = np.lexsort((ranks, pos_q))
    q_sorted, r_sorted = pos_q[order], ranks[order]
    n_pos = np.bincount(pos_q, minlength=num_q)
    starts = np.cumsum(n_pos) - n_pos
    m = np.arange(len(q_sorted)) - starts[q_sorted]
    precision = (m + 1) / (r_sorted + 1.0)
    valid = n_pos > 0
    ap = np.bincount(q_sorted, weights=precision, minlength=num_q)[valid] / n_pos[valid]

    first = r_sorted[starts[valid]]  # rank of each valid query's best match
    hits = np.bincount(np.minimum(first, max_rank), minlength=max_rank + 1)[:max_rank]
    cmc = np.cumsum(hits) / float(valid.sum())
    return cmc, float(ap.mean())


def same_pid_pairs(q_pids: np.ndarray, g_pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (query, gallery) index pairs with equal pids, sorted by query then gallery index."""
    order = np.argsort(g_pids, kind="stable")
    sorted_pids = g_pids[order]
    lo = np.searchsorted(sorted_pids, q_pids, side="left")
    counts = np.searchsorted(sorted_pids, q_pids, side="right") - lo
    qi = np.repeat(np.arange(len(q_pids)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return qi, order[np.repeat(lo, counts) + within]


def _positive_ranks(distmat: np.ndarray, pos_q: np.ndarray, pos_g: np.ndarray,
                    rem_q: np.ndarray, rem_g: np.ndarray) -> np.ndarray:
    """0-based rank of each positive among its query's valid gallery entries, in (distance, index) order."""
    num_q, num_g = distmat.shape
    chunk = max(1, _CHUNK_ELEMENTS // max(num_g, 1))
    t = distmat[pos_q, pos_g]
    if np.isnan(t).any():
        raise ValueError("distmat has NaN distances")
    farthest = np.full(num_q, -np.inf, distmat.dtype)  # per query, its farthest positive
    np.maximum.at(farthest, pos_q, t)
    ranks = np.empty(len(pos_q), np.int64)
    for s in range(0, num_q, chunk):  # chunks of queries bound the memory
        e = min(s + chunk, num_q)
        a, b = np.searchsorted(pos_q, [s, e])
        if a == b:
            continue
        block = distmat[s:e]
        if np.isnan(block.min()):
            raise ValueError(f"distmat has NaN distances (in query rows {s}..{e - 1})")
        r, tv = pos_q[a:b] - s, t[a:b]
        less, leq = _count_ahead(block, r, tv, farthest[s:e])
        ranks[a:b] = less
        ties = leq - less > 1  # other entries at exactly the positive's distance
        if ties.any():
            ranks[a:b][ties] += _tied_before(distmat, pos_q[a:b][ties], pos_g[a:b][ties], tv[ties])
    return ranks - _removed_before(distmat, pos_q, pos_g, t, rem_q, rem_g)


def _count_ahead(block: np.ndarray, r: np.ndarray, t: np.ndarray,
                 farthest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries of row ``r[k]`` of ``block`` that are < and <= ``t[k]``, for needles k.

    Only entries no farther than the row's farthest positive can be ahead of a positive, and with a
    useful model they are few: those are gathered into one flat buffer, each row padded with +inf to
    the next power of two and sorted, rows of equal width together. Rows where they exceed a quarter
    of the gallery are copied and sorted whole (the whole chunk when most rows are like that, e.g. for
    a random model).
    """
    c, n = block.shape
    needed = np.zeros(c, bool)
    needed[r] = True
    near = block <= farthest[:, None]  # (c, n): the only entries that can be ahead of a positive
    k = np.count_nonzero(near, axis=1)
    deep = needed & (k > n // 4)
    if deep.sum() * 2 > needed.sum():
        return _bisect_both(np.sort(block, axis=1).ravel(), r * n, np.full(len(r), n), t)
    shallow = needed & ~deep
    pow2 = 1 << np.ceil(np.log2(np.maximum(k, 16))).astype(np.int64)
    width = np.where(deep, n, np.where(shallow, np.minimum(pow2, n), 0))
    order = np.lexsort((deep, width))  # equal widths together, deep rows last
    start = np.empty(c, np.int64)
    start[order] = np.cumsum(width[order]) - width[order]
    flat = np.full(int(width.sum()), np.inf, block.dtype)
    n_deep = int(deep.sum())
    if n_deep:
        flat[len(flat) - n_deep * n:] = block[order[c - n_deep:]].ravel()
    near[~shallow] = False
    counts = np.where(shallow, k, 0)
    first = np.cumsum(counts) - counts
    flat[np.repeat(start - first, counts) + np.arange(int(counts.sum()))] = block[near]  # row-major order
    w_sorted = width[order]
    for w in np.unique(w_sorted[w_sorted > 0]):  # one sort per width group, not per query
        a, b = np.searchsorted(w_sorted, [w, w + 1])
        flat[start[order[a]]: start[order[a]] + (b - a) * w].reshape(b - a, w).sort(axis=1)
    return _bisect_both(flat, start[r], width[r], t)


def _bisect_both(flat: np.ndarray, start: np.ndarray, length: np.ndarray,
                 values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(# < values[k], # <= values[k]) in the sorted run ``flat[start[k]: start[k] + length[k]]``.

    A vectorised bisection over all needles at once: log2(max length) steps, each over the needles only.
    """
    m = len(values)
    strict = np.arange(2 * m) < m
    values = np.concatenate([values, values])
    lo = np.concatenate([start, start]).astype(np.int64)
    hi = lo + np.concatenate([length, length])
    last = len(flat) - 1
    for _ in range(int(length.max(initial=0)).bit_length()):  # bisection steps, not data
        mid = (lo + hi) >> 1
        v = flat[np.minimum(mid, last)]
        right = np.where(strict, v < values, v <= values)
        open_ = lo < hi
        lo = np.where(open_ & right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)
    counts = lo - np.concatenate([start, start])
    return counts[:m], counts[m:]


def _tied_before(distmat: np.ndarray, q: np.ndarray, g: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each (q, g), the gallery entries j < g of row q at exactly distance t (ties go by index)."""
    num_g = distmat.shape[1]
    out = np.empty(len(q), np.int64)
    step = max(1, _CHUNK_ELEMENTS // max(num_g, 1))
    cols = np.arange(num_g)
    for s in range(0, len(q), step):  # only the (rare) tied positives, in memory-bounded blocks
        sl = slice(s, s + step)
        hit = (distmat[q[sl]] == t[sl, None]) & (cols < g[sl, None])
        out[sl] = hit.sum(1)
    return out


def _removed_before(distmat: np.ndarray, pos_q: np.ndarray, pos_g: np.ndarray, t: np.ndarray,
                    rem_q: np.ndarray, rem_g: np.ndarray) -> np.ndarray:
    """Per positive, the ignored (same pid, same camera) entries of its query ahead of it in (distance, index)."""
    if len(rem_q) == 0:
        return np.zeros(len(pos_q), np.int64)
    q = np.concatenate([pos_q, rem_q])
    g = np.concatenate([pos_g, rem_g])
    d = np.concatenate([t, distmat[rem_q, rem_g]])
    removed = np.concatenate([np.zeros(len(pos_q), np.int64), np.ones(len(rem_q), np.int64)])
    order = np.lexsort((g, d, q))  # by query, then distance, then gallery index
    before = np.cumsum(removed[order]) - removed[order]  # removed entries strictly ahead, over all queries
    q_sorted = q[order]
    group_start = np.searchsorted(q_sorted, q_sorted, side="left")
    before -= before[group_start]  # ... counted from the start of the query's group
    out = np.empty(len(q), np.int64)
    out[order] = before
    return out[: len(pos_q)]
