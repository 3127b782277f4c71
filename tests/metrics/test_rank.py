"""evaluate_rank against a brute-force per-query implementation and a hand-computed case."""

import numpy as np
import pytest

from reid.metrics import evaluate_rank


def brute_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank):
    """The classic loop (as torchreid's eval_market1501) with a stable sort."""
    all_cmc, all_ap = [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind="stable")
        keep = ~((g_pids[order] == q_pids[i]) & (g_camids[order] == q_camids[i]))
        matches = (g_pids[order] == q_pids[i])[keep].astype(np.int64)
        if not matches.any():
            continue
        cmc = np.zeros(max_rank)
        first = int(np.flatnonzero(matches)[0])
        cmc[first:] = 1.0
        all_cmc.append(cmc)
        hits = np.cumsum(matches)
        all_ap.append(sum(hits[k] / (k + 1) for k in np.flatnonzero(matches)) / matches.sum())
    return np.mean(all_cmc, axis=0), float(np.mean(all_ap))


def random_problem(seed, nq=40, ng=300, n_ids=25, n_cams=4, levels=None):
    rng = np.random.default_rng(seed)
    q_pids, g_pids = rng.integers(0, n_ids, nq), rng.integers(0, n_ids, ng)
    q_cams, g_cams = rng.integers(0, n_cams, nq), rng.integers(0, n_cams, ng)
    dist = rng.random((nq, ng)).astype(np.float32)
    dist -= 0.3 * (q_pids[:, None] == g_pids[None, :])  # make matches likelier near the top
    if levels:  # quantise: many exact ties, including positives with negatives and removed entries
        dist = np.round(dist * levels) / levels
    return dist, q_pids, g_pids, q_cams, g_cams


def test_hand_computed_case() -> None:
    # gallery:            0    1    2    3    4
    g_pids = np.array([1, 1, 2, 1, 3])
    g_cams = np.array([0, 1, 1, 2, 0])
    q_pids, q_cams = np.array([1, 2]), np.array([0, 0])
    distmat = np.array([[0.1, 0.5, 0.2, 0.3, 0.4],
                        [0.3, 0.4, 0.5, 0.1, 0.2]])
    # query 0 (pid 1, cam 0): gallery 0 is pid 1 / cam 0 -> ignored. Order of the rest:
    #   g2 (0.2, wrong), g3 (0.3, right), g4 (0.4, wrong), g1 (0.5, right)
    #   first hit at rank 2; AP = (1/2 + 2/4) / 2 = 0.5
    # query 1 (pid 2, cam 0): order g3, g4, g0, g1, g2 -> only hit g2 at rank 5; AP = 1/5
    cmc, mAP = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams, max_rank=5)
    np.testing.assert_allclose(cmc, [0.0, 0.5, 0.5, 0.5, 1.0])
    assert mAP == pytest.approx((0.5 + 0.2) / 2)


def test_ties_go_by_gallery_index() -> None:
    # all distances equal: order is gallery index; positive at index 2 and 3 -> ranks 2, 3
    g_pids, g_cams = np.array([5, 6, 1, 1]), np.array([0, 0, 1, 2])
    cmc, mAP = evaluate_rank(np.zeros((1, 4)), [1], g_pids, [0], g_cams, max_rank=4)
    np.testing.assert_allclose(cmc, [0, 0, 1, 1])
    assert mAP == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_same_camera_same_pid_is_ignored_even_when_tied() -> None:
    # gallery 0 (same pid, same cam) ties with the match at index 1 and with negative 2
    cmc, mAP = evaluate_rank(np.array([[0.5, 0.5, 0.5]]), [1], [1, 1, 2], [0], [0, 3, 0], max_rank=3)
    np.testing.assert_allclose(cmc, [1, 1, 1])
    assert mAP == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("levels", [None, 20, 3])
def test_matches_brute_force(seed: int, levels: int | None) -> None:
    problem = random_problem(seed, levels=levels)
    cmc, mAP = evaluate_rank(*problem, max_rank=10)
    cmc_b, mAP_b = brute_rank(*problem, max_rank=10)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)


def test_matches_brute_force_float64_and_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import reid.metrics.rank as rank

    monkeypatch.setattr(rank, "_CHUNK_ELEMENTS", 1000)  # several query chunks and tie blocks
    dist, *ids = random_problem(4, nq=30, ng=200, levels=7)
    dist = dist.astype(np.float64) + 1e-12 * np.random.default_rng(0).random(dist.shape)  # below f32 resolution
    cmc, mAP = evaluate_rank(dist, *ids, max_rank=50)
    cmc_b, mAP_b = brute_rank(dist, *ids, max_rank=50)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)


