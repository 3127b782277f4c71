"""CMC and mAP under the Market-1501 protocol, without sorting whole rows of the distance matrix.

Only the positives' ranks matter: CMC needs the rank of each query's first positive, AP the ranks of
all of them. A positive's rank is the number of valid gallery entries ahead of it in (distance, gallery
index) order. Only entries no farther than the query's farthest positive can be ahead of one; per query,
whichever of two ways a cost model says is cheaper counts them:

- *sort* (few such entries, as with a trained model): they are sorted, all such rows of a chunk in one
  flat buffer, and every positive is binary-searched in its row's run;
- *count* (many, positives deep in the row: early training, an untrained model): nothing is sorted;
  each positive counts, in two vectorised comparison passes over the row (or over its near entries),
  the entries below its distance and the entries equal to it at a smaller gallery index, so ties go by
  index exactly. O(n) per positive instead of O(n log n) per row: with Market-1501's ~19 positives per
  query it is the cheaper way once more than about a quarter of the row is near.

Entries the protocol ignores (same pid and camera) are left out of the near entries, and are NaN in the
copy of a row that is counted whole (every comparison with NaN is false). Memory is bounded by
processing queries in chunks.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_CHUNK_ELEMENTS = 1 << 22  # distmat values handled at once: ~4M (16 MB as float32)
# Cost model of the two ways per row (ns), measured with OMP_NUM_THREADS=1 on the 2-core dev VM (AMD EPYC,
# numpy 2.4, rows of 19,732 float32): gathering a row's near entries ~1.3 per row value (_COMPRESS_NS),
# then sorting m of them ~ m * (3 + 1.4 log2 m); counting: two comparison passes + count_nonzero ~0.22
# per value compared, per positive, plus ~0.5 us per positive and ~15 us per row of call overhead.
_GATHER_NS, _SORT_NS, _CMP_NS, _CALL_NS = 3.0, 1.4, 0.22, 500.0
_COMPRESS_NS, _ROW_NS = 1.3, 15000.0


def protocol_arrays(distmat: Any, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any) -> tuple[np.ndarray, ...]:
    """The protocol's inputs as arrays: ``distmat`` (num_query, num_gallery) float32/float64, and 1-D pids and
    camids of matching lengths; ``ValueError`` naming the shapes otherwise."""
    distmat = np.asarray(distmat)
    if distmat.dtype not in (np.float32, np.float64):
        distmat = distmat.astype(np.float64)
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    if distmat.ndim != 2 or distmat.shape != (len(q_pids), len(g_pids)) \
            or len(q_camids) != len(q_pids) or len(g_camids) != len(g_pids):
        raise ValueError(f"distmat {distmat.shape} must be (num_query, num_gallery) = ({len(q_pids)}, "
                         f"{len(g_pids)}); got {len(q_camids)} query and {len(g_camids)} gallery camids")
    return distmat, q_pids, g_pids, q_camids, g_camids


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
    distmat, q_pids, g_pids, q_camids, g_camids = protocol_arrays(distmat, q_pids, g_pids, q_camids, g_camids)
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
    """0-based rank of each positive among its query's valid gallery entries, in (distance, index) order.

    ``pos_*`` and ``rem_*`` (the ignored entries) are sorted by query, as ``same_pid_pairs`` returns them.
    """
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
        ra, rb = np.searchsorted(rem_q, [s, e])
        ranks[a:b] = _chunk_ranks(block, pos_q[a:b] - s, pos_g[a:b], t[a:b], farthest[s:e],
                                  rem_q[ra:rb] - s, rem_g[ra:rb])
    return ranks


def _chunk_ranks(block: np.ndarray, r: np.ndarray, g: np.ndarray, t: np.ndarray, farthest: np.ndarray,
                 rr: np.ndarray, rg: np.ndarray) -> np.ndarray:
    """Ranks of the positives (row ``r[k]``, column ``g[k]``, distance ``t[k]``) of ``block``, rows sorted.

    ``(rr, rg)``: the ignored entries of the block, sorted by row. Each row with positives goes the
    cheaper way (see the module docstring), per the cost model above.
    """
    c, n = block.shape
    near = block <= farthest[:, None]  # (c, n): the only entries that can be ahead of a positive
    near[rr, rg] = False
    m = near.view(np.uint8).sum(axis=1, dtype=np.int64)
    n_pos = np.bincount(r, minlength=c)
    compress = n_pos * _CMP_NS * (n - m) > _COMPRESS_NS * n  # compare only the near entries
    count_ns = _ROW_NS + n_pos * (_CALL_NS + _CMP_NS * np.where(compress, m, n)) + compress * _COMPRESS_NS * n
    sort_ns = _COMPRESS_NS * n + m * (_GATHER_NS + _SORT_NS * np.log2(np.maximum(m, 2)))
    by_count = (n_pos > 0) & (count_ns < sort_ns)
    pos_start = np.searchsorted(r, np.arange(c + 1))
    rem_start = np.searchsorted(rr, np.arange(c + 1))
    ranks = np.empty(len(r), np.int64)
    steps = max(1, _CHUNK_ELEMENTS // 4 // max(n, 1))  # positives per comparison pass: bounds the buffer
    buf = np.empty((min(int(n_pos[by_count].max(initial=0)), steps), n), bool)
    for i in np.flatnonzero(by_count):
        lo, hi = pos_start[i], pos_start[i + 1]
        if compress[i]:
            keep = np.flatnonzero(near[i])
            row, cols = block[i, keep], np.searchsorted(keep, g[lo:hi])  # a positive's place among them
        else:
            row, cols = block[i], g[lo:hi]
            if rem_start[i] < rem_start[i + 1]:  # ignored entries become NaN: never <, == anything
                row = row.copy()
                row[rg[rem_start[i]:rem_start[i + 1]]] = np.nan
        ranks[lo:hi] = _count_ahead(row, cols, t[lo:hi], buf)
    by_sort = (n_pos > 0) & ~by_count
    if by_sort.any():
        near[~by_sort] = False
        picked = by_sort[r]
        ranks[picked] = _ranks_by_sorting(block, near, np.where(by_sort, m, 0), r[picked], g[picked],
                                          t[picked], rr, rg, rem_start)
    return ranks


def _count_ahead(row: np.ndarray, cols: np.ndarray, t: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """Per positive k (at ``cols[k]`` of ``row``, distance ``t[k]``): entries < t[k], plus == t[k] before it.

    Two comparison passes over the row per positive, ``len(buf)`` positives per numpy call, into ``buf``
    (a reused bool buffer of at least ``len(row)`` columns); NaN never counts.
    """
    out = np.empty(len(t), np.int64)
    count = np.count_nonzero
    for s in range(0, len(t), len(buf)):
        tv = t[s:s + len(buf), None]
        b = buf[: len(tv), : len(row)]
        less = [count(x) for x in np.less(row, tv, out=b)]
        tied = [count(x[:p]) for x, p in zip(np.equal(row, tv, out=b), cols[s:s + len(buf)].tolist(), strict=True)]
        out[s:s + len(buf)] = np.add(less, tied)
    return out


def _ranks_by_sorting(block: np.ndarray, near: np.ndarray, m: np.ndarray, r: np.ndarray, g: np.ndarray,
                      t: np.ndarray, rr: np.ndarray, rg: np.ndarray, rem_start: np.ndarray) -> np.ndarray:
    """Ranks of positives by sorting their rows' ``near`` entries (``m`` per row; 0 for rows not sorted).

    The near entries are gathered into one flat buffer, each row padded with +inf to the next power of
    two, and sorted, rows of equal width together (one sort call per width, not per row).
    """
    c, n = block.shape
    pow2 = 1 << np.ceil(np.log2(np.maximum(m, 16))).astype(np.int64)
    width = np.where(m > 0, np.minimum(pow2, n), 0)
    order = np.argsort(width, kind="stable")  # equal widths together
    start = np.empty(c, np.int64)
    start[order] = np.cumsum(width[order]) - width[order]
    flat = np.full(int(width.sum()), np.inf, block.dtype)
    first = np.cumsum(m) - m
    flat[np.repeat(start - first, m) + np.arange(int(m.sum()))] = block[near]  # row-major order
    w_sorted = width[order]
    for w in np.unique(w_sorted[w_sorted > 0]):
        a, b = np.searchsorted(w_sorted, [w, w + 1])
        flat[start[order[a]]: start[order[a]] + (b - a) * w].reshape(b - a, w).sort(axis=1)
    less, leq = _bisect_both(flat, start[r], width[r], t)
    ties = np.flatnonzero(leq - less > 1)  # other entries (or +inf padding) at exactly the positive's distance
    for k in ties:  # rare: count the tied valid entries before the positive
        row = block[r[k]].copy()
        row[rg[rem_start[r[k]]:rem_start[r[k] + 1]]] = np.nan
        less[k] += np.count_nonzero(row[: g[k]] == t[k])
    return less


def _bisect_both(flat: np.ndarray, start: np.ndarray, length: np.ndarray,
                 values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(# < values[k], # <= values[k]) in the sorted run ``flat[start[k]: start[k] + length[k]]``.

    A vectorised bisection over all needles at once: log2(max length) steps, each over the needles only.
    """
    k = len(values)
    strict = np.arange(2 * k) < k
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
    return counts[:k], counts[k:]
