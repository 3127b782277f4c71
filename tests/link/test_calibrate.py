"""Link-threshold calibration on generated pairs with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from link_features import feature

from reid.config import LinkConfig
from reid.link.calibrate import DEFAULT_THRESHOLD, known_pairs, resolve_threshold
from reid.store.rows import LinkConstraints


def unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_known_pairs_are_same_camera_overlaps_and_reviewer_decisions() -> None:
    e = np.eye(4, dtype=np.float32)
    feats = [feature(10, "a", 0, 5, e[0]), feature(11, "a", 4, 8, e[1]), feature(12, "a", 9, 12, e[2]),
             feature(13, "b", 0, 12, e[3])]
    diff, same = known_pairs(feats, LinkConstraints(must_link=[(10, 13)], cannot_link={(12, 13)}))
    # 10/11 overlap in camera a; 11/12 do not; 12/13 rejected by a reviewer; 10/13 confirmed
    assert diff.tolist() == [[0, 1], [2, 3]]
    assert same.tolist() == [[0, 3]]


def test_threshold_keeps_the_far_of_known_different_pairs_below_it() -> None:
    rng = np.random.default_rng(0)
    # 60 people at once in one camera: every pair overlaps in time, so all 1770 pairs are known-different
    feats = [feature(i, "cam", 0.0, 10.0, e) for i, e in enumerate(unit(rng, 60))]
    cal = resolve_threshold(feats, None, LinkConfig(far=0.01))
    diff, _ = known_pairs(feats)
    emb = np.stack([f.embedding for f in feats])
    d = np.linalg.norm(emb[diff[:, 0]] - emb[diff[:, 1]], axis=1)
    assert cal.different_pairs == len(d) == 1770
    assert np.mean(d < cal.threshold) <= 0.01
    assert np.mean(d <= cal.threshold + 1e-3) > 0.005  # not needlessly low: the 1% quantile, not the minimum
    assert "FAR 1.0%" in cal.source and "1770" in cal.source


def test_precedence_explicit_then_site_then_checkpoint_then_default() -> None:
    rng = np.random.default_rng(1)
    few = [feature(i, "cam", 0.0, 1.0, e) for i, e in enumerate(unit(rng, 4))]  # 6 pairs < min_pairs
    assert resolve_threshold(few, None, LinkConfig(threshold=0.42)).threshold == pytest.approx(0.42)
    by_ckpt = resolve_threshold(few, None, LinkConfig(), checkpoint_threshold=0.77)
    assert by_ckpt.threshold == pytest.approx(0.77) and "checkpoint" in by_ckpt.source
    default = resolve_threshold(few, None, LinkConfig())
    assert default.threshold == DEFAULT_THRESHOLD and "6 known-different pairs" in default.source


def test_tar_reported_on_confirmed_pairs() -> None:
    rng = np.random.default_rng(2)
    base = unit(rng, 30)
    feats = [feature(i, "a", 0.0, 5.0, e) for i, e in enumerate(base)]
    near = base[0] + 0.01 * rng.normal(size=base.shape[1]).astype(np.float32)
    feats.append(feature(100, "b", 20.0, 25.0, near / np.linalg.norm(near)))
    cal = resolve_threshold(feats, LinkConstraints(must_link=[(0, 100)]), LinkConfig())
    assert cal.same_pairs == 1 and cal.tar == 1.0


def test_overlapping_pairs_match_brute_force_without_all_pairs() -> None:
    from reid.link.calibrate import _overlapping

    rng = np.random.default_rng(3)
    n = 300
    cams = rng.choice(["a", "b", "c"], n)
    t0 = rng.uniform(0, 100, n)
    t1 = t0 + rng.uniform(0, 10, n)
    i, j = _overlapping(cams, t0, t1)
    got = {tuple(sorted(p)) for p in zip(i.tolist(), j.tolist(), strict=True)}
    a, b = np.triu_indices(n, 1)
    hit = (cams[a] == cams[b]) & (t0[a] <= t1[b]) & (t0[b] <= t1[a])
    assert got == set(zip(a[hit].tolist(), b[hit].tolist(), strict=True)) and len(got) == len(i)
