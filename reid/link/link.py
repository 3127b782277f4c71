"""Cross-camera linking: tracklets of all cameras -> identities, by Hungarian matching between clusters.

``link_tracklets`` starts from the reviewer's must-link groups and singletons and merges clusters in rounds.
Each round solves ``scipy.optimize.linear_sum_assignment`` between cluster *ends* (rows) and cluster
*starts* (columns) in time order, on linkage distances (``cfg.linkage``; cross-complete by default) below the
threshold, then merges the assigned pairs in increasing cost, re-checking every constraint and the cost after
each merge.
Only tracklet pairs that could be consecutive sightings of one person are ever compared (time-gated per
camera pair), so the work follows the number of plausible pairs. Why this is sound and independent of
camera order: ``docs/linking.md``. The pieces: ``reid.link.linker`` (the state of one run: clusters,
constraints, costs), ``reid.link.rounds`` (the Hungarian rounds), ``reid.link.gating`` (time and place),
``reid.link.stitch`` (a camera's lost tracks joined first), ``reid.link.topology`` (learned transitions).

The threshold is decided before, once per run (``reid.link.calibrate.resolve_threshold``: ``--threshold``, else
the site's calibration, else the checkpoint's, else the default), and handed in with the known-different pairs
it rests on; ``link_tracklets`` never resolves one itself (``cfg.threshold`` is not read here).

Constraints: two tracklets of one camera that overlap in time are never one person; consecutive sightings
on cameras A then B must be ``cfg.transit["A->B"]`` seconds apart (``(min_s, max_s)``, also used for B->A
unless given); ``cannot_link`` pairs never share an identity; each ``must_link`` group stays together, and
two must-link groups (two reviewed identities) are never merged by the linker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from reid.config import LinkConfig
from reid.link.calibrate import Calibration
from reid.link.candidates import sample_rows, time_candidate_chunks
from reid.link.linker import Linker
from reid.link.rounds import run_rounds
from reid.link.stitch import pool, stitch_tracklets
from reid.link.topology import (
    Topology,
    TopologyConfig,
    confident_links,
    learn_topology,
)
from reid.metrics.verification import threshold_at_far
from reid.store.rows import LinkProposal

__all__ = ["LinkProposal", "link_tracklets"]

log = logging.getLogger(__name__)

# the gate's share is measured on at most about this many time-plausible pairs (every k-th sighting's beyond it):
# 100,000 tracklets of 16 cameras over an hour have ~2 x 10^8 (10,000 over 12 minutes: 9 x 10^6, all counted)
GATE_PAIRS = 16_000_000
GATE_CHUNK = 250_000  # pairs at a time: ~250 bytes each while the gate judges them


def link_tracklets(features: Sequence[Any], constraints: Any, cfg: LinkConfig,
                   calibration: Calibration) -> list[list[LinkProposal]]:
    """Group tracklets of all cameras into identities.

    ``features``: objects with ``.id`` (int), ``.camera`` (str), ``.first_time``/``.last_time`` (s, one clock
    for all cameras) and ``.embedding`` ((D,) float32, L2-normalised; None keeps the tracklet alone), e.g.
    ``Store.tracklet_features()``. ``constraints``: ``.must_link`` (groups of ids) and ``.cannot_link`` (id
    pairs), e.g. ``Store.link_constraints()``; None for none. ``calibration``: the threshold and the
    known-different pairs it rests on, ``resolve_threshold`` of these same features and constraints. Returns
    one group per identity, every tracklet in exactly one group, groups in time order; a group's first member
    is its earliest tracklet, with cost and confidence None; each later member carries the linkage distance
    at which it (with the cluster it headed) joined, and confidence ``clip(1 - cost / threshold, 0, 1)``.
    """
    if not features:
        return []
    threshold = float(calibration.threshold)
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    different, negatives = _pairs_of(usable, calibration)
    pooled = pool(features, constraints, stitch_tracklets(usable, different, negatives, cfg, threshold))
    by_id = {int(f.id): f for f in features}
    parts = {unit: [by_id[t] for t, _ in chain] for unit, chain in pooled.members.items()}
    groups = _link_units(pooled.units, pooled.constraints, cfg, threshold, negatives, parts)
    return pooled.expand(groups, threshold)


def _pairs_of(usable: Sequence[Any], calibration: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """The calibration's known-different pairs as index pairs into ``usable`` (sorted by id) and their
    distances; ``ValueError`` when it was resolved on other tracklets."""
    ids = np.array([int(f.id) for f in usable], np.int64)
    pairs = np.asarray(calibration.different, np.int64).reshape(-1, 2)
    index = np.searchsorted(ids, pairs)
    if len(pairs) and (index.max() >= len(ids) or not np.array_equal(ids[index], pairs)):
        raise ValueError("link_tracklets: the calibration was resolved on other tracklets (resolve_threshold)")
    return index, np.asarray(calibration.negatives, np.float64)


def _link_units(features: Sequence[Any], constraints: Any, cfg: LinkConfig, threshold: float,
                negatives: np.ndarray, parts: dict[int, list[Any]] | None = None) -> list[list[LinkProposal]]:
    """Link tracklets (or stitched chains, whose tracklets ``parts`` lists by unit id) across cameras: with the
    learned topology when ``cfg.topology``."""
    if not cfg.topology:
        return _link_once(features, constraints, cfg, threshold, None, negatives, parts)
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    # bootstrap on mutual nearest neighbours by rank alone: a camera's colour shift moves every cross-camera
    # distance, so no absolute threshold; wrong ones scatter over zones and gaps and the robust windows drop them
    topology = learn_topology(usable, confident_links(usable, np.inf, TopologyConfig()))
    groups = _link_once(features, constraints, cfg, threshold, topology, negatives, parts)
    # refine: relearn from the links found with the first topology, then link again
    topology = learn_topology(usable, _consecutive_links(groups, usable))
    log.info("topology: %d transitions learned%s", len(topology),
             "".join(f"\n  {t.describe()}" for t in topology.transitions))
    return _link_once(features, constraints, cfg, threshold, topology, negatives, parts)


def _link_once(features: Sequence[Any], constraints: Any, cfg: LinkConfig, threshold: float,
               topology: Topology | None, negatives: np.ndarray,
               parts: dict[int, list[Any]] | None) -> list[list[LinkProposal]]:
    linker = Linker(features, constraints, cfg, topology, parts, threshold=threshold)
    linker.route.cross_bonus, linker.route.same_bonus = _gate_bonus(linker, negatives, cfg)
    run_rounds(linker)
    return linker.groups()


def _gate_bonus(linker: Linker, negatives: np.ndarray, cfg: LinkConfig) -> tuple[float, float]:
    """How much looser the appearance threshold is for a pair through a learned transition, and for a pair
    picking up a lost track in the same camera: for each kind, the threshold at ``far / g`` of the
    known-different pairs minus the threshold, where g is the share of time-plausible pairs of that kind the
    gate lets through (the chance that two random sightings pass it; over every k-th sighting's pairs beyond
    ``GATE_PAIRS``), ``far / g`` at most ``cfg.topology_far_cap``; 0 without topology or enough known-different
    pairs."""
    route = linker.route
    if not route.topology or len(negatives) < cfg.min_pairs:  # None or no transition learned
        return 0.0, 0.0
    sight = linker.sight
    judged, inside = np.zeros(2, np.int64), np.zeros(2, np.int64)  # per kind: another camera, the same camera
    cfg_t = TopologyConfig()
    rows = sample_rows(sight.t0, sight.t1, cfg_t.max_gap, GATE_PAIRS)
    chunks = time_candidate_chunks(sight.cams, sight.t0, sight.t1, cfg_t.max_gap, cfg_t.max_overlap, GATE_CHUNK, rows)
    for p, q in chunks:
        gap = sight.t0[q] - sight.t1[p]
        cp, cq = sight.cams[p], sight.cams[q]
        for k, mask in enumerate(((cp != cq) & route.gated[cp, cq], (cp == cq) & (gap <= linker.hi[cp, cq]))):
            judged[k] += int(mask.sum())
            inside[k] += int(route.inside(p[mask], q[mask], gap[mask]).sum())
    out = []
    for k, kind in enumerate(("another camera", "the same camera")):
        if not judged[k]:
            out.append(0.0)
            continue
        g = max(float(inside[k]) / float(judged[k]), 1.0 / int(judged[k]))
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
