"""Verification metrics on hand-computed pairs."""

import numpy as np
import pytest

from reid.metrics import threshold_at_far
from reid.metrics.verification import equal_error_rate, pair_distances, roc_curve, tar_at_far, verify


def test_threshold_at_far_hand_computed() -> None:
    neg = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 1.0])  # 10 negatives
    assert threshold_at_far(neg, 0.0) == 0.1  # nothing strictly below 0.1
    assert threshold_at_far(neg, 0.1) == 0.2  # one negative (0.1) below
    assert threshold_at_far(neg, 0.29) == pytest.approx(0.3)  # floor(2.9) = 2 below; 0.29 * 10 rounding is safe
    assert threshold_at_far(neg, 0.3) == pytest.approx(0.4)
    t = threshold_at_far(neg, 1.0)  # every pair may be linked: just above the largest
    assert t > 1.0 and (neg < t).all()


@pytest.mark.parametrize("far", [0.0, 0.01, 0.05, 0.3, 0.5, 0.999, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threshold_at_far_is_the_largest_admissible(far: float, dtype: type) -> None:
    neg = np.random.default_rng(0).random(1000).astype(dtype)
    neg[:50] = neg[50]  # ties included
    t = threshold_at_far(neg, far)
    assert np.count_nonzero(neg < t) <= far * len(neg) + 1e-9
    above = neg[neg >= t]  # any larger threshold links at least one more pair and breaks the target
    if len(above):
        assert np.count_nonzero(neg <= above.min()) > far * len(neg)


def test_threshold_at_far_with_ties() -> None:
    neg = np.array([0.2, 0.2, 0.2, 0.5])
    assert threshold_at_far(neg, 0.5) == 0.2  # linking below 0.5 would accept 3/4 > 0.5
    assert threshold_at_far(neg, 0.75) == 0.5


def test_threshold_at_far_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no known-different pairs"):
        threshold_at_far(np.array([]), 0.01)
    with pytest.raises(ValueError, match="far must be in"):
        threshold_at_far(np.array([1.0]), 1.5)
    with pytest.raises(ValueError, match="NaN"):
        threshold_at_far(np.array([1.0, np.nan, 0.5]), 0.01)


# ------------------------------------------------------------------------------------------- pairs, ROC, EER

def brute_pairs(distmat, q_pids, g_pids, q_cams, g_cams):
    same, diff = [], []
    for i in range(len(q_pids)):
        for j in range(len(g_pids)):
            if q_pids[i] == -1 or g_pids[j] == -1 or (q_pids[i] == g_pids[j] and q_cams[i] == g_cams[j]):
                continue
            (same if q_pids[i] == g_pids[j] else diff).append(distmat[i, j])
    return np.sort(same), np.sort(diff)


def test_pair_distances_follow_the_protocol() -> None:
    # gallery:            0    1    2    3   4
    g_pids = np.array([1, 1, 2, -1, 0])
    g_cams = np.array([0, 1, 1, 1, 2])
    q_pids, q_cams = np.array([1, -1]), np.array([0, 0])
    distmat = np.array([[0.1, 0.5, 0.2, 0.3, 0.4],
                        [0.6, 0.7, 0.8, 0.9, 1.0]], np.float32)
    # query 0 (pid 1, cam 0): g0 same pid + camera -> ignored; g1 same (0.5); g2, g4 different; g3 junk
    # query 1 is junk -> ignored whole
    same, diff = pair_distances(distmat, q_pids, g_pids, q_cams, g_cams)
    np.testing.assert_array_equal(same, np.float32([0.5]))
    np.testing.assert_array_equal(diff, np.float32([0.2, 0.4]))
    assert same.dtype == np.float32


@pytest.mark.parametrize("seed", [0, 1])
def test_pair_distances_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q_pids, g_pids = rng.integers(-1, 6, 15), rng.integers(-1, 6, 40)
    q_cams, g_cams = rng.integers(0, 3, 15), rng.integers(0, 3, 40)
    distmat = rng.random((15, 40))
    same, diff = pair_distances(distmat, q_pids, g_pids, q_cams, g_cams)
    same_b, diff_b = brute_pairs(distmat, q_pids, g_pids, q_cams, g_cams)
    np.testing.assert_array_equal(same, same_b)
    np.testing.assert_array_equal(diff, diff_b)


def test_roc_hand_computed() -> None:
    # same 0.1, 0.4; different 0.2, 0.3, 0.5. Thresholds (link d < t):
    #   t <= 0.1: nothing linked (0, 0); t in (0.1, 0.2]: TAR 1/2, FAR 0; t in (0.3, 0.4]: FAR 2/3, TAR 1/2;
    #   t in (0.4, 0.5]: FAR 2/3, TAR 1; above 0.5 everything
    roc = roc_curve(np.array([0.4, 0.1]), np.array([0.5, 0.2, 0.3]))
    points = sorted(set(zip(roc.far.round(9), roc.tar.round(9), strict=True)))
    assert points == [(0, 0), (0, 0.5), (0.666666667, 0.5), (0.666666667, 1), (1, 1)]
    assert np.all(np.diff(roc.thresholds) >= 0) and np.all(np.diff(roc.far) >= 0) and np.all(np.diff(roc.tar) >= 0)
    # FAR = 1 - TAR on the segment (0, 0.5) -> (2/3, 0.5) at FAR 0.5
    assert equal_error_rate(roc) == pytest.approx(0.5)


def test_roc_points_are_reached_at_their_thresholds() -> None:
    rng = np.random.default_rng(3)
    same = np.round(rng.random(30), 1)  # many ties, also between same and different
    diff = np.round(rng.random(200) + 0.3, 1)
    roc = roc_curve(same, diff)
    for f, t, th in zip(roc.far, roc.tar, roc.thresholds, strict=True):
        assert f == np.mean(diff < th) and t == np.mean(same < th)


def test_eer_on_a_vertical_step() -> None:
    # same 0.3, 0.3; different 0.1, 0.2, 0.4, 0.5: at t just above 0.2 FAR 1/2 and TAR 0, then TAR jumps
    # to 1 at FAR 1/2 -> the ROC crosses FAR = 1 - TAR on the vertical step: EER 1/2
    roc = roc_curve(np.array([0.3, 0.3]), np.array([0.1, 0.2, 0.4, 0.5]))
    assert equal_error_rate(roc) == pytest.approx(0.5)
    # perfectly separated: EER 0
    assert equal_error_rate(roc_curve(np.array([0.1, 0.2]), np.array([0.3, 0.4]))) == 0.0


def test_tar_at_far_hand_computed() -> None:
    same = np.array([0.1, 0.25, 0.4, 0.6])
    diff = np.array([0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3])
    assert tar_at_far(same, diff, 0.0) == (0.25, 0.2)  # threshold 0.2: only 0.1 linked
    assert tar_at_far(same, diff, 0.1) == (0.5, 0.3)  # one negative (0.2) may be linked: threshold 0.3
    assert tar_at_far(same, diff, 0.25) == (0.75, 0.5)


def test_verify_report() -> None:
    # 2 queries x 4 gallery; q0 pid 1 cam 0, q1 pid 2 cam 1
    g_pids, g_cams = np.array([1, 1, 2, 3]), np.array([1, 0, 0, 2])
    distmat = np.array([[0.2, 0.05, 0.6, 0.9],   # g1 same pid + camera: ignored
                        [0.4, 0.5, 0.3, 0.7]])
    report = verify(distmat, [1, 2], g_pids, [0, 1], g_cams, far=0.2)
    np.testing.assert_allclose(report.pairs.same, [0.2, 0.3])
    np.testing.assert_allclose(report.pairs.diff, [0.4, 0.5, 0.6, 0.7, 0.9])
    assert (report.same_pairs, report.diff_pairs) == (2, 5)
    assert report.threshold == 0.5 and report.tar == 1.0  # one of five negatives (0.4) may be linked
    assert report.threshold_at[0.01] == 0.4 and report.tar_at[0.01] == 1.0  # separated: all same below
    assert report.eer == 0.0
    summary = report.summary()
    assert summary["same_pairs"] == 2 and summary["tar_at_far_0.001"] == 1.0 and summary["far"] == 0.2


def test_verify_agrees_with_brute_force_on_random_pairs() -> None:
    rng = np.random.default_rng(7)
    q_pids, g_pids = rng.integers(0, 8, 30), rng.integers(0, 8, 120)
    q_cams, g_cams = rng.integers(0, 3, 30), rng.integers(0, 3, 120)
    distmat = (rng.random((30, 120)) - 0.3 * (q_pids[:, None] == g_pids)).astype(np.float32)
    report = verify(distmat, q_pids, g_pids, q_cams, g_cams, far=0.05)
    same, diff = brute_pairs(distmat, q_pids, g_pids, q_cams, g_cams)
    for f in (0.05, 0.01, 0.001):
        t = report.threshold_at[f]
        assert np.mean(diff < t) <= f and (t > diff.max() or np.mean(diff <= t) > f)
        assert report.tar_at[f] == np.mean(same < t)
    # EER: between the best FAR - FRR crossing bounds over all thresholds
    grid = np.concatenate([same, diff])
    gaps = [(np.mean(diff < t), 1 - np.mean(same < t)) for t in grid]
    best = min(gaps, key=lambda p: abs(p[0] - p[1]))
    assert abs(report.eer - (best[0] + best[1]) / 2) <= 2.0 / min(len(same), len(diff))


def test_verify_errors_are_one_line() -> None:
    with pytest.raises(ValueError, match="found 0 and"):
        verify(np.zeros((1, 2)), [1], [1, 2], [0], [0, 0])  # the only same pair is in the query's camera
    with pytest.raises(ValueError, match="far must be in"):
        verify(np.zeros((1, 2)), [1], [1, 2], [0], [1, 0], far=2.0)
    with pytest.raises(ValueError, match="NaN"):
        verify(np.array([[np.nan, 0.1]]), [1], [1, 2], [0], [1, 0])
