"""Within-camera stitching: a track the tracker lost (occlusion, missed detections) and started again under a
new id is joined back before linking across cameras.

On real footage this is where cross-camera recall is lost: the sample's 28 people came out as 73 tracklets,
and a person's fragments in one camera only reach the other camera's through one another. Appearance alone
joins them poorly (a fragment of a few frames has a noisy embedding), but motion is strong evidence within one
view: a track picked up again starts where the lost one was heading.

Per camera, tracklet *ends* (rows) are matched one-to-one to tracklet *starts* (columns) beginning
``0 < gap <= cfg.stitch_gap_s`` later, by Hungarian matching (``scipy.optimize.linear_sum_assignment``) on the
appearance distance, among pairs that pass a **motion gate**: the start lies within
``stitch_reach + stitch_reach_per_s * gap`` box heights of the path the end could have taken (from where it was
lost to where its velocity over the last second, ``TrackMotion``, would have carried it), and the two boxes are of similar height. The appearance threshold follows the
gate, as for a learned transition (``reid.link.topology``): the gate lets through a share ``g`` of the
time-plausible pairs, so appearance needs a false-accept rate of only ``far / g`` (at most
``cfg.topology_far_cap``) on the known-different pairs for the two together to keep ``far``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from reid.config import LinkConfig
from reid.link.candidates import paired_distances
from reid.metrics.verification import threshold_at_far
from reid.store.rows import LinkConstraints, LinkProposal

log = logging.getLogger(__name__)

HEIGHT_RATIO = 1.5  # a picked-up track's box is at most this much taller or shorter than the lost one's


@dataclass(frozen=True)
class Stitch:
    """Tracklet ``later`` continues tracklet ``earlier`` (ids) in one camera."""

    earlier: int
    later: int
    distance: float  # appearance
    threshold: float  # the appearance threshold the motion gate allowed
    gap: float  # s from the end of ``earlier`` to the start of ``later``
    off_path: float  # box heights between ``later``'s first feet and where ``earlier``'s were heading

    def reason(self) -> str:
        return (f"same camera: picks up a lost track after {self.gap:.1f} s, {self.off_path:.2f} box heights off "
                f"its path; appearance {self.distance:.2f} (threshold {self.threshold:.2f} with the motion gate)")


def time_plausible(features: Sequence[Any], max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (earlier, later) of one camera where ``later`` starts 0 < gap <= ``max_gap`` s after
    ``earlier`` ends (per camera in start order; memory follows the pairs found)."""
    cams = np.array([str(f.camera) for f in features])
    t0 = np.array([f.first_time for f in features], np.float64)
    t1 = np.array([f.last_time for f in features], np.float64)
    out_i, out_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for cam in np.unique(cams):
        idx = np.flatnonzero(cams == cam)
        idx = idx[np.argsort(t0[idx], kind="stable")]
        starts = t0[idx]
        lo = np.searchsorted(starts, t1[idx], "right")
        hi = np.searchsorted(starts, t1[idx] + max_gap, "right")
        count = np.maximum(hi - lo, 0)
        a = np.repeat(np.arange(len(idx)), count)
        b = np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        out_i.append(idx[a])
        out_j.append(idx[b])
    return np.concatenate(out_i), np.concatenate(out_j)


