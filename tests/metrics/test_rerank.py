"""re_ranking against a straightforward, unchunked implementation of Zhong et al.'s algorithm."""

import numpy as np
import pytest

import reid.metrics.rerank as rerank
from reid.losses import pairwise_distance_numpy
from reid.metrics import evaluate_rank, re_ranking


def reference_re_ranking(q_g, q_q, g_g, k1, k2, lambda_value):
    """Dense (N, N), full argsort, Python loops: the algorithm as the widely used reference writes it."""
    nq = q_g.shape[0]
    full = np.block([[q_q, q_g], [q_g.T, g_g]])
    full = np.square(full).astype(np.float32)
    dist = (full / full.max(axis=0)).T  # row i divided by the max of column i, then transposed
    n = len(dist)
    rank = np.argsort(dist, axis=1, kind="stable")

    def reciprocal(i, k):
        forward = rank[i, : k + 1]
        return np.array([c for c in forward if i in rank[c, : k + 1]], dtype=np.int64)

    v = np.zeros((n, n), np.float32)
    half = int(np.around(k1 / 2.0))
    for i in range(n):
        base = reciprocal(i, k1)
        expanded = list(base)
        for c in base:
            cand = reciprocal(c, half)
            if len(set(cand) & set(base)) > 2.0 / 3 * len(cand):
                expanded += list(cand)
        expanded = np.unique(expanded)
        w = np.exp(-dist[i, expanded])
        v[i, expanded] = w / w.sum()
    if k2 != 1:
        v = np.stack([v[rank[i, :k2]].mean(0) for i in range(n)])
    jaccard = np.zeros((nq, n), np.float32)
    for i in range(nq):
        jaccard[i] = 1 - (m := np.minimum(v[i][None, :], v).sum(1)) / (2 - m)
    final = jaccard * (1 - lambda_value) + dist[:nq] * lambda_value
    return final[:, nq:]


def clustered(seed, nq, ng, ids=6, dim=8, noise=0.6):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, dim))
    q_p, g_p = rng.integers(0, ids, nq), rng.integers(0, ids, ng)
    qf = centres[q_p] + noise * rng.normal(size=(nq, dim))
    gf = centres[g_p] + noise * rng.normal(size=(ng, dim))
    return qf, gf, q_p, g_p


def distances(qf, gf, dtype=np.float32):
    qf, gf = qf.astype(dtype), gf.astype(dtype)
    return pairwise_distance_numpy(qf, gf), pairwise_distance_numpy(qf), pairwise_distance_numpy(gf)


@pytest.mark.parametrize("k1,k2,lam", [(20, 6, 0.3), (6, 3, 0.3), (5, 1, 0.5), (3, 2, 0.0)])
def test_matches_unchunked_reference(k1: int, k2: int, lam: float) -> None:
    qf, gf, *_ = clustered(0, nq=15, ng=60)
    q_g, q_q, g_g = distances(qf, gf)
    got = re_ranking(q_g, q_q, g_g, k1=k1, k2=k2, lambda_value=lam)
    expect = reference_re_ranking(q_g, q_q, g_g, k1, k2, lam)
    assert got.shape == (15, 60) and got.dtype == np.float32
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-6)


def test_small_chunks_and_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rerank, "_ROW_ELEMENTS", 500)  # many row, encoding and query chunks
    monkeypatch.setattr(rerank, "_PAIR_BUDGET", 300)
    qf, gf, *_ = clustered(1, nq=12, ng=40)
    q_g, q_q, g_g = distances(qf, gf, np.float64)
    got = re_ranking(q_g, q_q, g_g, k1=7, k2=4)
    np.testing.assert_allclose(got, reference_re_ranking(q_g, q_q, g_g, 7, 4, 0.3), rtol=1e-5, atol=1e-6)


def test_k1_larger_than_the_data() -> None:
    qf, gf, *_ = clustered(2, nq=3, ng=8)
    q_g, q_q, g_g = distances(qf, gf)
    np.testing.assert_allclose(re_ranking(q_g, q_q, g_g, k1=20, k2=6),
                               reference_re_ranking(q_g, q_q, g_g, 20, 6, 0.3), rtol=1e-5, atol=1e-6)


def test_improves_map_on_clustered_identities() -> None:
    # identities are clusters; a query whose nearest neighbours are wrong is rescued by the
    # k-reciprocal structure of the gallery (same effect as on Market-1501, +10 mAP in the paper)
    qf, gf, q_p, g_p = clustered(3, nq=30, ng=150, ids=10, dim=16, noise=1.2)
    q_g, q_q, g_g = distances(qf, gf)
    q_c, g_c = np.zeros(30, int), np.ones(150, int)
    _, before = evaluate_rank(q_g, q_p, g_p, q_c, g_c)
    _, after = evaluate_rank(re_ranking(q_g, q_q, g_g), q_p, g_p, q_c, g_c)
    assert after > before + 0.02


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="q_q"):
        re_ranking(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros((3, 3)))