def test_queries_without_matches_are_skipped() -> None:
    g_pids, g_cams = np.array([1, 1, 2, 3]), np.array([0, 1, 0, 0])
    # query 0 (pid 1, cam 0): g0 ignored; order g2 (wrong), g1 (right), g3 -> rank 2, AP 1/2
    # query 1 (pid 2, cam 0): its only sample g2 is in its own camera -> skipped
    # query 2 (pid 9): not in the gallery -> skipped
    distmat = np.array([[0.1, 0.3, 0.2, 0.4], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    cmc, mAP = evaluate_rank(distmat, [1, 2, 9], g_pids, [0, 0, 0], g_cams, max_rank=4)
    np.testing.assert_allclose(cmc, [0, 1, 1, 1])
    assert mAP == pytest.approx(0.5)


def test_cmc_rank_with_removed_entry_ahead() -> None:
    # query pid 1 cam 0; g0 (pid 1, cam 0) is closest but ignored -> match g1 moves up to rank 1
    cmc, mAP = evaluate_rank(np.array([[0.1, 0.2, 0.3]]), [1], [1, 1, 2], [0], [0, 1, 0], max_rank=3)
    np.testing.assert_allclose(cmc, [1, 1, 1])
    assert mAP == 1.0


def test_no_valid_query_raises() -> None:
    with pytest.raises(ValueError, match="no query has a valid match"):
        evaluate_rank(np.zeros((1, 2)), [1], [1, 2], [0], [0, 0])


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="num_query"):
        evaluate_rank(np.zeros((2, 3)), [1], [1, 2, 3], [0], [0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        evaluate_rank(np.array([[np.nan, 0.1]]), [1], [1, 1], [0], [1, 2])


def test_cmc_has_max_rank_length_and_is_monotone() -> None:
    problem = random_problem(9, nq=20, ng=30)
    cmc, mAP = evaluate_rank(*problem, max_rank=50)
    assert cmc.shape == (50,) and np.all(np.diff(cmc) >= 0) and 0 <= cmc[0] <= cmc[-1] <= 1
    assert cmc[-1] == 1.0 and 0 < mAP <= 1


@pytest.mark.parametrize("levels", [None, 50])
def test_matches_brute_force_shallow_and_deep_rows(levels: int | None) -> None:
    """Most queries have all matches near the top (few entries to sort), some a match far down."""
    rng = np.random.default_rng(11)
    nq, ng = 60, 500
    q_pids, g_pids = rng.integers(0, 30, nq), rng.integers(0, 30, ng)
    q_cams, g_cams = rng.integers(0, 3, nq), rng.integers(0, 3, ng)
    dist = rng.random((nq, ng))
    same = q_pids[:, None] == g_pids[None, :]
    dist[same] *= 0.05  # matches within the first few percent ...
    far = rng.random(nq) < 0.3
    rows, cols = np.nonzero(same & far[:, None])
    dist[rows, cols] = np.maximum(dist[rows, cols], rng.random(len(rows)))  # ... except in some queries
    if levels:
        dist = np.round(dist * levels) / levels
    problem = (dist.astype(np.float32), q_pids, g_pids, q_cams, g_cams)
    cmc, mAP = evaluate_rank(*problem, max_rank=20)
    cmc_b, mAP_b = brute_rank(*problem, max_rank=20)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)


WAYS = {  # cost-model constants that force one way of counting on every row
    "count": {"_SORT_NS": 1e9, "_GATHER_NS": 1e9, "_COMPRESS_NS": 1e9},
    "count near entries only": {"_SORT_NS": 1e9, "_GATHER_NS": 1e9, "_COMPRESS_NS": 0.0},
    "sort": {"_CMP_NS": 1e9, "_CALL_NS": 1e9},
}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("levels", [None, 20, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_each_way_matches_brute_force(monkeypatch: pytest.MonkeyPatch, way: str, levels: int | None,
                                      seed: int) -> None:
    import reid.metrics.rank as rank

    for name, value in WAYS[way].items():
        monkeypatch.setattr(rank, name, value)
    monkeypatch.setattr(rank, "_CHUNK_ELEMENTS", 3000)  # several query chunks, several positives per pass
    problem = random_problem(seed, nq=40, ng=300, levels=levels)
    cmc, mAP = evaluate_rank(*problem, max_rank=10)
    cmc_b, mAP_b = brute_rank(*problem, max_rank=10)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)


@pytest.mark.parametrize("way", list(WAYS))
def test_each_way_with_infinite_distances_and_float64(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    import reid.metrics.rank as rank

    for name, value in WAYS[way].items():
        monkeypatch.setattr(rank, name, value)
    dist, *ids = random_problem(5, nq=30, ng=120, levels=4)
    dist = dist.astype(np.float64)
    dist[np.random.default_rng(1).random(dist.shape) < 0.2] = np.inf  # positives and ignored entries too
    cmc, mAP = evaluate_rank(dist, *ids, max_rank=20)
    cmc_b, mAP_b = brute_rank(dist, *ids, max_rank=20)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)


def test_deep_rows_are_counted_and_shallow_rows_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the measured cost model, a Market-width row whose positives lie deep is counted, not sorted."""
    import reid.metrics.rank as rank

    calls = {"count": 0, "sort": 0}
    count, sort = rank._count_ahead, rank._ranks_by_sorting

    def counting(*a):  # type: ignore[no-untyped-def]
        calls["count"] += 1
        return count(*a)

    def sorting(*a):  # type: ignore[no-untyped-def]
        calls["sort"] += 1
        return sort(*a)

    monkeypatch.setattr(rank, "_count_ahead", counting)
    monkeypatch.setattr(rank, "_ranks_by_sorting", sorting)
    rng = np.random.default_rng(0)
    ng = 20000
    g_pids, g_cams = rng.integers(1, 1000, ng), rng.integers(0, 6, ng)
    q_pids, q_cams = g_pids[:2], (g_cams[:2] + 1) % 6
    dist = rng.random((2, ng)).astype(np.float32)
    dist[1, g_pids == q_pids[1]] = 1e-3  # query 1: its matches first
    problem = (dist, q_pids, g_pids, q_cams, g_cams)
    cmc, mAP = evaluate_rank(*problem, max_rank=5)
    assert calls == {"count": 1, "sort": 1}
    cmc_b, mAP_b = brute_rank(*problem, max_rank=5)
    np.testing.assert_allclose(cmc, cmc_b, atol=1e-12)
    assert mAP == pytest.approx(mAP_b, abs=1e-12)
