"""Evaluation at Market-1501 size: evaluate_rank against the classic per-query loop, and re_ranking.

Synthetic problem with Market-1501's layout: 751 identities and 6 cameras; 3,368 queries (one image
per identity and camera, ~4.5 cameras per identity); 19,732 gallery images, 2,798 of them distractors
(pid 0). Features: identity centre + camera bias + noise (D = 256, L2-normalised), tuned to a trained
model's level (rank-1 ~97%, mAP ~77%); float32 Euclidean distances.

Baselines, timed in the same run on the same matrix:
- ``classic (stable)``: argsort the whole matrix (``kind="stable"``, the tie order evaluate_rank uses),
  then a Python loop over queries with numpy CMC/AP per query. CMC and mAP must match to 1e-6.
- ``classic (quicksort)``: the same with numpy's default argsort, as torchreid's ``eval_market1501``
  (its tie order is arbitrary, so results may differ in the last digits).
- ``torchreid verbatim``: torchreid's loop as written (AP through a Python list comprehension over
  the whole gallery), full run only.

    python benchmarks/bench_eval.py [--quick]   # --quick: a quarter of the sizes, no verbatim baseline
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import repeat, write_result  # noqa: E402
from reid.losses import pairwise_distance_numpy  # noqa: E402
from reid.metrics import evaluate_rank, re_ranking  # noqa: E402

MARKET = {"ids": 751, "queries": 3368, "gallery": 19732, "distractors": 2798, "cams": 6}
DIM, NOISE, CAM_SHIFT = 256, 1.4, 0.6  # noise tuned so rank-1 ~97%, mAP ~77%


def make_problem(scale: float, seed: int = 0, noise_level: float = NOISE) -> dict[str, np.ndarray]:
    """Features and labels of a Market-1501-shaped query/gallery split, ``scale`` times the size."""
    rng = np.random.default_rng(seed)
    ids = max(2, round(MARKET["ids"] * scale))
    nq, ng = round(MARKET["queries"] * scale), round(MARKET["gallery"] * scale)
    n_distr, cams = round(MARKET["distractors"] * scale), MARKET["cams"]
    centres = rng.normal(size=(ids, DIM)).astype(np.float32) * DIM**-0.5
    cam_bias = rng.normal(size=(cams, DIM)).astype(np.float32) * DIM**-0.5
    per_id = np.full(ids, nq // ids)
    per_id[rng.choice(ids, nq - per_id.sum(), replace=False)] += 1
    q_pids = np.repeat(np.arange(1, ids + 1), per_id)
    q_cams = np.concatenate([rng.choice(cams, k, replace=False) for k in per_id])
    g_pids = np.concatenate([np.zeros(n_distr, np.int64), rng.integers(1, ids + 1, ng - n_distr)])
    g_cams = rng.integers(0, cams, ng)

    def features(pids: np.ndarray, cam: np.ndarray) -> np.ndarray:
        noise = rng.normal(size=(len(pids), DIM)).astype(np.float32) * DIM**-0.5
        own = rng.normal(size=(len(pids), DIM)).astype(np.float32) * DIM**-0.5  # distractors
        f = np.where((pids > 0)[:, None], centres[np.maximum(pids, 1) - 1], own)
        f = f + CAM_SHIFT * cam_bias[cam] + noise_level * noise
        return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)

    return {"qf": features(q_pids, q_cams), "gf": features(g_pids, g_cams), "q_pids": q_pids,
            "g_pids": g_pids, "q_cams": q_cams, "g_cams": g_cams}


def classic_loop(distmat: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray,
                 g_camids: np.ndarray, max_rank: int = 50, kind: str = "stable") -> tuple[np.ndarray, float]:
    """Sort every row, then per query: drop same pid + camera, CMC and AP with numpy."""
    indices = np.argsort(distmat, axis=1, kind=kind)
    matches = g_pids[indices] == q_pids[:, None]
    all_cmc, all_ap = [], []
    for q in range(len(q_pids)):
        order = indices[q]
        keep = ~((g_pids[order] == q_pids[q]) & (g_camids[order] == q_camids[q]))
        raw = matches[q][keep]
        if not raw.any():
            continue
        hits = raw.cumsum()
        all_cmc.append(np.minimum(hits[:max_rank], 1))
        all_ap.append((hits / np.arange(1, len(hits) + 1))[raw].sum() / raw.sum())
    return np.mean(all_cmc, axis=0), float(np.mean(all_ap))


def torchreid_verbatim(distmat: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray,
                       g_camids: np.ndarray, max_rank: int = 50) -> tuple[np.ndarray, float]:
    """torchreid's ``eval_market1501`` loop as published (list comprehension for the precision)."""
    indices = np.argsort(distmat, axis=1)
    matches = (g_pids[indices] == q_pids[:, np.newaxis]).astype(np.int32)
    all_cmc, all_ap, num_valid = [], [], 0.0
    for q in range(len(q_pids)):
        order = indices[q]
        keep = np.invert((g_pids[order] == q_pids[q]) & (g_camids[order] == q_camids[q]))
        raw_cmc = matches[q][keep]
        if not np.any(raw_cmc):
            continue
        cmc = raw_cmc.cumsum()
        cmc[cmc > 1] = 1
        all_cmc.append(cmc[:max_rank])
        num_valid += 1.0
        tmp = raw_cmc.cumsum()
        tmp = np.asarray([x / (i + 1.0) for i, x in enumerate(tmp)]) * raw_cmc
        all_ap.append(tmp.sum() / raw_cmc.sum())
    return np.asarray(all_cmc).astype(np.float32).sum(0) / num_valid, float(np.mean(all_ap))


