"""Evaluation at Market-1501 size: evaluate_rank against the classic per-query loop, and re_ranking.

Synthetic problem with Market-1501's layout: 751 identities and 6 cameras; 3,368 queries (one image
per identity and camera, ~4.5 cameras per identity); 19,732 gallery images, 2,798 of them distractors
(pid 0). Features: identity centre + camera bias + noise (D = 256, L2-normalised), tuned to a trained
model's level (rank-1 ~97%, mAP ~77%); float32 Euclidean distances.

Three kinds of matrix, each against a lean per-query loop around one ``np.argsort`` in the same run:
- ``well separated``: the features above (a trained model; positives near the top of each row);
- ``poorly separated``: noise raised so rank-1 is ~15% and mAP ~6% (early in training; positives deep in
  each row, where sorting-free counting matters);
- ``untrained``: noise only (positives anywhere in the row).

Baselines, timed in the same run on the same matrix:
- ``classic (stable)``: argsort the whole matrix (``kind="stable"``, the tie order evaluate_rank uses),
  then a Python loop over queries with numpy CMC/AP per query. CMC and mAP must match to 1e-6.
- ``classic (quicksort)``: the same with numpy's default argsort, as torchreid's ``eval_market1501``
  (its tie order is arbitrary, so results may differ in the last digits). The speed-up target
  (>= 10x) is against this loop, on every kind.
- ``torchreid verbatim``: torchreid's loop as written (AP through a Python list comprehension over
  the whole gallery), full run, well-separated matrix only.

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
KINDS = {"well separated": NOISE, "poorly separated": 2.5, "untrained": 100.0}  # noise level of each kind


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


def timed_once(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """``fn()`` once: its result and ``{"min_s", "median_s", "repeats", "cpu_s"}``."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return out, {"min_s": wall, "median_s": wall, "repeats": 1, "cpu_s": cpu}


def max_diffs(a: tuple[np.ndarray, float], b: tuple[np.ndarray, float]) -> tuple[float, float]:
    """(max |dCMC|, |dmAP|) between two ``(cmc, mAP)`` results."""
    return float(np.abs(a[0] - b[0]).max()), abs(a[1] - b[1])


def compare_kind(p: dict[str, np.ndarray], verbatim: bool) -> dict[str, Any]:
    """evaluate_rank against the loops on one problem; asserts equality with the stable loop to 1e-6."""
    ids = (p["q_pids"], p["g_pids"], p["q_cams"], p["g_cams"])
    distmat = pairwise_distance_numpy(p["qf"], p["gf"])
    ours = evaluate_rank(distmat, *ids)
    runs: dict[str, dict[str, Any]] = {"evaluate_rank": repeat(lambda: evaluate_rank(distmat, *ids), repeats=3)}
    runs["evaluate_rank"]["cpu_s"] = cpu_seconds(lambda: evaluate_rank(distmat, *ids), 3)
    baselines: dict[str, Callable[[], Any]] = {
        "classic (quicksort)": lambda: classic_loop(distmat, *ids, kind="quicksort"),
        "classic (stable)": lambda: classic_loop(distmat, *ids, kind="stable"),
    }
    if verbatim:
        baselines["torchreid verbatim"] = lambda: torchreid_verbatim(distmat, *ids)
    diffs = {}
    for name, fn in baselines.items():
        result, runs[name] = timed_once(fn)
        diffs[name] = max_diffs(ours, result)
    assert max(diffs["classic (stable)"]) < 1e-6, diffs["classic (stable)"]
    base = runs["evaluate_rank"]
    return {
        "shape": list(distmat.shape), "rank1": float(ours[0][0]), "mAP": ours[1], "runs": runs,
        "speedup_wall": {k: r["min_s"] / base["min_s"] for k, r in runs.items() if k != "evaluate_rank"},
        "speedup_cpu": {k: r["cpu_s"] / base["cpu_s"] for k, r in runs.items() if k != "evaluate_rank"},
        "max_abs_diff_cmc_map": diffs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of Market-1501's size")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    kinds: dict[str, dict[str, Any]] = {}
    for i, (kind, noise) in enumerate(KINDS.items()):
        problem = make_problem(scale, seed=i, noise_level=noise)
        kinds[kind] = compare_kind(problem, verbatim=not args.quick and kind == "well separated")
        nq, ng = kinds[kind]["shape"]
        print(f"{kind}: {nq} queries x {ng} gallery, float32, rank-1 {kinds[kind]['rank1']:.4f}, "
              f"mAP {kinds[kind]['mAP']:.4f}")

    print(f"\n{'kind':<18}{'method':<22}{'wall min s':>11}{'cpu s':>8}{'x wall':>8}{'x cpu':>7}"
          "  max|dCMC|, |dmAP| vs ours")
    for kind, k in kinds.items():
        ours = k["runs"]["evaluate_rank"]
        for name, r in k["runs"].items():
            d = k["max_abs_diff_cmc_map"].get(name)
            tail = f"  {d[0]:.1e}, {d[1]:.1e}" if d else ""
            print(f"{kind:<18}{name:<22}{r['min_s']:>11.3f}{r['cpu_s']:>8.3f}{r['min_s'] / ours['min_s']:>8.1f}"
                  f"{r['cpu_s'] / ours['cpu_s']:>7.1f}{tail}")

    p = make_problem(scale)
    ids = (p["q_pids"], p["g_pids"], p["q_cams"], p["g_cams"])
    distmat = pairwise_distance_numpy(p["qf"], p["gf"])
    nq, ng = distmat.shape
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
    print(f"\nre-ranked (well separated): rank-1 {cmc_rr[0]:.4f}  mAP {map_rr:.4f}")
    print(f"re_ranking N={nq + ng}: {rr_wall:.1f} s wall, {rr_cpu:.1f} s cpu, peak {rr_peak_mb:.0f} MB allocated "
          f"on top of {inputs_mb:.0f} MB of input matrices")

    well = kinds["well separated"]
    figures = {
        "queries": nq, "gallery": ng, "scale": scale, "dtype": "float32",
        "rank1": well["rank1"], "mAP": well["mAP"], "rank1_reranked": float(cmc_rr[0]), "mAP_reranked": map_rr,
        "noise": KINDS, "kinds": kinds,
        "speedup_cpu_vs_quicksort_loop": {k: v["speedup_cpu"]["classic (quicksort)"] for k, v in kinds.items()},
        "speedup_wall_vs_quicksort_loop": {k: v["speedup_wall"]["classic (quicksort)"] for k, v in kinds.items()},
        "re_ranking": {"n": nq + ng, "wall_s": rr_wall, "cpu_s": rr_cpu, "peak_alloc_mb": rr_peak_mb,
                       "inputs_mb": inputs_mb, "k1": 20, "k2": 6, "lambda": 0.3},
        "note": "shared 2-core machine: cpu_s (process CPU time) is steadier than wall time",
    }
    print(f"wrote {write_result('eval', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
