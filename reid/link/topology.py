"""Where and when people cross between cameras, learned from the data: entry/exit zones and transit times.

A person who leaves camera A and appears in camera B leaves A through one place (a door, an edge of the
view) and enters B through another, some seconds later. Per ordered camera pair this module learns which
(exit zone, entry zone) pairs people use and the transit times through each, from *confident* links:
tracklet pairs that are each other's nearest neighbour in appearance among the time-plausible candidates.
The linker bootstraps on the ranking alone (no distance threshold): another camera's colour response moves
every cross-camera distance up, which empties a thresholded set (the hard synthetic scene), while mutual
nearest neighbours survive it; the wrong ones scatter over zones and gaps and the robust windows drop them. A zone pair used by at least ``min_support`` of them becomes a
learned transition with the window ``[min gap - slack, max gap + slack]``. The linker then

* **gates**: for a camera pair with learned transitions, a consecutive pair of sightings must go through one
  of them (zone pair and transit time); camera pairs with none learned stay ungated (appearance only);
* **adds a prior**: a pair through a learned transition is linked at a looser appearance threshold. The gate
  itself rejects most pairs of two different people (it lets through a share ``g`` of random time-plausible
  pairs), so appearance alone only needs a false-accept rate of ``far / g`` for the two
  together to keep ``far``: the threshold at ``far / g`` of the known-different pairs (at most
  ``LinkConfig.topology_far_cap``) applies to pairs through a transition.

Relearning from the links found with the first topology refines it (``refine``). Zones are the cells of a
``GRID`` x ``GRID`` grid over the view, from the feet of the first (entry) and last (exit) box. For adjacent or
overlapping views (the sample: a person crosses the cut within a second, at the same height) this is the
strongest cue there is. For cameras far apart the transit times spread over minutes and the exit/entry
zones still hold (one door to another), so the gate keeps its zone part while the window widens; where too
few confident links exist for a pair nothing is learned and linking falls back to appearance alone. It
models where people go, not why: a camera pair with several routes learns one transition per route.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reid.link.candidates import camera_codes, mutual_nearest, time_candidate_chunks

GRID = 3  # 3 x 3 zones: left/centre/right x top/middle/bottom of the view
UNKNOWN = -1
MAD_WINDOW = 3.0  # a learned transit window spans the median gap +- 3 robust standard deviations


def zone(point: tuple[float, float] | None) -> int:
    """Grid cell 0..GRID*GRID-1 of a point given as fractions of the frame (x, y); UNKNOWN for None."""
    if point is None:
        return UNKNOWN
    col = min(max(int(point[0] * GRID), 0), GRID - 1)
    row = min(max(int(point[1] * GRID), 0), GRID - 1)
    return row * GRID + col


def zones_near(point: tuple[float, float] | None, margin: float = 0.0) -> list[int]:
    """The zones within ``margin`` (fraction of the frame) of a point, its own first; [UNKNOWN] for None. A foot
    point on a zone border (y = 0.33 in one view, 0.39 in the next for one person crossing) is in both."""
    if point is None:
        return [UNKNOWN]
    out = [zone(point)]
    for dx in (-margin, 0.0, margin):
        for dy in (-margin, 0.0, margin):
            z = zone((point[0] + dx, point[1] + dy))
            if z not in out:
                out.append(z)
    return out


def zone_name(z: int) -> str:
    """``"top-left"`` ... ``"bottom-right"`` for a zone of the 3 x 3 grid."""
    if z == UNKNOWN:
        return "unknown zone"
    return f"{('top', 'middle', 'bottom')[z // GRID]}-{('left', 'centre', 'right')[z % GRID]}"


@dataclass(frozen=True)
class Transition:
    """A learned way from camera ``src`` (leaving through ``exit_zone``) to ``dst`` (entering through
    ``entry_zone``), taking ``lo``..``hi`` seconds (last sighting in src to first in dst; < 0: seen in both)."""

    src: str
    dst: str
    exit_zone: int
    entry_zone: int
    lo: float
    hi: float
    support: int  # confident links it was learned from

    def describe(self) -> str:
        return (f"{self.src} {zone_name(self.exit_zone)} -> {self.dst} {zone_name(self.entry_zone)}, "
                f"{self.lo:+.1f}..{self.hi:+.1f} s ({self.support} links)")

    def zone_pairs(self) -> list[tuple[int, int]]:
        """The (exit, entry) zone pairs it covers: its own, and the same crossing a row up or down (exit and
        entry zones one row up, or both one row down): people cross a border between two views at any height.
        A zone pair one row apart on one side only is another way (another door) and is not covered."""
        (er, ec), (nr, nc) = divmod(self.exit_zone, GRID), divmod(self.entry_zone, GRID)
        return [((er + a) * GRID + ec, (nr + a) * GRID + nc) for a in (-1, 0, 1)
                if 0 <= er + a < GRID and 0 <= nr + a < GRID]


@dataclass(frozen=True)
class TopologyConfig:
    """How transitions are learned (the defaults are the ones measured in docs/linking.md)."""

    max_gap: float = 60.0  # s: the longest transit considered when learning
    max_overlap: float = 5.0  # s: how long a person may be seen by both cameras at once
    min_support: int = 2  # confident links a zone pair needs to become a transition
    slack: float = 1.0  # s added on both sides of the learned window (at least; 25% of its width if larger)


class Topology:
    """Learned transitions; ``allowed``/``inside`` answer for arrays of consecutive sighting pairs."""

    def __init__(self, transitions: Sequence[Transition]):
        self.transitions = list(transitions)
        self.by_pair: dict[tuple[str, str], list[Transition]] = defaultdict(list)
        for t in self.transitions:
            self.by_pair[(t.src, t.dst)].append(t)

    def __len__(self) -> int:
        return len(self.transitions)

    def match(self, src: str, dst: str, exit_zone: int, entry_zone: int, gap: float) -> Transition | None:
        """The learned transition this sighting pair goes through, or None."""
        for t in self.by_pair.get((src, dst), ()):
            zones_ok = UNKNOWN in (exit_zone, entry_zone) or (exit_zone, entry_zone) in t.zone_pairs()
            if zones_ok and t.lo <= gap <= t.hi:
                return t
        return None

    def tables(self, cameras: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrays for vectorised checks over camera codes (index in ``cameras``) and zones:
        ``gated`` (C, C) bool, ``lo``/``hi`` (C, C, Z + 1, Z + 1) windows (zone index Z = unknown: the union
        window of the camera pair); -inf..+inf rows never match (lo > hi)."""
        code = {c: k for k, c in enumerate(cameras)}
        n, z = len(cameras), GRID * GRID
        gated = np.zeros((n, n), bool)
        lo = np.full((n, n, z + 1, z + 1), np.inf)
        hi = np.full((n, n, z + 1, z + 1), -np.inf)
        for t in self.transitions:
            if t.src not in code or t.dst not in code:
                continue
            a, b = code[t.src], code[t.dst]
            gated[a, b] = True
            for ez, nz in t.zone_pairs():
                for e, n_ in ((ez, nz), (ez, z), (z, nz), (z, z)):
                    lo[a, b, e, n_] = min(lo[a, b, e, n_], t.lo)
                    hi[a, b, e, n_] = max(hi[a, b, e, n_], t.hi)
        return gated, lo, hi