def cpu_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Minimum process CPU time of ``repeats`` runs (steadier than wall time on a shared machine)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def worst_case(scale: float) -> tuple[dict[str, Any], dict[str, float], tuple[float, float]]:
    """evaluate_rank for an untrained model (matches spread over the whole ranking) vs classic quicksort."""
    w = make_problem(scale, seed=1, noise_level=100.0)
    ids = (w["q_pids"], w["g_pids"], w["q_cams"], w["g_cams"])
    dist = pairwise_distance_numpy(w["qf"], w["gf"])
    ours = repeat(lambda: evaluate_rank(dist, *ids), repeats=3)
    ours["cpu_s"] = cpu_seconds(lambda: evaluate_rank(dist, *ids), 3)
    t0, c0 = time.perf_counter(), time.process_time()
    cmc_b, map_b = classic_loop(dist, *ids, kind="quicksort")
    base = {"min_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    cmc, mAP = evaluate_rank(dist, *ids)
    return ours, base, (float(np.abs(cmc - cmc_b).max()), abs(mAP - map_b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of Market-1501's size")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    p = make_problem(scale)
    ids = (p["q_pids"], p["g_pids"], p["q_cams"], p["g_cams"])
    distmat = pairwise_distance_numpy(p["qf"], p["gf"])
    nq, ng = distmat.shape
    print(f"problem: {nq} queries x {ng} gallery, float32, scale {scale}")

    cmc, mAP = evaluate_rank(distmat, *ids)
    runs: dict[str, dict[str, Any]] = {}
    runs["evaluate_rank"] = repeat(lambda: evaluate_rank(distmat, *ids), repeats=5)
    runs["evaluate_rank"]["cpu_s"] = cpu_seconds(lambda: evaluate_rank(distmat, *ids), 3)

    cmc_s, map_s = classic_loop(distmat, *ids, kind="stable")
    np.testing.assert_allclose(cmc, cmc_s, rtol=0, atol=1e-6)
    assert abs(mAP - map_s) < 1e-6, (mAP, map_s)
    baselines: dict[str, Callable[[], Any]] = {
        "classic (stable)": lambda: classic_loop(distmat, *ids, kind="stable"),
        "classic (quicksort)": lambda: classic_loop(distmat, *ids, kind="quicksort"),
    }
    if not args.quick:
        baselines["torchreid verbatim"] = lambda: torchreid_verbatim(distmat, *ids)
    diffs = {"classic (stable)": (float(np.abs(cmc - cmc_s).max()), abs(mAP - map_s))}
    for name, fn in baselines.items():
        t0, c0 = time.perf_counter(), time.process_time()
        cmc_b, map_b = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        runs[name] = {"min_s": wall, "median_s": wall, "repeats": 1, "cpu_s": cpu}
        diffs[name] = (float(np.abs(cmc - cmc_b).max()), abs(mAP - map_b))

    worst, worst_base, worst_diff = worst_case(scale)

    q_q = pairwise_distance_numpy(p["qf"])
    g_g = pairwise_distance_numpy(p["gf"])
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    reranked = re_ranking(distmat, q_q, g_g)
    rr_wall, rr_cpu = time.perf_counter() - t0, time.process_time() - c0
    rr_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    inputs_mb = (distmat.nbytes + q_q.nbytes + g_g.nbytes) / 2**20
    cmc_rr, map_rr = evaluate_rank(reranked, *ids)

    ours = runs["evaluate_rank"]
    print(f"\n{'method':<22}{'wall min s':>11}{'cpu s':>8}{'x wall':>8}{'x cpu':>7}  max|dCMC|, |dmAP| vs ours")
    for name, r in runs.items():
        d = diffs.get(name)
        ratio_w, ratio_c = r["min_s"] / ours["min_s"], r["cpu_s"] / ours["cpu_s"]
        tail = f"  {d[0]:.1e}, {d[1]:.1e}" if d else ""
        print(f"{name:<22}{r['min_s']:>11.3f}{r['cpu_s']:>8.3f}{ratio_w:>8.1f}{ratio_c:>7.1f}{tail}")
    print(f"{'untrained (worst case)':<22}{worst['min_s']:>11.3f}{worst['cpu_s']:>8.3f}"
          f"  vs classic (quicksort) {worst_base['min_s']:.3f} s wall, {worst_base['cpu_s']:.3f} s cpu: "
          f"x{worst_base['min_s'] / worst['min_s']:.1f} wall, x{worst_base['cpu_s'] / worst['cpu_s']:.1f} cpu; "
          f"max|dCMC| {worst_diff[0]:.1e}, |dmAP| {worst_diff[1]:.1e}")
    print(f"\nrank-1 {cmc[0]:.4f}  mAP {mAP:.4f}  (re-ranked: rank-1 {cmc_rr[0]:.4f}  mAP {map_rr:.4f})")
    print(f"re_ranking N={nq + ng}: {rr_wall:.1f} s wall, {rr_cpu:.1f} s cpu, peak {rr_peak_mb:.0f} MB allocated "
          f"on top of {inputs_mb:.0f} MB of input matrices")

    figures = {
        "queries": nq, "gallery": ng, "scale": scale, "dtype": "float32",
        "rank1": float(cmc[0]), "mAP": mAP, "rank1_reranked": float(cmc_rr[0]), "mAP_reranked": map_rr,
        "evaluate_rank": runs,
        "speedup_wall": {k: runs[k]["min_s"] / ours["min_s"] for k in runs if k != "evaluate_rank"},
        "speedup_cpu": {k: runs[k]["cpu_s"] / ours["cpu_s"] for k in runs if k != "evaluate_rank"},
        "max_abs_diff_cmc_map": diffs,
        "untrained_worst_case": {"evaluate_rank": worst, "classic_quicksort": worst_base,
                                 "max_abs_diff_cmc_map": worst_diff},
        "re_ranking": {"n": nq + ng, "wall_s": rr_wall, "cpu_s": rr_cpu, "peak_alloc_mb": rr_peak_mb,
                       "inputs_mb": inputs_mb, "k1": 20, "k2": 6, "lambda": 0.3},
        "note": "shared 2-core machine: cpu_s (process CPU time) is steadier than wall time",
    }
    print(f"wrote {write_result('eval', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
