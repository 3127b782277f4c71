"""A cross-camera link threshold from the site's own cross-camera pairs, label-free (issue 20).

Known-different pairs of one camera (``calibrate.known_pairs``) do not say how far apart two people seen by
*two* cameras are: another viewpoint, light and sensor put every cross-camera pair further apart, so a
threshold calibrated on them accepts few true cross-camera pairs (docs/linking.md "Split family").

Most cross-camera pairs are two different people: with n people crossing, n of the ~n^2 pairs are one
person. Each true pair is, almost always, one of the two tracklets' nearest neighbour in the other camera;
leaving out every pair in which either tracklet is the other's nearest neighbour there leaves a set of
pairs that are nearly all different people, seen across the cameras as links are. The threshold is the
distance below which at most ``far`` of those fall (``threshold_at_far``), the FaceNet rule on cross-camera
evidence. Time is not used: pairs far apart in time are as good evidence of "different people" as any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reid.metrics.verification import threshold_at_far

MAX_PER_CAMERA = 2000  # a larger camera is subsampled evenly (by id order) so memory stays bounded


@dataclass(frozen=True)
class CrossCalibration:
    """The cross-camera threshold and how many cross-camera pairs (nearest neighbours left out) it rests on."""

    threshold: float | None
    pairs: int
    far: float

    def describe(self) -> str:
        kept = f"{self.threshold:.3f}" if self.threshold is not None else "none"
        return f"cross-camera FAR {self.far:.1%} on {self.pairs} cross-camera pairs without nearest neighbours: {kept}"


def cross_negatives(features: Sequence[Any]) -> np.ndarray:
    """Distances of every cross-camera pair (tracklets with an embedding) in which neither tracklet is the
    other's nearest neighbour in the other camera: the pairs taken to be different people."""
    usable = sorted((f for f in features if f.embedding is not None), key=lambda f: int(f.id))
    by_cam: dict[str, np.ndarray] = {}
    for cam in sorted({str(f.camera) for f in usable}):
        emb = np.stack([np.asarray(f.embedding, np.float64) for f in usable if str(f.camera) == cam])
        step = max(1, -(-len(emb) // MAX_PER_CAMERA))
        by_cam[cam] = emb[::step]
    cams = list(by_cam)
    out = []
    for k, ca in enumerate(cams):
        for cb in cams[k + 1 :]:
            a, b = by_cam[ca], by_cam[cb]
            d = np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0))
            nearest = np.zeros(d.shape, bool)
            nearest[np.arange(len(a)), d.argmin(1)] = True
            nearest[d.argmin(0), np.arange(len(b))] = True
            out.append(d[~nearest])
    return np.concatenate(out) if out else np.zeros(0)


def cross_threshold(features: Sequence[Any], far: float, min_pairs: int) -> CrossCalibration:
    """The threshold at ``far`` of ``cross_negatives``; ``threshold`` None when fewer than ``min_pairs``."""
    neg = cross_negatives(features)
    if len(neg) < max(min_pairs, 1):
        return CrossCalibration(None, len(neg), far)
    return CrossCalibration(threshold_at_far(neg, far), len(neg), far)
