"""Gating by time and place: which consecutive sightings of one person are possible, and which go through a
learned transition (``reid.link.topology``) and so earn a looser appearance threshold.

``windows``: the transit windows of the manifest as per camera-pair arrays. ``Routes``: the learned topology as
arrays over the sightings being linked (exit and entry zones, a lost track picked up where it was lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reid.link.topology import GRID, UNKNOWN, Topology, Transition

# How far (fractions of the frame) a person lost by the tracker may have walked before being picked up again
# in the same camera: people in the sample cross a 384-px view in 10-15 s (~0.08 of it per second); the margin
# covers box jitter.
REACH_MARGIN = 0.05
REACH_PER_S = 0.1


class Routes:
    """The learned topology as arrays over tracklet indices: which consecutive sightings it allows and the
    cost bonus of those through a learned transition."""

    def __init__(self, topology: Topology | None, cameras: list[str], feats: Sequence[Any], margin: float = 0.0):
        self.topology = topology
        self.names = cameras
        self.cams = np.array([cameras.index(str(f.camera)) for f in feats], np.int64)
        # feet near a zone border are in both zones (cfg.zone_margin): the sample's boxes put one person crossing
        # the cut at y = 0.33 in one view (top row) and 0.39 in the other (middle row)
        self.exit = zone_table([getattr(f, "exit", None) for f in feats], margin)
        self.entry = zone_table([getattr(f, "entry", None) for f in feats], margin)
        self.cross_bonus = self.same_bonus = 0.0  # set by reid.link.link._gate_bonus
        nan = (np.nan, np.nan)
        self.exit_xy = np.array([getattr(f, "exit", None) or nan for f in feats], np.float64).reshape(-1, 2)
        self.entry_xy = np.array([getattr(f, "entry", None) or nan for f in feats], np.float64).reshape(-1, 2)
        if topology:
            self.gated, self.lo, self.hi = topology.tables(cameras)
            self._lo_flat, self._hi_flat = self.lo.ravel(), self.hi.ravel()  # indexed by _cell

    def continues(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Same-camera pairs where q starts near where p ended: within ``REACH_PER_S`` times the gap plus ``REACH_MARGIN``
        (fractions of the frame); unknown ends count as near."""
        out = self.cams[p] == self.cams[q]
        s = np.flatnonzero(out)  # only these are measured
        d = self.entry_xy[q[s]] - self.exit_xy[p[s]]
        moved = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])  # np.linalg.norm(d, axis=1), as it sums
        out[s] = ~(moved > REACH_MARGIN + REACH_PER_S * np.maximum(gap[s], 0.0))  # NaN (unknown) -> near
        return out

    def inside(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Whether the sighting pairs (earlier p, later q) go through a learned transition, or pick up a lost
        track of one camera where it was lost."""
        if not self.topology:
            return np.zeros(len(p), bool)
        z = GRID * GRID + 1
        base = (self.cams[p] * len(self.names) + self.cams[q]) * (z * z)  # flat cell of (cp, cq, 0, 0)
        exits, entries = self.exit[p], self.entry[q]
        cell = base + exits[:, 0] * z + entries[:, 0]  # own zone against own zone: every pair
        through = (gap >= self._lo_flat[cell]) & (gap <= self._hi_flat[cell])
        # each further zone near p's exit (or q's entry) against each near the other, for the pairs not
        # through yet where both differ from their own zone (a column repeats its own zone when only padding)
        ex_other, en_other = exits[:, 1:] != exits[:, :1], entries[:, 1:] != entries[:, :1]
        rest = np.flatnonzero(~through & (ex_other.any(1) | en_other.any(1)))
        if len(rest):
            exits, entries, base, g = exits[rest], entries[rest], base[rest], gap[rest]
            ones = np.ones((len(rest), 1), bool)
            ex_other, en_other = np.hstack([ones, ex_other[rest]]), np.hstack([ones, en_other[rest]])
            hit = np.zeros(len(rest), bool)
            for k in range(4):
                for m in range(4):
                    s = np.flatnonzero(ex_other[:, k] & en_other[:, m]) if k or m else np.zeros(0, np.int64)
                    if len(s):
                        cell = base[s] + exits[s, k] * z + entries[s, m]
                        hit[s] |= (g[s] >= self._lo_flat[cell]) & (g[s] <= self._hi_flat[cell])
            through[rest] = hit
        rest = np.flatnonzero(~through)  # or a lost track picked up
        through[rest] = self.continues(p[rest], q[rest], gap[rest])
        return through

    def allowed(self, p: np.ndarray, q: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Pairs on a camera pair without learned transitions, or through one; within one camera, a sighting
        that continues the previous one (nobody vanishes and reappears across the view)."""
        if not self.topology:
            return np.ones(len(p), bool)
        cp, cq = self.cams[p], self.cams[q]
        return np.where(cp == cq, self.continues(p, q, gap), ~self.gated[cp, cq] | self.inside(p, q, gap))

    def reach(self, a: int, b: int) -> float:
        """The longest gap (s) a step from camera code ``a`` to another camera ``b`` may have: the latest end of its
        learned transitions; inf where the pair is not gated (or ``a == b``: same-camera steps are not gated here)."""
        if not self.topology or a == b or not self.gated[a, b]:
            return float(np.inf)
        return float(self.hi[a, b].max())

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


def zone_table(points: list[Any], margin: float) -> np.ndarray:
    """(n, 4) zones within ``margin`` of each point (``zones_near``, vectorised; at most 4 while the margin is under
    half a zone), padded with its own zone; unknown is zone ``GRID * GRID``, the tables' union row."""
    known = np.array([p is not None for p in points], bool)
    xy = np.array([p if p is not None else (0.0, 0.0) for p in points], np.float64).reshape(-1, 2)
    cells = lambda x, y: (np.clip(np.trunc(y * GRID), 0, GRID - 1) * GRID  # noqa: E731
                          + np.clip(np.trunc(x * GRID), 0, GRID - 1)).astype(np.int64)
    # its own zone, then those of the 9 nudged points in zones_near's order; each kept at its first appearance
    near = np.stack([cells(xy[:, 0], xy[:, 1])] + [cells(xy[:, 0] + dx, xy[:, 1] + dy)
                                                   for dx in (-margin, 0.0, margin) for dy in (-margin, 0.0, margin)], 1)
    first = np.ones(near.shape, bool)
    for j in range(1, near.shape[1]):
        first[:, j] = ~np.any(near[:, :j] == near[:, j:j + 1], axis=1)
    out = np.repeat(near[:, :1], 4, axis=1)
    rank = np.cumsum(first, axis=1) - 1  # the k-th distinct zone goes to column k
    r, c = np.nonzero(first & (rank < 4))
    out[r, rank[r, c]] = near[r, c]
    out[~known] = GRID * GRID
    return out


def windows(transit: Any, code: dict[str, int], reentry: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
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
