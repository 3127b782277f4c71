"""The link threshold, calibrated on pairs whose answer is known, as FaceNet chose its verification threshold.

Every video gives known-*different* pairs for free: two tracklets of one camera that overlap in time are two
people. Reviewers add more (rejections). The threshold is the distance below which at most ``far`` of those
pairs fall (``reid.metrics.threshold_at_far``): link when ``d < threshold``.

Known-*same* pairs (reviewers' confirmations) only serve to report the true-accept rate at that threshold.
The parts of one tracklet are same-person pairs too, but biased: one camera, seconds apart, the same pose and
light, so they are much closer than a person seen by two cameras. They are reported as an upper bound of the
TAR ("intra-tracklet"), never used to move the threshold.

Order of precedence, decided once per linking run by ``resolve_threshold``: an explicit ``LinkConfig.threshold``
(``--threshold``); else this site's calibration when it rests on at least ``cfg.min_pairs`` known-different pairs;
with ``cfg.cross_far``, the larger of that and the threshold at ``cross_far`` of cross-camera pairs
(``reid.link.cross_calibrate``, either alone when the other has too few pairs); else the threshold the
checkpoint was calibrated with (``reid evaluate`` stores it); else ``DEFAULT_THRESHOLD``.
The ``Calibration`` it returns carries the known-different pairs and their distances too: the linker's stitching
gate and topology prior rest on the same pairs, and ``link_tracklets`` takes it as a required argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reid.config import LinkConfig
from reid.link.candidates import paired_distances
from reid.link.cross_calibrate import cross_threshold
from reid.metrics.verification import threshold_at_far

# Measured on the synthetic scene with the hand-crafted descriptor (docs/linking.md "Thresholds"); only used
# when neither the site nor the checkpoint gives a calibrated one.
DEFAULT_THRESHOLD = 0.6


def _no_pairs() -> np.ndarray:
    return np.zeros((0, 2), np.int64)


@dataclass(frozen=True)
class Calibration:
    """The threshold in use and what it rests on; ``source`` is one line for the run summary and the GUI.

    ``different``: (K, 2) int64 tracklet ids of the known-different pairs (``known_pairs``) among the tracklets
    with an embedding, ``negatives``: (K,) float64 their distances; the linker reuses both."""

    threshold: float
    source: str
    different_pairs: int = 0
    same_pairs: int = 0
    tar: float | None = None  # of the reviewers' confirmed pairs at the threshold
    different: np.ndarray = field(default_factory=_no_pairs, compare=False, repr=False)
    negatives: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)

    def describe(self) -> str:
        """``0.412 (calibrated: FAR 1.0% on 812 known-different pairs)``: the run summary's line."""
        return f"{self.threshold:.6g} ({self.source})"


def known_pairs(features: Sequence[Any], constraints: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (into ``features``) known to be different and known to be the same: ((N, 2), (M, 2)).

    Different: same camera and overlapping in time, or a reviewer's cannot-link pair. Same: two tracklets of
    one reviewer-confirmed (must-link) group.
    """
    index = {int(f.id): k for k, f in enumerate(features)}
    cams = np.array([str(f.camera) for f in features])
    t0 = np.array([f.first_time for f in features], np.float64)
    t1 = np.array([f.last_time for f in features], np.float64)
    i, j = _overlapping(cams, t0, t1)
    cannot = [sorted((index[a], index[b])) for a, b in getattr(constraints, "cannot_link", None) or ()
              if a in index and b in index]
    # sorted distinct rows, as a sorted set of tuples would give, without a Python tuple per pair
    diff = np.unique(np.concatenate([np.stack([np.minimum(i, j), np.maximum(i, j)], 1).astype(np.int64),
                                     np.array(cannot, np.int64).reshape(-1, 2)]), axis=0)
    same: set[tuple[int, int]] = set()
    for group in getattr(constraints, "must_link", None) or ():
        members = sorted(index[t] for t in group if t in index)
        same.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    same_pairs = np.array(sorted(same), np.int64).reshape(-1, 2)
    n = len(features)
    return diff, same_pairs[~np.isin(same_pairs[:, 0] * n + same_pairs[:, 1], diff[:, 0] * n + diff[:, 1])]


def _overlapping(cams: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) of one camera whose time spans overlap, each pair once: per camera in start order,
    j starts at or after i and no later than i ends (memory follows the pairs found, not n^2)."""
    out_i, out_j = [], []
    for cam in np.unique(cams):
        idx = np.flatnonzero(cams == cam)
        idx = idx[np.argsort(t0[idx], kind="stable")]
        starts = t0[idx]
        stop = np.searchsorted(starts, t1[idx], "right")  # later ones starting before i ends
        count = np.maximum(stop - np.arange(len(idx)) - 1, 0)
        a = np.repeat(np.arange(len(idx)), count)
        b = a + 1 + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        out_i.append(idx[a])
        out_j.append(idx[b])
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


def pair_distances(emb: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Distances of index pairs (rows of ``pairs``) by the project's one distance."""
    return paired_distances(emb, pairs[:, 0], pairs[:, 1])


def resolve_threshold(features: Sequence[Any], constraints: Any, cfg: LinkConfig,
                      checkpoint_threshold: float | None = None) -> Calibration:
    """The link threshold for ``features`` (``Store.tracklet_features()``) by the precedence above, with the
    known-different pairs it rests on; ``checkpoint_threshold``: the embedder's verification threshold, if any
    (meta ``checkpoint_link_threshold`` of a store)."""
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    ids = np.array([int(f.id) for f in usable], np.int64)
    diff, same = known_pairs(usable, constraints)
    emb = np.stack([np.asarray(f.embedding, np.float32) for f in usable]) if usable else np.zeros((0, 1), np.float32)
    d_diff = pair_distances(emb, diff)
    pairs = {"different_pairs": len(d_diff), "different": ids[diff], "negatives": d_diff}
    if cfg.threshold is not None:
        return Calibration(float(cfg.threshold), "given (--threshold)", **pairs)
    cross = cross_threshold(usable, cfg.cross_far, cfg.min_pairs) if cfg.cross_far is not None else None
    if len(d_diff) >= cfg.min_pairs or (cross is not None and cross.threshold is not None):
        thr, why = (
            (threshold_at_far(d_diff, cfg.far), f"FAR {cfg.far:.1%} on {len(d_diff)} known-different pairs")
            if len(d_diff) >= cfg.min_pairs
            else (0.0, f"{len(d_diff)} known-different pairs (< {cfg.min_pairs})")
        )
        if cross is not None:  # the larger of the two: cross-camera pairs lie further apart (cross_calibrate)
            why += f"; {cross.describe()}"
            thr = max(thr, cross.threshold if cross.threshold is not None else 0.0)
        d_same = pair_distances(emb, same)
        tar = float(np.mean(d_same < thr)) if len(d_same) else None
        tar_txt = f", TAR {tar:.0%} on {len(d_same)} confirmed pairs" if tar is not None else ""
        return Calibration(thr, f"calibrated: {why}{tar_txt}", same_pairs=len(d_same), tar=tar, **pairs)
    short = f"{len(d_diff)} known-different pairs (< {cfg.min_pairs})"
    if checkpoint_threshold is not None:
        return Calibration(float(checkpoint_threshold), f"the checkpoint's verification threshold ({short})", **pairs)
    return Calibration(DEFAULT_THRESHOLD, f"default ({short}, no calibrated checkpoint)", **pairs)
