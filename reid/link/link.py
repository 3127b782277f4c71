"""Cross-camera linking: tracklets of all cameras -> identities, by Hungarian matching between clusters.

``link_tracklets`` starts from the reviewer's must-link groups and singletons and merges clusters in rounds.
Each round solves ``scipy.optimize.linear_sum_assignment`` between cluster *ends* (rows) and cluster
*starts* (columns) in time order, on linkage distances (complete by default) below ``cfg.threshold``, then
merges the assigned pairs in increasing cost, re-checking every constraint and the cost after each merge.
Only tracklet pairs that could be consecutive sightings of one person are ever compared (time-gated per
camera pair), so the work follows the number of plausible pairs. Why this is sound and independent of
camera order: ``docs/linking.md``.

Constraints: two tracklets of one camera that overlap in time are never one person; consecutive sightings
on cameras A then B must be ``cfg.transit["A->B"]`` seconds apart (``(min_s, max_s)``, also used for B->A
unless given); ``cannot_link`` pairs never share an identity; each ``must_link`` group stays together, and
two must-link groups (two reviewed identities) are never merged by the linker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from reid.config import LinkConfig
from reid.link.calibrate import calibrate, known_pairs, pair_distances
from reid.link.stitch import pool, stitch_tracklets
from reid.link.topology import (
    GRID,
    UNKNOWN,
    Topology,
    TopologyConfig,
    Transition,
    confident_links,
    learn_topology,
    time_candidates,
    zones_near,
)
from reid.losses import paired_distance_numpy, pairwise_distance_numpy
from reid.metrics.verification import threshold_at_far
from reid.store.rows import LinkProposal

__all__ = ["LinkProposal", "link_tracklets"]

log = logging.getLogger(__name__)

_CHUNK = 1024  # rows per distance block: 1024 x 10k float32 = 40 MB
_MARGIN = 1e-4  # float32 block distances may differ from the float64 costs in the last bits


def link_tracklets(features: Sequence[Any], constraints: Any = None,
                   cfg: LinkConfig | None = None) -> list[list[LinkProposal]]:
    """Group tracklets of all cameras into identities.

    ``features``: objects with ``.id`` (int), ``.camera`` (str), ``.first_time``/``.last_time`` (s, one clock
    for all cameras) and ``.embedding`` ((D,) float32, L2-normalised; None keeps the tracklet alone), e.g.
    ``Store.tracklet_features()``. ``constraints``: ``.must_link`` (groups of ids) and ``.cannot_link`` (id
    pairs), e.g. ``Store.link_constraints()``; None for none. Returns one group per identity, every tracklet
    in exactly one group, groups in time order; a group's first member is its earliest tracklet, with cost
    and confidence None; each later member carries the linkage distance at which it (with the
    cluster it headed) joined, and confidence ``clip(1 - cost / threshold, 0, 1)``.
    """
    cfg = cfg or LinkConfig()
    if not features:
        return []
    threshold = cfg.threshold if cfg.threshold is not None else calibrate(features, constraints, cfg).threshold
    cfg = replace(cfg, threshold=threshold)
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    # pairs known to be two people, computed once: stitching's gate and the topology prior both rest on them
    different, _ = known_pairs(usable, constraints)
    emb = np.stack([np.asarray(f.embedding, np.float32) for f in usable]) if usable else np.zeros((0, 1), np.float32)
    negatives = pair_distances(emb, different)
    pooled = pool(features, constraints, stitch_tracklets(usable, different, negatives, cfg, threshold))
    by_id = {int(f.id): f for f in features}
    parts = {unit: [by_id[t] for t, _ in chain] for unit, chain in pooled.members.items()}
    return pooled.expand(_link_units(pooled.units, pooled.constraints, cfg, negatives, parts), threshold)


def _link_units(features: Sequence[Any], constraints: Any, cfg: LinkConfig, negatives: np.ndarray,
                parts: dict[int, list[Any]] | None = None) -> list[list[LinkProposal]]:
    """Link tracklets (or stitched chains, whose tracklets ``parts`` lists by unit id) across cameras: with the
    learned topology when ``cfg.topology``."""
    if not cfg.topology:
        return _link_once(features, constraints, cfg, None, negatives, parts)
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    # bootstrap on mutual nearest neighbours by rank alone: a camera's colour shift moves every cross-camera
    # distance, so no absolute threshold; wrong ones scatter over zones and gaps and the robust windows drop them
    topology = learn_topology(usable, confident_links(usable, np.inf, TopologyConfig()))
    groups = _link_once(features, constraints, cfg, topology, negatives, parts)
    # refine: relearn from the links found with the first topology, then link again
    topology = learn_topology(usable, _consecutive_links(groups, usable))
    log.info("topology: %d transitions learned%s", len(topology),
             "".join(f"\n  {t.describe()}" for t in topology.transitions))
    return _link_once(features, constraints, cfg, topology, negatives, parts)


def _link_once(features: Sequence[Any], constraints: Any, cfg: LinkConfig, topology: Topology | None,
               negatives: np.ndarray, parts: dict[int, list[Any]] | None) -> list[list[LinkProposal]]:
    linker = _Linker(features, constraints, cfg, topology, parts)
    linker.route.cross_bonus, linker.route.same_bonus = _gate_bonus(linker, negatives, cfg)
    linker.run()
    return linker.groups()


def _gate_bonus(linker: _Linker, negatives: np.ndarray, cfg: LinkConfig) -> tuple[float, float]:
    """How much looser the appearance threshold is for a pair through a learned transition, and for a pair
    picking up a lost track in the same camera: for each kind, the threshold at ``far / g`` of the
    known-different pairs minus the threshold, where g is the share of time-plausible pairs of that kind the
    gate lets through (the chance that two random sightings pass it), ``far / g`` at most
    ``cfg.topology_far_cap``; 0 without topology or enough known-different pairs."""
    route = linker.route
    if not route.topology or len(negatives) < cfg.min_pairs:  # None or no transition learned
        return 0.0, 0.0
    sight = linker.sight
    p, q = time_candidates(sight.cams, sight.t0, sight.t1, TopologyConfig())
    gap = sight.t0[q] - sight.t1[p]
    cp, cq = sight.cams[p], sight.cams[q]
    out = []
    for kind, judged in (("another camera", (cp != cq) & route.gated[cp, cq]),
                         ("the same camera", (cp == cq) & (gap <= linker.hi[cp, cq]))):
        if not judged.any():
            out.append(0.0)
            continue
        g = max(float(route.inside(p[judged], q[judged], gap[judged]).mean()), 1.0 / int(judged.sum()))
        loose = threshold_at_far(negatives, min(cfg.topology_far_cap, cfg.far / g))
        log.info("to %s the gate lets %.1f%% of time-plausible pairs through: appearance threshold %.3f there",
                 kind, 100 * g, loose)
        out.append(max(0.0, loose - float(linker.thr)))
    return out[0], out[1]


def _consecutive_links(groups: list[list[LinkProposal]], features: Sequence[Any]) -> list[tuple[int, int]]:
    """Index pairs (into ``features``) of consecutive cross-camera sightings within each group."""
    index = {int(f.id): k for k, f in enumerate(features)}
    out = []
    for group in groups:
        members = sorted((index[m.tracklet_id] for m in group if m.tracklet_id in index),
                         key=lambda k: features[k].first_time)
        out += [(a, b) for a, b in zip(members, members[1:], strict=False) if features[a].camera != features[b].camera]
    return out


def _ranges(counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in counts])``, vectorised."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


class _Sightings:
    """The tracklets behind the units being linked (a stitched chain is one unit of several sightings), unit by
    unit in time order: what time and topology constraints are checked on, since a chain may span the other
    camera's sighting of the same person (someone walking back and forth across the cut)."""

    def __init__(self, units: list[Any], parts: dict[int, list[Any]], code: dict[str, int]):
        feats = [p for u in units for p in parts.get(int(u.id), [u])]
        self.features = feats
        self.count = np.array([len(parts.get(int(u.id), [u])) for u in units], np.int64)
        self.first = np.cumsum(self.count) - self.count
        self.cams = np.array([code[str(f.camera)] for f in feats], np.int64)
        self.t0 = np.array([f.first_time for f in feats], np.float64)
        self.t1 = np.array([f.last_time for f in feats], np.float64)
        self.rank = np.empty(len(feats), np.int64)
        self.rank[np.lexsort((np.array([int(f.id) for f in feats], np.int64), self.t0))] = np.arange(len(feats))

    def of(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row, sighting)``: the sightings of every unit in ``units``, with the position of its unit there."""
        n = self.count[units]
        return np.repeat(np.arange(len(units)), n), np.repeat(self.first[units], n) + _ranges(n)


class _Linker:
    """State of one ``link_tracklets`` call; units (tracklets or stitched chains) are indexed 0..n-1 in id
    order, their tracklets ("sightings") as in ``_Sightings``."""

    def __init__(self, features: Sequence[Any], constraints: Any, cfg: LinkConfig,
                 topology: Topology | None = None, parts: dict[int, list[Any]] | None = None) -> None:
        feats = sorted(features, key=lambda f: int(f.id))
        self.thr = float(cfg.threshold) if cfg.threshold is not None else calibrate(features, constraints, cfg).threshold
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
        self.lo, self.hi = _windows(cfg.transit, code, cfg.max_reentry_s)
        self.sight = _Sightings(feats, parts or {}, code)
        self.route = _Routes(topology, names, self.sight.features, cfg.zone_margin)
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
            self.dense = _reranked(self.emb)
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
        order = np.lexsort((self.sight.rank[s], g))
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
        k = np.arange(len(i))
        return self.steps(np.concatenate([k, k]), np.repeat([0, 1], len(i)), np.concatenate([i, j]))

    # ------------------------------------------------------------------------------------ distances
    def distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Appearance distance between units ``i[k]`` and ``j[k]``, float64: the Euclidean metric of
        ``pairwise_distance_numpy``, row by row, computed from differences in float64 so that a pair's cost
        does not depend on which block it was found in."""
        if self.dense is not None:
            return self.dense[i, j].astype(np.float64)
        return paired_distance_numpy(self.emb[i], self.emb[j])

    def scaled(self, dist: np.ndarray, bonus: np.ndarray) -> np.ndarray:
        """Through a learned transition the threshold is thr + bonus: scale the distance so that every cost is
        compared with thr (and stays >= 0, so a reviewer's cost and confidence read as before)."""
        return dist * (self.thr / (self.thr + bonus))

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

    def candidate_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Tracklet pairs (i < j) closer than the threshold that pass ``legal_pairs`` and cannot-link."""
        found_i, found_j = [], []
        ncam = int(self.cams.max()) + 1
        by_cam = [np.flatnonzero(self.cams == c) for c in range(ncam)]
        by_cam = [m[np.argsort(self.t0[m], kind="stable")] for m in by_cam]
        for a in range(ncam):
            for b in range(a, ncam):
                rows_all, cols = by_cam[a], by_cam[b]
                hi = max(self.hi[a, b], self.hi[b, a])
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
        keep = self.pair_costs(i, j) < self.thr
        if self.cannot:
            keep &= np.array([jj not in self.cannot.get(ii, ()) for ii, jj in zip(i.tolist(), j.tolist(),
                                                                                   strict=True)], bool)
        order = np.lexsort((j[keep], i[keep]))
        return i[keep][order], j[keep][order]

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

    # ------------------------------------------------------------------------------------ rounds
    def run(self) -> None:
        ei, ej = self.candidate_edges()
        log.debug("linking %d tracklets: %d candidate links below %.3f", len(self.ids), len(ei), self.thr)
        cache: dict[tuple[int, int, int, int], bool] = {}
        rounds = 0
        while True:
            roots = self.roots()
            sizes = np.bincount(roots, minlength=len(roots))
            x, y = roots[ei], roots[ej]
            keep = x != y
            x, y = x[keep], y[keep]
            swap = self.rank[x] > self.rank[y]  # x: earlier cluster (row), y: later cluster (column)
            x, y = np.where(swap, y, x), np.where(swap, x, y)
            if len(x) == 0:
                break
            pairs = np.unique(np.stack([x, y], 1), axis=0)
            pairs = pairs[~(self.has_ml[pairs[:, 0]] & self.has_ml[pairs[:, 1]])]
            cost = self.linkage(pairs, roots, sizes)
            ok = cost < self.thr
            pairs, cost = pairs[ok], cost[ok]
            legal = np.ones(len(pairs), bool)
            for k, (a, b) in enumerate(pairs.tolist()):
                if sizes[a] > 1 or sizes[b] > 1:  # singleton pairs passed legal_pairs already
                    key = (a, b, int(sizes[a]), int(sizes[b]))
                    if key not in cache:
                        cache[key] = self.legal_merge(self.members(a), self.members(b))
                    legal[k] = cache[key]
            pairs, cost = pairs[legal], cost[legal]
            if len(pairs) == 0:
                break
            merged = self.merge(self.assign(pairs, cost))
            rounds += 1
            if merged == 0:
                break
        log.debug("linking done in %d rounds", rounds)

    def linkage(self, pairs: np.ndarray, roots: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Linkage distance of each cluster pair (rows of ``pairs``: two root indices), by ``cfg.linkage`` over
        its member pair costs (``_reduce``)."""
        if len(pairs) == 0:
            return np.zeros(0)
        order, start = self.member_index(roots)
        sx, sy = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
        xs = order[np.repeat(start[pairs[:, 0]], sx) + _ranges(sx)]
        ys = order[np.repeat(start[pairs[:, 1]], sy) + _ranges(sy)]
        return self.cluster_costs(xs, sx, ys, sy)

    def cluster_costs(self, xs: np.ndarray, sx: np.ndarray, ys: np.ndarray, sy: np.ndarray) -> np.ndarray:
        """Linkage cost of merges k = 0..m-1 of the clusters with members ``xs`` (the first ``sx[0]`` for merge
        0, and so on) and ``ys`` (``sy``): ``cfg.linkage`` over the distances of their member pairs
        (``_reduce``), each scaled by the larger of its own bonus (``pair_costs``) and the merge's: the gate
        judged the merge, so it loosens every pair's threshold, not only that of the two sightings it saw."""
        m = len(sx)
        ox, oy = np.cumsum(sx) - sx, np.cumsum(sy) - sy
        count = sx * sy
        which = np.repeat(np.arange(m), count)
        k = _ranges(count)
        i, j = xs[ox[which] + k // sy[which]], ys[oy[which] + k % sy[which]]
        group = np.concatenate([np.repeat(np.arange(m), sx), np.repeat(np.arange(m), sy)])
        bonus = self.merge_bonus(*self.steps(group, np.repeat([0, 1], [len(xs), len(ys)]), np.concatenate([xs, ys])), m)
        bonus = np.maximum(bonus[which], self.merge_bonus(*self._pair_steps(i, j), len(i)))
        return _reduce(self.linkage_kind, self.scaled(self.distances(i, j), bonus), self.cams[i] != self.cams[j],
                       which, m)

    def assign(self, pairs: np.ndarray, cost: np.ndarray) -> list[tuple[float, int, int]]:
        """Hungarian matching of earlier clusters (rows) to later clusters (columns), one component of the
        candidate graph at a time; maximises the sum of (threshold - cost) over matched pairs."""
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
            m[ri, ci] = cost[e] - self.thr  # < 0 on candidate links; 0 = "leave unmatched"
            for r, c in zip(*linear_sum_assignment(m), strict=True):
                if m[r, c] < 0:
                    chosen.append((float(m[r, c] + self.thr), int(rows[ur[r]]), int(cols[uc[c]])))
        return chosen

    def merge(self, chosen: list[tuple[float, int, int]]) -> int:
        """Merge assigned pairs in increasing cost; pairs touched by an earlier merge are re-checked."""
        chosen.sort(key=lambda t: (t[0], int(self.rank[t[1]]), int(self.rank[t[2]])))
        touched: set[int] = set()
        merged = 0
        for cost, a, b in chosen:
            if a in touched or b in touched:
                ra, rb = self.find(a), self.find(b)
                if ra == rb or (self.has_ml[ra] and self.has_ml[rb]):
                    continue
                xs, ys = self.members(ra), self.members(rb)
                cost = float(self.cluster_costs(xs, np.array([len(xs)]), ys, np.array([len(ys)]))[0])
                if cost >= self.thr or not self.legal_merge(xs, ys):
                    continue
                a, b = ra, rb
            touched.update((a, b))
            touched.add(self.union(a, b, cost))
            merged += 1
        return merged

    # ------------------------------------------------------------------------------------ output
    def groups(self) -> list[list[LinkProposal]]:
        out = []
        for root in sorted(self.member_lists, key=lambda r: self.rank[r]):
            m = self.members(root)
            group: list[LinkProposal] = []
            group_prev: list[int] = []
            for i in m[np.argsort(self.rank[m])].tolist():
                c = None if i == root else self.cost[i]
                conf = None if c is None else float(np.clip(1.0 - c / self.thr, 0.0, 1.0))
                group.append(LinkProposal(int(self.ids[i]), c, conf, self.reason(i, group_prev)
                                          if c is not None else None))
                group_prev.append(i)
            out.append(group)
        return out


    def reason(self, i: int, earlier: list[int]) -> str:
        """Why tracklet ``i`` joined: its appearance distance to the nearest earlier member, and the learned
        transition between the two, if any."""
        js = np.array(earlier, np.int64)
        d = paired_distance_numpy(self.emb[js], self.emb[np.full(len(js), i)])
        j = int(js[int(np.argmin(d))])
        text = f"appearance {float(d.min()):.2f} (threshold {self.thr:.2f})"
        _, p, q = self._pair_steps(np.array([j]), np.array([i]))
        gap = self.sight.t0[q] - self.sight.t1[p]
        via = next((t for t in map(self.route.transition, p.tolist(), q.tolist(), gap.tolist()) if t), None)
        return text + (f"; via {via.describe()}" if via is not None else "")


# How far (fractions of the frame) a person lost by the tracker may have walked before being picked up again
# in the same camera: people in the sample cross a 384-px view in 10-15 s (~0.08 of it per second); the margin
# covers box jitter.
REACH_MARGIN = 0.05
REACH_PER_S = 0.1


def _reduce(kind: str, costs: np.ndarray, across: np.ndarray, which: np.ndarray, n: int) -> np.ndarray:
    """The linkage distance of ``n`` cluster pairs from their member pair ``costs`` (pair k belongs to cluster
    pair ``which[k]``; ``across``: the two members are in different cameras): the mean (average), max
    (complete) or min (single) of all of them; ``cross-complete``: the max over the pairs across cameras only
    (all pairs if there are none). Sightings of one camera are held together by the tracker, the stitcher and
    the re-entry limit, which check time and motion; two sightings seconds apart in one view differ in pose
    and light far more than the calibrated threshold allows, so complete linkage over them blocks a merge the
    cross-camera evidence supports, while every sighting in one camera must still look like every sighting
    in the other."""
    if kind == "average":
        return np.bincount(which, costs, minlength=n) / np.maximum(np.bincount(which, minlength=n), 1)
    if kind == "cross-complete":
        has_cross = np.bincount(which, across, minlength=n) > 0
        costs = np.where(across | ~has_cross[which], costs, -np.inf)
    out = np.full(n, np.inf if kind == "single" else -np.inf)
    (np.minimum if kind == "single" else np.maximum).at(out, which, costs)
    return out


class _Routes:
    """The learned topology as arrays over tracklet indices: which consecutive sightings it allows and the
    cost bonus of those through a learned transition."""

    def __init__(self, topology: Topology | None, cameras: list[str], feats: Sequence[Any], margin: float = 0.0):
        self.topology = topology
        self.names = cameras
        self.cams = np.array([cameras.index(str(f.camera)) for f in feats], np.int64)
        # feet near a zone border are in both zones (cfg.zone_margin): the sample's boxes put one person crossing
        # the cut at y = 0.33 in one view (top row) and 0.39 in the other (middle row)
        self.exit = _zone_table([getattr(f, "exit", None) for f in feats], margin)
        self.entry = _zone_table([getattr(f, "entry", None) for f in feats], margin)
        self.cross_bonus = self.same_bonus = 0.0  # set by _gate_bonus
        nan = (np.nan, np.nan)
        self.exit_xy = np.array([getattr(f, "exit", None) or nan for f in feats], np.float64).reshape(-1, 2)
        self.entry_xy = np.array([getattr(f, "entry", None) or nan for f in feats], np.float64).reshape(-1, 2)
        if topology:
            self.gated, self.lo, self.hi = topology.tables(cameras)

    def continues(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Same-camera pairs where q starts near where p ended: within ``REACH_PER_S`` times the gap plus ``REACH_MARGIN``
        (fractions of the frame); unknown ends count as near."""
        moved = np.linalg.norm(self.entry_xy[q] - self.exit_xy[p], axis=1)
        near = ~(moved > REACH_MARGIN + REACH_PER_S * np.maximum(gap, 0.0))  # NaN (unknown) -> near
        return (self.cams[p] == self.cams[q]) & near

    def inside(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Whether the sighting pairs (earlier p, later q) go through a learned transition, or pick up a lost
        track of one camera where it was lost."""
        if not self.topology:
            return np.zeros(len(p), bool)
        cp, cq = self.cams[p], self.cams[q]
        through = np.zeros(len(p), bool)
        for ez in self.exit[p].T:  # each zone near p's exit, against each near q's entry
            for nz in self.entry[q].T:
                through |= (gap >= self.lo[cp, cq, ez, nz]) & (gap <= self.hi[cp, cq, ez, nz])
        return through | self.continues(p, q, gap)

    def allowed(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Pairs on a camera pair without learned transitions, or through one; within one camera, a sighting
        that continues the previous one (nobody vanishes and reappears across the view)."""
        if not self.topology:
            return np.ones(len(p), bool)
        cp, cq = self.cams[p], self.cams[q]
        return np.where(cp == cq, self.continues(p, q, gap), ~self.gated[cp, cq] | self.inside(p, q, gap))

    @property
    def max_bonus(self) -> float:
        return max(self.cross_bonus, self.same_bonus)

    def bonus(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        if not self.topology:
            return np.zeros(len(p))
        same = self.cams[p] == self.cams[q]
        return np.where(same, self.same_bonus, self.cross_bonus) * self.inside(p, q, gap)

    def transition(self, p: int, q: int, gap: float) -> Transition | None:
        if not self.topology:
            return None
        z = GRID * GRID
        for ez in dict.fromkeys(self.exit[p].tolist()):
            for nz in dict.fromkeys(self.entry[q].tolist()):
                via = self.topology.match(self.names[self.cams[p]], self.names[self.cams[q]],
                                          UNKNOWN if ez == z else ez, UNKNOWN if nz == z else nz, gap)
                if via is not None:
                    return via
        return None


def _zone_table(points: list[Any], margin: float) -> np.ndarray:
    """(n, 4) zones within ``margin`` of each point (``zones_near``; at most 4 while the margin is under half a
    zone), padded with its own zone; unknown is zone ``GRID * GRID``, the tables' union row."""
    out = np.full((len(points), 4), GRID * GRID, np.int64)
    for k, point in enumerate(points):
        near = [GRID * GRID if z == UNKNOWN else z for z in zones_near(point, margin)]
        out[k] = (near + [near[0]] * 4)[:4]
    return out


def _windows(transit: Any, code: dict[str, int], reentry: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Transit windows as (C, C) arrays lo[a, b], hi[a, b] (s); -inf/inf where none is given, except that a
    camera's consecutive sightings of one person are at most ``reentry`` s apart (> 0) unless "A->A" is given."""
    n = len(code)
    lo, hi = np.full((n, n), -np.inf), np.full((n, n), np.inf)
    explicit = set()
    for key, (w_lo, w_hi) in (transit or {}).items():
        a, sep, b = str(key).partition("->")
        a, b = a.strip(), b.strip()
        if not sep or not a or not b:
            raise ValueError(f"transit key {key!r}: expected 'camA->camB'")
        if float(w_lo) > float(w_hi):
            raise ValueError(f"transit {key!r}: min_s {w_lo} is larger than max_s {w_hi}")
        if a not in code or b not in code:
            continue  # a camera without tracklets
        lo[code[a], code[b]], hi[code[a], code[b]] = float(w_lo), float(w_hi)
        explicit.add((code[a], code[b]))
    for i, j in list(explicit):
        if (j, i) not in explicit:
            lo[j, i], hi[j, i] = lo[i, j], hi[i, j]
    for i in range(n):
        if reentry > 0 and (i, i) not in explicit:
            hi[i, i] = reentry
    return lo, hi


def _reranked(emb: np.ndarray) -> np.ndarray:
    """All-pairs k-reciprocal re-ranked distances (n, n); O(n^2) memory, meant for a few thousand tracklets."""
    from reid.metrics import re_ranking

    n = len(emb)
    if n > 5000:
        log.warning("re-ranking %d tracklets needs an %d x %d matrix; this is slow", n, n, n)
    d = pairwise_distance_numpy(emb)
    # the set is both query and gallery, so every tracklet is twice among the neighbours: k1 = 20 and
    # k2 = 6 (the paper's) cover ~10 and ~3 distinct tracklets, the size of one person's sightings
    k1 = max(1, min(20, 2 * n - 1))
    k2 = max(1, min(6, k1))
    out = np.asarray(re_ranking(d, d, d, k1=k1, k2=k2), np.float64)
    return (out + out.T) / 2  # re-ranked distances are not exactly symmetric

