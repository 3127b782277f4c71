"""The Hungarian rounds of the linker: each round solves ``scipy.optimize.linear_sum_assignment`` between
cluster ends (rows, earlier clusters) and cluster starts (columns, later clusters) on linkage distances below
the threshold, then merges the assigned pairs in increasing cost, re-checking every constraint and the cost
after each merge; rounds go on until nothing merges."""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from reid.link.linker import Linker
from reid.link.sightings import ranges

log = logging.getLogger(__name__)


def run_rounds(linker: Linker) -> None:
    """Merge ``linker``'s clusters round by round (see the module docstring)."""
    ei, ej = linker.candidate_edges()
    log.debug("linking %d tracklets: %d candidate links below %.3f", len(linker.ids), len(ei), linker.thr)
    cache: dict[tuple[int, int, int, int], bool] = {}
    rounds = 0
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
        pairs = np.unique(np.stack([x, y], 1), axis=0)
        pairs = pairs[~(linker.has_ml[pairs[:, 0]] & linker.has_ml[pairs[:, 1]])]
        cost = linkage(linker, pairs, roots, sizes)
        ok = cost < linker.thr
        pairs, cost = pairs[ok], cost[ok]
        legal = np.ones(len(pairs), bool)
        for k, (a, b) in enumerate(pairs.tolist()):
            if sizes[a] > 1 or sizes[b] > 1:  # singleton pairs passed legal_pairs already
                key = (a, b, int(sizes[a]), int(sizes[b]))
                if key not in cache:
                    cache[key] = linker.legal_merge(linker.members(a), linker.members(b))
                legal[k] = cache[key]
        pairs, cost = pairs[legal], cost[legal]
        if len(pairs) == 0:
            break
        merged = merge(linker, assign(pairs, cost, linker.thr))
        rounds += 1
        if merged == 0:
            break
    log.debug("linking done in %d rounds", rounds)


def linkage(linker: Linker, pairs: np.ndarray, roots: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Linkage distance of each cluster pair (rows of ``pairs``: two root indices), by ``cfg.linkage`` over
    its member pair costs (``Linker.cluster_costs``)."""
    if len(pairs) == 0:
        return np.zeros(0)
    order, start = linker.member_index(roots)
    sx, sy = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
    xs = order[np.repeat(start[pairs[:, 0]], sx) + ranges(sx)]
    ys = order[np.repeat(start[pairs[:, 1]], sy) + ranges(sy)]
    return linker.cluster_costs(xs, sx, ys, sy)


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
        m = np.zeros((len(ur), len(uc)))
        m[ri, ci] = cost[e] - thr  # < 0 on candidate links; 0 = "leave unmatched"
        for r, c in zip(*linear_sum_assignment(m), strict=True):
            if m[r, c] < 0:
                chosen.append((float(m[r, c] + thr), int(rows[ur[r]]), int(cols[uc[c]])))
    return chosen


def merge(linker: Linker, chosen: list[tuple[float, int, int]]) -> int:
    """Merge assigned pairs in increasing cost; pairs touched by an earlier merge are re-checked. Returns how
    many merged."""
    chosen.sort(key=lambda t: (t[0], int(linker.rank[t[1]]), int(linker.rank[t[2]])))
    touched: set[int] = set()
    merged = 0
    for cost, a, b in chosen:
        if a in touched or b in touched:
            ra, rb = linker.find(a), linker.find(b)
            if ra == rb or (linker.has_ml[ra] and linker.has_ml[rb]):
                continue
            xs, ys = linker.members(ra), linker.members(rb)
            cost = float(linker.cluster_costs(xs, np.array([len(xs)]), ys, np.array([len(ys)]))[0])
            if cost >= linker.thr or not linker.legal_merge(xs, ys):
                continue
            a, b = ra, rb
        touched.update((a, b))
        touched.add(linker.union(a, b, cost))
        merged += 1
    return merged