def time_candidates(cams: np.ndarray, t0: np.ndarray, t1: np.ndarray, cfg: TopologyConfig
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Ordered index pairs (p, q) that could be consecutive sightings of one person: q starts after p, at most
    ``cfg.max_gap`` s after p ends; in another camera q may overlap p by ``cfg.max_overlap`` s, in the same
    camera it starts after p ends. ``cams``: (n,) camera names or codes; ``t0``/``t1``: (n,) start/end (s).
    All of them at once: ``reid.link.candidates.time_candidate_chunks`` gives them a bounded number at a time."""
    chunks = list(time_candidate_chunks(cams, t0, t1, cfg.max_gap, cfg.max_overlap))
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([p for p, _ in chunks]), np.concatenate([q for _, q in chunks])


def confident_links(features: Sequence[Any], threshold: float, cfg: TopologyConfig) -> list[tuple[int, int]]:
    """Index pairs (earlier, later), sorted, of tracklets that are mutual nearest neighbours in appearance among
    each other's time-plausible candidates (per camera of the other; ``time_candidates``) and closer than
    ``threshold``. Memory follows the tracklets, not the pairs (``reid.link.candidates.mutual_nearest``)."""
    if len(features) < 2:
        return []
    cams = camera_codes(features)
    t0 = np.array([f.first_time for f in features], np.float64)
    t1 = np.array([f.last_time for f in features], np.float64)
    emb = np.stack([np.asarray(f.embedding, np.float32) for f in features])
    pairs = mutual_nearest(cams, t0, t1, emb, threshold, cfg.max_gap, cfg.max_overlap)
    return [(a, b) for a, b in pairs.tolist()]


def learn_topology(features: Sequence[Any], links: Sequence[tuple[int, int]],
                   cfg: TopologyConfig | None = None) -> Topology:
    """Transitions supported by ``links`` (index pairs into ``features``: earlier, later sighting of one
    person in two cameras); ``features`` need ``camera``, ``first_time``, ``last_time``, ``entry``, ``exit``."""
    cfg = cfg or TopologyConfig()
    gaps: dict[tuple[str, str, int, int], list[float]] = defaultdict(list)
    for a, b in links:
        fa, fb = features[a], features[b]
        ez, nz = zone(getattr(fa, "exit", None)), zone(getattr(fb, "entry", None))
        if UNKNOWN in (ez, nz):
            continue
        gaps[(str(fa.camera), str(fb.camera), ez, nz)].append(float(fb.first_time - fa.last_time))
    out = []
    for (src, dst, ez, nz), g in sorted(gaps.items()):
        arr = np.asarray(g)
        centre = float(np.median(arr))
        # robust window: a wrong link with an odd gap does not stretch it (MAD scaled to a normal's sigma)
        half = max(cfg.slack, MAD_WINDOW * 1.4826 * float(np.median(np.abs(arr - centre))))
        inside = arr[np.abs(arr - centre) <= half]
        if len(inside) < cfg.min_support:
            continue
        out.append(Transition(src, dst, ez, nz, float(inside.min()) - cfg.slack, float(inside.max()) + cfg.slack,
                              len(inside)))
    return Topology(out)
