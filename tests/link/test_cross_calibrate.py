"""The cross-camera threshold from cross-camera pairs, on two cameras with a known answer."""

from __future__ import annotations

import numpy as np
from link_features import feature

from reid.config import LinkConfig
from reid.link.calibrate import resolve_threshold
from reid.link.cross_calibrate import cross_negatives, cross_threshold


def two_cameras(n: int = 30, d: int = 32, seed: int = 1) -> list:
    """``n`` people, each seen once by camera a and once by b (tracklet k and 100 + k), the two sightings a
    small step apart; people are random unit vectors (distances near sqrt(2)). One camera's tracklets never
    overlap in time, so there is no within-camera evidence."""
    rng = np.random.default_rng(seed)
    feats = []
    for k in range(n):
        p = rng.normal(size=d)
        p /= np.linalg.norm(p)
        for fid, cam in ((k, "a"), (100 + k, "b")):
            v = p + 0.05 * rng.normal(size=d)
            feats.append(
                feature(fid, cam, 10.0 * k, 10.0 * k + 5.0, (v / np.linalg.norm(v)).astype(np.float32))
            )
    return feats


def test_nearest_neighbours_are_left_out_so_every_true_pair_is() -> None:
    feats = two_cameras()
    neg = cross_negatives(feats)
    assert len(neg) == 30 * 30 - 30  # every true pair is a mutual nearest neighbour here
    emb = {f.id: f.embedding for f in feats}
    same = np.array([np.linalg.norm(emb[k] - emb[100 + k]) for k in range(30)])
    assert neg.min() > same.max()  # only different people remain


def test_threshold_sits_between_the_two_modes() -> None:
    feats = two_cameras()
    emb = {f.id: f.embedding for f in feats}
    same = np.array([np.linalg.norm(emb[k] - emb[100 + k]) for k in range(30)])
    cross = cross_threshold(feats, far=0.01, min_pairs=20)
    assert cross.threshold is not None and same.max() < cross.threshold < np.sort(cross_negatives(feats))[9]
    assert cross.pairs == 870


def test_resolve_threshold_uses_cross_camera_evidence_only_when_asked() -> None:
    feats = two_cameras()
    assert "default" in resolve_threshold(feats, None, LinkConfig()).source  # no known-different pair
    cal = resolve_threshold(feats, None, LinkConfig(cross_far=0.01))
    assert cal.threshold == cross_threshold(feats, 0.01, 20).threshold
    assert "870 cross-camera pairs" in cal.source


def test_too_few_cross_pairs_give_no_threshold() -> None:
    assert cross_threshold(two_cameras(n=4), far=0.01, min_pairs=20).threshold is None
