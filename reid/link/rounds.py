"""The Hungarian rounds of the linker: each round solves ``scipy.optimize.linear_sum_assignment`` between
cluster ends (rows, earlier clusters) and cluster starts (columns, later clusters) on linkage distances below
the threshold, then merges the assigned pairs in increasing cost, re-checking every constraint and the cost
after each merge; rounds go on until nothing merges."""

from __future__ import annotations

import logging

import numpy as np
from lap import lapmod
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from reid.link.linker import Linker
from reid.link.sightings import ranges

log = logging.getLogger(__name__)

MEMBER_PAIRS = 1_000_000  # member pairs per linkage call: 8 MB per int64 array over them
DENSE_CELLS = 4_000_000  # a larger component of the candidate graph is solved sparse (32 MB dense at most)


def run_rounds(linker: Linker) -> None:
    """Merge ``linker``'s clusters round by round (see the module docstring)."""
    ei, ej, edge_cost = linker.candidate_edges()
    log.debug("linking %d tracklets: %d candidate links below %.3f", len(linker.ids), len(ei), linker.thr)
    cache: dict[tuple[int, int, int, int], bool] = {}
    rounds = 0
    n = len(linker.ids)
    # the last round's linkage costs by pair key (x * n + y, ascending) and cluster sizes: a cluster keeps its
    # root (its earliest member) while it grows, so a pair of clusters of unchanged sizes costs what it did;
    # before the first round, two single tracklets cost their edge's ``pair_costs`` (the linkage of one pair)
    first = linker.rank[ei] <= linker.rank[ej]
    last_key = np.where(first, ei, ej) * n + np.where(first, ej, ei)
    order = np.argsort(last_key)
    last_key, last_cost, last_sizes = last_key[order], edge_cost[order], np.ones(n, np.int64)
    while True:
        roots = linker.roots()
        sizes = np.bincount(roots, minlength=len(roots))
        x, y = roots[ei], roots[ej]
        keep = x != y
        x, y = x[keep], y[keep]
        swap = linker.rank[x] > linker.rank[y]  # x: earlier cluster (row), y: later cluster (column)
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        if len(x) == 0:
            break
        code = np.sort(x * n + y)  # the pairs, in (x, y) order, once each (np.unique hashes: 50x slower here)
        code = code[np.r_[True, code[1:] != code[:-1]]]
        pairs = np.stack([code // n, code % n], 1)
        alone = ~(linker.has_ml[pairs[:, 0]] & linker.has_ml[pairs[:, 1]])
        pairs, code = pairs[alone], code[alone]
        cost = np.empty(len(pairs))
        known = np.zeros(len(pairs), bool)
        if len(last_key):
            at = np.minimum(np.searchsorted(last_key, code), len(last_key) - 1)
            same = sizes == last_sizes
            known = same[pairs[:, 0]] & same[pairs[:, 1]] & (last_key[at] == code)
            cost[known] = last_cost[at[known]]
        cost[~known] = linkage(linker, pairs[~known], roots, sizes)
        last_key, last_cost, last_sizes = code, cost, sizes
        ok = cost < linker.thr
        pairs, cost = pairs[ok], cost[ok]
        legal = np.ones(len(pairs), bool)
        check = np.flatnonzero((sizes[pairs[:, 0]] > 1) | (sizes[pairs[:, 1]] > 1))  # singletons passed legal_pairs
        keys = [(a, b, int(sizes[a]), int(sizes[b])) for a, b in pairs[check].tolist()]
        new = [k for k, key in enumerate(keys) if key not in cache]
        if new:
            for key, ok in zip([keys[k] for k in new], legal_merges(linker, pairs[check[new]], roots, sizes),
                               strict=True):
                cache[key] = bool(ok)
        legal[check] = [cache[key] for key in keys]
        pairs, cost = pairs[legal], cost[legal]
        if len(pairs) == 0:
            break
        merged = merge(linker, assign(pairs, cost, linker.thr))
        rounds += 1
        if merged == 0:
            break
    log.debug("linking done in %d rounds", rounds)


def _members(linker: Linker, pairs: np.ndarray, roots: np.ndarray, sizes: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members of both clusters of each pair: ``(xs, sx, ys, sy)`` as ``Linker.cluster_costs`` takes them."""
    order, start = linker.member_index(roots)
    sx, sy = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
    xs = order[np.repeat(start[pairs[:, 0]], sx) + ranges(sx)]
    ys = order[np.repeat(start[pairs[:, 1]], sy) + ranges(sy)]
    return xs, sx, ys, sy


def legal_merges(linker: Linker, pairs: np.ndarray, roots: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``Linker.legal_merge`` of each cluster pair (rows of ``pairs``: two root indices), in one call."""
    return linker.legal_merges(*_members(linker, pairs, roots, sizes))


def linkage(linker: Linker, pairs: np.ndarray, roots: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Linkage distance of each cluster pair (rows of ``pairs``: two root indices), by ``cfg.linkage`` over
    its member pair costs (``Linker.cluster_costs``)."""
    if len(pairs) == 0:
        return np.zeros(0)
    # a bounded number of member pairs at a time (each merge's cost is its own): big clusters late in a busy
    # site's rounds would otherwise hold every member pair of every candidate merge at once
    work = np.cumsum(sizes[pairs[:, 0]] * sizes[pairs[:, 1]])
    cuts = np.searchsorted(work, np.arange(MEMBER_PAIRS, int(work[-1]), MEMBER_PAIRS), "right")
    return np.concatenate([linker.cluster_costs(*_members(linker, part, roots, sizes))
                           for part in np.split(pairs, cuts) if len(part)])


def assign(pairs: np.ndarray, cost: np.ndarray, thr: float) -> list[tuple[float, int, int]]:
    """Hungarian matching of earlier clusters (rows) to later clusters (columns), one component of the
    candidate graph at a time; maximises the sum of (``thr`` - cost) over matched pairs. Returns
    ``(cost, row cluster, column cluster)`` of the matched pairs."""
    rows, r_idx = np.unique(pairs[:, 0], return_inverse=True)
    cols, c_idx = np.unique(pairs[:, 1], return_inverse=True)
    nr = len(rows)
    graph = coo_matrix((np.ones(len(pairs)), (r_idx, nr + c_idx)), shape=(nr + len(cols),) * 2)
    _, comp = connected_components(graph, directed=False)
    edge_comp = comp[r_idx]
    chosen: list[tuple[float, int, int]] = []
    for e in np.split(np.argsort(edge_comp, kind="stable"), np.cumsum(np.bincount(edge_comp))[:-1]):
        if len(e) == 0:
            continue
        if len(e) == 1:
            chosen.append((float(cost[e[0]]), int(pairs[e[0], 0]), int(pairs[e[0], 1])))
            continue
        ur, ri = np.unique(r_idx[e], return_inverse=True)
        uc, ci = np.unique(c_idx[e], return_inverse=True)
        if len(ur) * len(uc) > DENSE_CELLS:  # a chain of look-alikes across the site: sparse, memory per link
            w = cost[e] - thr
            for k in sparse_assignment(ri, ci, w, len(ur), len(uc)):
                chosen.append((float(w[k] + thr), int(rows[ur[ri[k]]]), int(cols[uc[ci[k]]])))  # as the dense path
            continue
        m = np.zeros((len(ur), len(uc)))
        m[ri, ci] = cost[e] - thr  # < 0 on candidate links; 0 = "leave unmatched"
        for r, c in zip(*linear_sum_assignment(m), strict=True):
            if m[r, c] < 0:
                chosen.append((float(m[r, c] + thr), int(rows[ur[r]]), int(cols[uc[c]])))
    return chosen


def sparse_assignment(r: np.ndarray, c: np.ndarray, w: np.ndarray, nr: int, nc: int) -> np.ndarray:
    """Positions of the edges ``(r[k], c[k])`` (weights ``w`` < 0, distinct pairs) in a matching of least total
    weight, any size: the dense problem with 0 for "unmatched", solved as a square sparse assignment
    (``lap.lapmod``, Jonker-Volgenant on the links alone; 3x to 7x faster than scipy's LAPJVsp on a busy site's
    chain of look-alikes) of ``nr + nc`` rows and columns: row r may also take a dummy column of its own (r left
    alone), column c a dummy row of its own (c left alone), and the dummy row of c takes the dummy column of r
    wherever (r, c) is a link, so that every real matching completes and every completion costs the same.
    Weights move by ``-min(w)`` so that none is negative: every completion moves alike (``nr`` rows pay it)."""
    if len(w) == 0:
        return np.zeros(0, np.int64)
    low = float(w.min(initial=0.0))
    n = nr + nc
    rows = np.concatenate([r, np.arange(nr), nr + np.arange(nc), nr + c]).astype(np.int64)
    cols = np.concatenate([c, nc + np.arange(nr), np.arange(nc), nc + r]).astype(np.int64)
    vals = np.concatenate([w - low, np.full(nr, -low), np.zeros(nc), np.zeros(len(w))])
    order = np.lexsort((cols, rows))  # row by row, columns sorted within a row (as lapmod takes them)
    start = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    x = lapmod(n, vals[order], start, cols[order], return_cost=False)[0][:nr]
    real = np.flatnonzero(x < nc)
    key = r.astype(np.int64) * nc + c  # each edge's position, looked up by (row, column)
    at = np.argsort(key, kind="stable")
    return at[np.searchsorted(key[at], real * nc + x[real])].astype(np.int64)


def merge(linker: Linker, chosen: list[tuple[float, int, int]]) -> int:
    """Merge assigned pairs in increasing cost; pairs touched by an earlier merge are re-checked. Returns how
    many merged.

    The re-checks are batched: one whose clusters no pending re-check involves waits with the others, and the
    batch is decided (``cluster_costs``, ``legal_merges``: one call each) before any pair that shares a
    cluster with one of them; merges of disjoint clusters commute, so the outcome is that of one pair at a
    time."""
    chosen.sort(key=lambda t: (t[0], int(linker.rank[t[1]]), int(linker.rank[t[2]])))
    touched: set[int] = set()
    pending: list[tuple[int, int]] = []
    busy: set[int] = set()  # clusters of the pending re-checks
    merged = 0

    def flush() -> None:
        nonlocal merged
        if not pending:
            return
        xs = [linker.members(a) for a, _ in pending]
        ys = [linker.members(b) for _, b in pending]
        args = (np.concatenate(xs), np.array([len(x) for x in xs]), np.concatenate(ys), np.array([len(y) for y in ys]))
        costs = linker.cluster_costs(*args)
        legal = linker.legal_merges(*args)
        for (a, b), cost, ok in zip(pending, costs.tolist(), legal.tolist(), strict=True):
            if cost >= linker.thr or not ok:
                continue
            touched.update((a, b))
            touched.add(linker.union(a, b, cost))
            merged += 1
        pending.clear()
        busy.clear()

    for cost, a, b in chosen:
        ra, rb = linker.find(a), linker.find(b)
        if ra in busy or rb in busy:
            flush()
            ra, rb = linker.find(a), linker.find(b)
        if a in touched or b in touched:
            if ra == rb or (linker.has_ml[ra] and linker.has_ml[rb]):
                continue
            pending.append((ra, rb))
            busy.update((ra, rb))
            continue
        touched.update((a, b))
        touched.add(linker.union(a, b, cost))
        merged += 1
    flush()
    return merged
