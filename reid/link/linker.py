"""The state of one linking run: units (tracklets or stitched chains) as arrays, their clusters (union-find,
must-link groups), the constraints every merge is checked against, and the appearance costs of pairs and merges.

The Hungarian rounds that decide the merges are ``reid.link.rounds``; the time and place gate is
``reid.link.gating``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from reid.config import LinkConfig
from reid.distances import pairwise_distance_numpy
from reid.link.candidates import paired_distances
from reid.link.gating import Routes, windows
from reid.link.linkage import reduce_linkage, reranked
from reid.link.sightings import Sightings, ranges
from reid.link.topology import Topology, Transition
from reid.store.rows import LinkProposal

log = logging.getLogger(__name__)

_CHUNK = 1024  # rows per distance block: 1024 x 10k float32 = 40 MB
_MARGIN = 1e-4  # float32 block distances may differ from the float64 costs in the last bits


class Linker:
    """State of one ``link_tracklets`` call at the resolved ``threshold``; units (tracklets or stitched chains) are indexed 0..n-1 in id
    order, their tracklets ("sightings") as in ``Sightings``."""

    def __init__(self, features: Sequence[Any], constraints: Any, cfg: LinkConfig,
                 topology: Topology | None = None, parts: dict[int, list[Any]] | None = None, *,
                 threshold: float) -> None:
        feats = sorted(features, key=lambda f: int(f.id))
        self.thr = float(threshold)  # resolved once by the caller (reid.link.calibrate.resolve_threshold)
        self.linkage_kind = cfg.linkage
        self.ids = np.array([int(f.id) for f in feats], np.int64)
        if len(np.unique(self.ids)) != len(self.ids):
            raise ValueError("link_tracklets: tracklet ids must be unique")
        n = len(feats)
        names = sorted({str(f.camera) for f in feats})
        code = {c: k for k, c in enumerate(names)}
        self.cams = np.array([code[str(f.camera)] for f in feats], np.int64)
        self.t0 = np.array([f.first_time for f in feats], np.float64)
        self.t1 = np.array([f.last_time for f in feats], np.float64)
        # time order of tracklets: (first_time, id); a cluster's key is its earliest member's rank
        order = np.lexsort((self.ids, self.t0))
        self.rank = np.empty(n, np.int64)
        self.rank[order] = np.arange(n)
        dim = next((len(f.embedding) for f in feats if f.embedding is not None), 1)
        self.has_emb = np.array([f.embedding is not None for f in feats])
        self.emb = np.zeros((n, dim), np.float32)
        for k, f in enumerate(feats):
            if f.embedding is not None:
                self.emb[k] = np.asarray(f.embedding, np.float32)
        self.lo, self.hi = windows(cfg.transit, code, cfg.max_reentry_s)
        self.sight = Sightings(feats, parts or {}, code)
        self.route = Routes(topology, names, self.sight.features, cfg.zone_margin)
        self.index = {int(t): k for k, t in enumerate(self.ids)}
        self.cannot: dict[int, set[int]] = {}
        for a, b in getattr(constraints, "cannot_link", None) or ():
            if int(a) in self.index and int(b) in self.index:
                ia, ib = self.index[int(a)], self.index[int(b)]
                self.cannot.setdefault(ia, set()).add(ib)
                self.cannot.setdefault(ib, set()).add(ia)
        self.parent = np.arange(n)
        self.member_lists: dict[int, list[int]] = {i: [i] for i in range(n)}
        self.has_ml = np.zeros(n, bool)
        self.cost: list[float | None] = [None] * n
        self.dense: np.ndarray | None = None
        if cfg.rerank:
            self.dense = reranked(self.emb)
        self._must_link(getattr(constraints, "must_link", None) or ())

    # ------------------------------------------------------------------------------------ clusters
    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = int(self.parent[i])
        return i

    def roots(self) -> np.ndarray:
        """Root of every tracklet, (n,) int64 (also flattens the union-find)."""
        p = self.parent
        while True:  # pointer jumping, vectorised
            q = p[p]
            if np.array_equal(q, p):
                break
            p = q
        self.parent = p
        return p.copy()

    def members(self, root: int) -> np.ndarray:
        """Tracklet indices of the cluster whose root is ``root``."""
        return np.array(self.member_lists[root], np.int64)

    @staticmethod
    def member_index(roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(order, start)``: the members of cluster r are ``order[start[r]:start[r] + size[r]]``."""
        order = np.argsort(roots, kind="stable")
        return order, np.searchsorted(roots[order], np.arange(len(roots)))

    def union(self, x: int, y: int, cost: float | None) -> int:
        """Merge clusters with roots ``x`` and ``y``; the later cluster's head records ``cost``."""
        if self.rank[x] > self.rank[y]:
            x, y = y, x
        self.cost[y] = cost  # roots are heads: a cluster's root is its earliest member
        self.parent[y] = x
        self.member_lists[x].extend(self.member_lists.pop(y))
        self.has_ml[x] |= self.has_ml[y]
        return x

    def _must_link(self, groups: Iterable[Iterable[int]]) -> None:
        for group in groups:
            idx = sorted((self.index[int(t)] for t in group if int(t) in self.index), key=lambda i: self.rank[i])
            if not idx:
                continue
            roots = {self.find(i) for i in idx}
            head = min(roots, key=lambda r: self.rank[r])
            for r in roots - {head}:
                self.parent[r] = head
                self.member_lists[head].extend(self.member_lists.pop(r))
            self.has_ml[head] = True
            for k, i in enumerate(idx[1:], 1):  # confirmed members: distance to the earlier ones
                self.cost[i] = float(self.pair_costs(np.full(k, i), np.array(idx[:k])).mean())
            self.cost[self.find(idx[0])] = None

    def _apart(self, xs: np.ndarray, ys: np.ndarray) -> bool:
        """No cannot-link between member sets ``xs`` and ``ys``, and no two sightings of one camera overlap in
        time."""
        if self.cannot:
            yset = set(ys.tolist())
            if any(self.cannot.get(x, set()) & yset for x in xs.tolist()):
                return False
        sight = self.sight
        m = sight.of(np.concatenate([xs, ys]))[1]
        s = m[np.lexsort((sight.rank[m], sight.cams[m]))]
        same = sight.cams[s[1:]] == sight.cams[s[:-1]]
        return not np.any(same & (sight.t0[s[1:]] <= sight.t1[s[:-1]]))

    def steps(self, group: np.ndarray, side: np.ndarray, units: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The crossings of each proposed merge: rows ``(group[k], side[k], units[k])`` put unit ``units[k]``
        on one of two sides (0/1) of merge ``group[k]``; returns ``(group, p, q)`` for every pair of sightings
        consecutive in time within a group that come one from each side (p the earlier). These are the steps
        a person would take if the two sides were one: each must be possible (transit windows, topology) and
        the learned transitions they go through loosen the appearance threshold of the whole merge."""
        row, s = self.sight.of(units)
        g, side = group[row], side[row]
        # by (group, time rank): one stable sort of one key, the order of lexsort((rank, group))
        order = np.argsort(g * len(self.sight.rank) + self.sight.rank[s], kind="stable")
        g, side, s = g[order], side[order], s[order]
        new = (g[1:] == g[:-1]) & (side[1:] != side[:-1])
        return g[:-1][new], s[:-1][new], s[1:][new]

    def steps_ok(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Whether sighting q may follow sighting p (bool array): no overlap in one camera, the transit
        windows, the learned topology."""
        sight = self.sight
        gap = sight.t0[q] - sight.t1[p]
        cp, cq = sight.cams[p], sight.cams[q]
        ok = ((cp != cq) | (gap > 0)) & (gap >= self.lo[cp, cq]) & (gap <= self.hi[cp, cq])
        return ok & self.route.allowed(p, q, gap)

    def merge_bonus(self, group: np.ndarray, p: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
        """Threshold bonus of each of ``n`` merges from its steps (``steps``): the smallest over them, so a
        merge is loosened only when every step goes through a learned transition or picks up a lost track."""
        out = np.full(n, np.inf)
        np.minimum.at(out, group, self.route.bonus(p, q, self.sight.t0[q] - self.sight.t1[p]))
        return np.where(np.isfinite(out), out, 0.0)

    def _pair_steps(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``steps`` of the pairs (i[k], j[k]) of units: a pair of single sightings is one step, earlier first."""
        sight = self.sight
        single = (sight.count[i] == 1) & (sight.count[j] == 1)
        one = np.flatnonzero(single)
        si, sj = sight.first[i[one]], sight.first[j[one]]
        early = sight.rank[si] <= sight.rank[sj]
        p, q = np.where(early, si, sj), np.where(early, sj, si)
        if len(one) == len(i):
            return one, p, q
        k = np.flatnonzero(~single)
        kk, pp, qq = self.steps(np.concatenate([k, k]), np.repeat([0, 1], len(k)), np.concatenate([i[k], j[k]]))
        which = np.concatenate([one, kk])
        order = np.argsort(which, kind="stable")  # by pair, as ``steps`` orders them
        return which[order], np.concatenate([p, pp])[order], np.concatenate([q, qq])[order]

    # ------------------------------------------------------------------------------------ distances
    def distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Appearance distance between units ``i[k]`` and ``j[k]``, float64: the Euclidean metric of
        ``pairwise_distance_numpy``, row by row, computed from differences in float64 so that a pair's cost
        does not depend on which block it was found in."""
        if self.dense is not None:
            return self.dense[i, j].astype(np.float64)
        return paired_distances(self.emb, i, j)

    def scaled(self, dist: np.ndarray, bonus: np.ndarray) -> np.ndarray:
        """Through a learned transition the threshold is thr + bonus: scale the distance so that every cost is
        compared with thr (and stays >= 0, so a reviewer's cost and confidence read as before)."""
        total = self.thr + bonus
        return dist * np.divide(self.thr, total, out=np.ones_like(total, dtype=np.float64), where=total > 0)

    def pair_costs(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Cost of merging units ``i[k]`` and ``j[k]`` alone: their distance, scaled by the pair's bonus."""
        return self.scaled(self.distances(i, j), self.merge_bonus(*self._pair_steps(i, j), len(i)))

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(len(rows), len(cols)) distances."""
        if self.dense is not None:
            return self.dense[np.ix_(rows, cols)]
        return pairwise_distance_numpy(self.emb[rows], self.emb[cols])

    def legal_pairs(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether units ``i[k]``, ``j[k]`` may be one person (bool array): every step between their
        sightings is possible."""
        k, p, q = self._pair_steps(i, j)
        bad = np.bincount(k[~self.steps_ok(p, q)], minlength=len(i)) > 0
        return ~bad & self.has_emb[i] & self.has_emb[j]

    def candidate_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tracklet pairs (i < j) closer than the threshold that pass ``legal_pairs`` and cannot-link, with their
        ``pair_costs``."""
        found_i, found_j = [], []
        ncam = int(self.cams.max()) + 1
        by_cam = [np.flatnonzero(self.cams == c) for c in range(ncam)]
        by_cam = [m[np.argsort(self.t0[m], kind="stable")] for m in by_cam]
        for a in range(ncam):
            for b in range(a, ncam):
                rows_all, cols = by_cam[a], by_cam[b]
                # the transit windows, and between cameras the learned transitions: a gated pair is never further apart
                hi = max(min(self.hi[a, b], self.route.reach(a, b)), min(self.hi[b, a], self.route.reach(b, a)))
                gated = np.isfinite(hi) and len(cols) > 0
                col_t0 = self.t0[cols]
                max_dur = float((self.t1[cols] - col_t0).max()) if len(cols) else 0.0
                step = _CHUNK
                if gated and len(rows_all) > 1:  # rows spanning about one window: few columns per row
                    span = float(self.t0[rows_all[-1]] - self.t0[rows_all[0]])
                    per_window = len(rows_all) * (hi + max_dur) / max(span, 1e-9)
                    step = int(np.clip(per_window, 64, _CHUNK))
                for s in range(0, len(rows_all), step):
                    rows = rows_all[s:s + step]
                    c = cols
                    if gated:  # b after a: t0_b <= t1_a + hi; b before a: t0_b >= t0_a - hi - dur_b
                        lo_t = self.t0[rows].min() - hi - max_dur
                        hi_t = self.t1[rows].max() + hi
                        c = cols[np.searchsorted(col_t0, lo_t, "left"):np.searchsorted(col_t0, hi_t, "right")]
                    if len(c) == 0:
                        continue
                    r, k = np.nonzero(self.block(rows, c) < self.thr + self.route.max_bonus + _MARGIN)
                    i, j = rows[r], c[k]
                    keep = (i != j) if a != b else (i < j)
                    i, j = i[keep], j[keep]
                    keep = self.legal_pairs(i, j)
                    found_i.append(np.minimum(i[keep], j[keep]))
                    found_j.append(np.maximum(i[keep], j[keep]))
        i = np.concatenate(found_i) if found_i else np.zeros(0, np.int64)
        j = np.concatenate(found_j) if found_j else np.zeros(0, np.int64)
        cost = self.pair_costs(i, j)
        keep = cost < self.thr
        if self.cannot:
            keep &= np.array([jj not in self.cannot.get(ii, ()) for ii, jj in zip(i.tolist(), j.tolist(),
                                                                                   strict=True)], bool)
        order = np.lexsort((j[keep], i[keep]))
        return i[keep][order], j[keep][order], cost[keep][order]

    # ------------------------------------------------------------------------------------ constraints
    def legal_merge(self, xs: np.ndarray, ys: np.ndarray) -> bool:
        """Whether the union of member sets ``xs`` and ``ys`` may be one person."""
        if not self._apart(xs, ys):
            return False
        # the steps between the two sides (pairs within a side were checked when it was formed, or a reviewer
        # or a stitch put them together)
        _, p, q = self.steps(np.zeros(len(xs) + len(ys), np.int64), np.repeat([0, 1], [len(xs), len(ys)]),
                             np.concatenate([xs, ys]))
        return bool(np.all(self.steps_ok(p, q)))

    def legal_merges(self, xs: np.ndarray, sx: np.ndarray, ys: np.ndarray, sy: np.ndarray) -> np.ndarray:
        """``legal_merge`` of merges k = 0..m-1 at once (members as ``cluster_costs`` takes them), (m,) bool."""
        m = len(sx)
        ok = np.ones(m, bool)
        group = np.concatenate([np.repeat(np.arange(m), sx), np.repeat(np.arange(m), sy)])
        units = np.concatenate([xs, ys])
        if self.cannot:
            ox, oy = np.cumsum(sx) - sx, np.cumsum(sy) - sy
            for k in range(m):
                yset = set(ys[oy[k]:oy[k] + sy[k]].tolist())
                ok[k] = not any(self.cannot.get(x, set()) & yset for x in xs[ox[k]:ox[k] + sx[k]].tolist())
        sight = self.sight
        row, s = sight.of(units)  # two sightings of one camera at once: two people (``_apart``)
        g = group[row]
        o = np.lexsort((sight.rank[s], sight.cams[s], g))
        g, s = g[o], s[o]
        clash = (g[1:] == g[:-1]) & (sight.cams[s[1:]] == sight.cams[s[:-1]]) & (sight.t0[s[1:]] <= sight.t1[s[:-1]])
        ok[g[1:][clash]] = False
        which, p, q = self.steps(group, np.repeat([0, 1], [len(xs), len(ys)]), units)
        ok[which[~self.steps_ok(p, q)]] = False
        return ok

    # ------------------------------------------------------------------------------------ costs of merges
    def cluster_costs(self, xs: np.ndarray, sx: np.ndarray, ys: np.ndarray, sy: np.ndarray) -> np.ndarray:
        """Linkage cost of merges k = 0..m-1 of the clusters with members ``xs`` (the first ``sx[0]`` for merge
        0, and so on) and ``ys`` (``sy``): ``cfg.linkage`` over the distances of their member pairs
        (``reduce_linkage``), each scaled by the larger of its own bonus (``pair_costs``) and the merge's: the gate
        judged the merge, so it loosens every pair's threshold, not only that of the two sightings it saw."""
        m = len(sx)
        ox, oy = np.cumsum(sx) - sx, np.cumsum(sy) - sy
        count = sx * sy
        which = np.repeat(np.arange(m), count)
        k = ranges(count)
        i, j = xs[ox[which] + k // sy[which]], ys[oy[which] + k % sy[which]]
        group = np.concatenate([np.repeat(np.arange(m), sx), np.repeat(np.arange(m), sy)])
        bonus = self.merge_bonus(*self.steps(group, np.repeat([0, 1], [len(xs), len(ys)]), np.concatenate([xs, ys])), m)
        bonus = np.maximum(bonus[which], self.merge_bonus(*self._pair_steps(i, j), len(i)))
        return reduce_linkage(self.linkage_kind, self.scaled(self.distances(i, j), bonus),
                              self.cams[i] != self.cams[j], which, m)

    # ------------------------------------------------------------------------------------ output
    def groups(self) -> list[list[LinkProposal]]:
        ordered = []
        for root in sorted(self.member_lists, key=lambda r: self.rank[r]):
            m = self.members(root)
            ordered.append((root, m[np.argsort(self.rank[m])].tolist()))
        # every joined member's reason at once: its earlier members are those before it in its group
        joined = [(i, members[:k]) for root, members in ordered for k, i in enumerate(members)
                  if i != root and self.cost[i] is not None]
        why = dict(zip((i for i, _ in joined), self.reasons(joined), strict=True))
        out = []
        for root, members in ordered:
            group: list[LinkProposal] = []
            for i in members:
                c = None if i == root else self.cost[i]
                conf = None if c is None else confidence(c, self.thr)
                group.append(LinkProposal(int(self.ids[i]), c, conf, why[i] if c is not None else None))
            out.append(group)
        return out

    def reason(self, i: int, earlier: list[int]) -> str:
        """Why tracklet ``i`` joined: its appearance distance to the nearest earlier member, and the learned
        transition between the two, if any."""
        return self.reasons([(i, earlier)])[0]

    def reasons(self, items: Sequence[tuple[int, list[int]]]) -> list[str]:
        """``reason(i, earlier)`` of each item, in one pass over all of them."""
        if not items:
            return []
        count = np.array([len(e) for _, e in items], np.int64)
        which = np.repeat(np.arange(len(items)), count)
        js = np.concatenate([np.asarray(e, np.int64) for _, e in items])
        i_of = np.array([i for i, _ in items], np.int64)
        d = paired_distances(self.emb, js, i_of[which])
        nearest = np.lexsort((np.arange(len(d)), d, which))  # first smallest of each item's earlier members
        nearest = nearest[np.r_[True, which[nearest][1:] != which[nearest][:-1]]]
        j = js[nearest]
        k, p, q = self._pair_steps(j, i_of)
        gap = self.sight.t0[q] - self.sight.t1[p]
        via: list[Transition | None] = [None] * len(items)
        route = self.route
        if route.topology:  # only steps on a learned camera pair, within its union window, may go through one
            cp, cq, z = route.cams[p], route.cams[q], route.lo.shape[-1] - 1
            may = route.gated[cp, cq] & (gap >= route.lo[cp, cq, z, z]) & (gap <= route.hi[cp, cq, z, z])
            k, p, q, gap = k[may], p[may], q[may], gap[may]
        for kk, pp, qq, gg in zip(k.tolist(), p.tolist(), q.tolist(), gap.tolist(), strict=True):
            if via[kk] is None:
                via[kk] = self.route.transition(pp, qq, gg)
        return [f"appearance {float(d[n]):.2f} (threshold {self.thr:.2f})"
                + (f"; via {v.describe()}" if v is not None else "") for n, v in zip(nearest.tolist(), via, strict=True)]


def confidence(cost: float, threshold: float) -> float:
    """``clip(1 - cost / threshold, 0, 1)``; with a threshold of 0 (a site whose known-different pairs include
    identical crops calibrates to 0) 1 for a cost of 0, else 0."""
    if threshold <= 0:
        return 1.0 if cost <= 0 else 0.0
    return float(np.clip(1.0 - cost / threshold, 0.0, 1.0))