def off_path(features: Sequence[Any], i: np.ndarray, j: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs (earlier i, later j) ``gaps`` s apart: box heights between j's first feet and the path i's feet
    could have taken in the gap (from where they were lost to where their velocity would have carried them: a lost
    person may have slowed or stopped, rarely sped up), and the ratio of their box heights (>= 1); NaN
    without motion."""
    nan2 = (np.nan, np.nan)
    known = lambda f: getattr(f, "motion", None) is not None and f.exit is not None and f.entry is not None  # noqa: E731
    ok = np.array([known(f) for f in features], bool)
    motion = [f.motion if k else None for f, k in zip(features, ok, strict=True)]
    aspect = np.array([m.aspect if m else np.nan for m in motion])
    scale = np.stack([aspect, np.ones_like(aspect)], 1)  # x in frame widths -> frame heights
    exit_ = np.array([f.exit if k else nan2 for f, k in zip(features, ok, strict=True)], np.float64) * scale
    entry = np.array([f.entry if k else nan2 for f, k in zip(features, ok, strict=True)], np.float64) * scale
    velocity = np.array([m.exit_velocity if m else nan2 for m in motion], np.float64) * scale
    out_h = np.array([m.exit_height if m else np.nan for m in motion])
    in_h = np.array([m.entry_height if m else np.nan for m in motion])
    start, step = exit_[i], velocity[i] * np.asarray(gaps, np.float64)[:, None]
    point = entry[j]
    along = np.clip(np.einsum("nd,nd->n", point - start, step) / np.maximum(np.einsum("nd,nd->n", step, step), 1e-12),
                    0.0, 1.0)
    tall, short = np.maximum(out_h[i], in_h[j]), np.minimum(out_h[i], in_h[j])
    err = np.linalg.norm(point - start - along[:, None] * step, axis=1) / np.maximum(tall, 1e-6)
    return err, tall / np.maximum(short, 1e-6)


def stitch_tracklets(features: Sequence[Any], different: np.ndarray, negatives: np.ndarray, cfg: LinkConfig,
                     threshold: float) -> list[Stitch]:
    """The within-camera stitches among ``features`` (``Store.tracklet_features()`` with an embedding; those
    without motion are left alone). ``different``: (K, 2) index pairs into ``features`` known to be two people,
    ``negatives``: their distances (``calibrate.known_pairs``, ``calibrate.pair_distances``); ``threshold``: the
    link threshold, used when those pairs are too few."""
    has_motion = np.array([getattr(f, "motion", None) is not None for f in features], bool)
    if not cfg.stitch or int(has_motion.sum()) < 2:
        return []
    i, j = time_plausible(features, cfg.stitch_gap_s)
    keep = has_motion[i] & has_motion[j]
    i, j = i[keep], j[keep]
    if not len(i):
        return []
    t0 = np.array([f.first_time for f in features])
    t1 = np.array([f.last_time for f in features])
    emb = np.stack([np.asarray(f.embedding, np.float32) for f in features])
    gap = t0[j] - t1[i]
    reach = lambda g: cfg.stitch_reach + cfg.stitch_reach_per_s * g  # noqa: E731
    err, ratio = off_path(features, i, j, gap)
    gated = (err <= reach(gap)) & (ratio <= HEIGHT_RATIO)
    loose = threshold
    moving = has_motion[different[:, 0]] & has_motion[different[:, 1]] if len(different) else np.zeros(0, bool)
    diff, negatives = different[moving], negatives[moving]
    if len(diff) >= cfg.min_pairs:
        # the gate's selectivity on pairs known to be two people (tracks of one camera at the same time), each
        # taken both ways as if the second appeared a typical gap after the first was lost: the time-plausible
        # pairs themselves would overstate it, since many of them are the lost tracks being looked for
        a, b = np.concatenate([diff[:, 0], diff[:, 1]]), np.concatenate([diff[:, 1], diff[:, 0]])
        typical = np.full(len(a), float(np.median(gap)))
        e, r = off_path(features, a, b, typical)
        share = max(float(((e <= reach(typical)) & (r <= HEIGHT_RATIO)).mean()), 1.0 / len(a))
        far = min(cfg.topology_far_cap, cfg.far / share)
        loose = max(threshold, threshold_at_far(negatives, far))
        log.info("stitching: the motion gate lets %.1f%% of known-different pairs through: appearance threshold "
                 "%.3f (FAR %.1f%%) for a lost track picked up again", 100 * share, loose, 100 * far)
    i, j, gap, err = i[gated], j[gated], gap[gated], err[gated]
    dist = paired_distances(emb, i, j)
    keep = dist < loose
    i, j, gap, err, dist = i[keep], j[keep], gap[keep], err[keep], dist[keep]
    if not len(i):
        return []
    rows, ri = np.unique(i, return_inverse=True)
    cols, ci = np.unique(j, return_inverse=True)
    cost = np.zeros((len(rows), len(cols)))
    cost[ri, ci] = dist - loose  # < 0 on candidates; 0 = leave unmatched
    where = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(ri, ci, strict=True))}
    out = []
    for r, c in zip(*linear_sum_assignment(cost), strict=True):
        k = where.get((int(r), int(c)))
        if k is not None:
            out.append(Stitch(int(features[i[k]].id), int(features[j[k]].id), float(dist[k]), float(loose),
                              float(gap[k]), float(err[k])))
    log.info("stitching: %d lost tracks picked up again (of %d candidates)", len(out), len(i))
    return out


@dataclass(frozen=True)
class Pooled:
    """Tracklets with their stitched chains pooled into one unit each, for the cross-camera linker: the unit is
    its earliest member's id, spans the chain, enters where the first member enters, leaves where the last
    leaves, and carries the duration-weighted mean embedding (L2-normalised)."""

    units: list[Any]
    constraints: Any  # the reviewers' constraints on unit ids
    members: dict[int, list[tuple[int, Stitch | None]]]  # unit id -> (tracklet id, stitch that joined it), in time order

    def expand(self, groups: list[list[LinkProposal]], threshold: float) -> list[list[LinkProposal]]:
        """The linker's groups of units as groups of tracklets; a stitched member carries its stitch's
        appearance distance scaled to the link ``threshold`` (as a link through a learned transition does, so
        that every cost reads against one threshold), its confidence and its reason."""
        out = []
        for group in groups:
            tracks: list[tuple[int, LinkProposal]] = []
            for proposal in group:
                for k, (tid, stitch) in enumerate(self.members[proposal.tracklet_id]):
                    if k == 0:
                        tracks.append((tid, replace(proposal, tracklet_id=tid)))
                    else:
                        assert stitch is not None
                        ratio = stitch.distance / stitch.threshold
                        tracks.append((tid, LinkProposal(tid, ratio * threshold, float(np.clip(1.0 - ratio, 0.0, 1.0)),
                                                         stitch.reason())))
            out.append([p for _, p in tracks])
        return out


def pool(features: Sequence[Any], constraints: Any, stitches: Sequence[Stitch]) -> Pooled:
    """Chain the ``stitches`` (surest first; none that would join two reviewed identities or a cannot-link
    pair) and pool each chain into one unit (``Pooled``)."""
    by_id = {int(f.id): f for f in features}
    head = {t: t for t in by_id}
    reviewed = {int(t): g for g, group in enumerate(getattr(constraints, "must_link", None) or ()) for t in group}
    cannot = {tuple(sorted((int(a), int(b)))) for a, b in getattr(constraints, "cannot_link", None) or ()}
    chain: dict[int, list[int]] = {t: [t] for t in by_id}
    joined: dict[int, Stitch] = {}

    def root(t: int) -> int:
        while head[t] != t:
            t = head[t]
        return t

    for s in sorted(stitches, key=lambda s: s.distance / s.threshold):
        if s.earlier not in by_id or s.later not in by_id:
            continue
        ra, rb = root(s.earlier), root(s.later)
        xs, ys = chain[ra], chain[rb]
        groups = {reviewed[t] for t in xs + ys if t in reviewed}
        if ra == rb or len(groups) > 1 or any(tuple(sorted((x, y))) in cannot for x in xs for y in ys):
            continue
        first, second = (ra, rb) if by_id[ra].first_time <= by_id[rb].first_time else (rb, ra)
        head[second] = first
        chain[first] = sorted(chain[first] + chain.pop(second), key=lambda t: (by_id[t].first_time, t))
        joined[s.later] = s
    unit_of = {t: root(t) for t in by_id}
    units = [_unit([by_id[t] for t in chain[r]]) for r in sorted(chain)]
    must = [tuple(sorted({unit_of[int(t)] for t in g if int(t) in unit_of}))
            for g in getattr(constraints, "must_link", None) or ()]
    cannot_units = {(min(unit_of[a], unit_of[b]), max(unit_of[a], unit_of[b])) for a, b in cannot
                    if a in unit_of and b in unit_of}
    members = {r: [(t, joined.get(t) if k else None) for k, t in enumerate(chain[r])] for r in chain}
    return Pooled(units, LinkConstraints(must_link=[g for g in must if g],
                                         cannot_link={p for p in cannot_units if p[0] != p[1]}), members)


def _unit(parts: list[Any]) -> Any:
    """One tracklet feature for a chain of them (see ``Pooled``)."""
    if len(parts) == 1:
        return parts[0]
    first, last = parts[0], parts[-1]
    weights = np.array([p.last_time - p.first_time + 0.2 for p in parts])  # a fragment of one frame still counts
    emb = (weights[:, None] * np.stack([np.asarray(p.embedding, np.float32) for p in parts])).sum(0)
    emb = (emb / max(float(np.linalg.norm(emb)), 1e-12)).astype(np.float32)
    motion = None
    if first.motion is not None and last.motion is not None:
        motion = replace(first.motion, exit_velocity=last.motion.exit_velocity, exit_height=last.motion.exit_height)
    return replace(first, last_time=last.last_time, exit=last.exit, embedding=emb, motion=motion)
