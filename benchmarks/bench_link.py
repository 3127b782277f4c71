"""Cross-camera linking: time and peak memory from 100 to 10,000 tracklets over 2-8 cameras.

Synthetic features: P people each walk through a random sequence of 2..C cameras (10-30 s transit, 5-20 s
per sighting), arriving at a constant rate (one every 2 s, so 10,000 tracklets span ~2 hours with 8
cameras); embedding = person vector + noise (D = 512, same-person distance ~0.35, different people
~1.4). Two settings: "open" (no transit windows: every pair of tracklets not overlapping in one camera is
a candidate, the worst case, quadratic) and "windows" (0-60 s windows for every camera pair, a camera with
itself included: candidates are time-gated, near-linear). Accuracy: pairwise precision / recall of "same
identity".

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.bench_link [--quick]

On a machine whose cores are busy with other work, multi-threaded OpenBLAS spin-waits in every small
matrix product: the time-gated blocks then take 5-30x longer (measured on a shared 2-core box). Single-
threaded BLAS gives the algorithm's cost; the BLAS thread setting is saved with the results.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import write_result  # noqa: E402
from reid.config import LinkConfig  # noqa: E402
from reid.link import link_tracklets  # noqa: E402
from reid.link.calibrate import resolve_threshold  # noqa: E402
from reid.store.rows import TrackletFeature  # noqa: E402

DIM = 512
STYLES, STYLE_WEIGHT, HARD_NOISE = 50, 2.2, (0.2, 0.5)  # hard setting: look-alikes ~0.6 apart, sightings 0.3-0.7


def make_features(n: int, cams: int, seed: int = 0, hard: bool = False) -> tuple[list[TrackletFeature], np.ndarray]:
    """``n`` tracklets over ``cams`` cameras; returns features and the true person of each. ``hard``: people
    come in 50 look-alike styles and sightings are noisier, so same and different distances overlap."""
    rng = np.random.default_rng(seed)
    styles = rng.normal(size=(STYLES, DIM)) / np.sqrt(DIM)  # hard: people of one style look alike
    names = [f"cam{c}" for c in range(cams)]
    feats, truth, person = [], [], 0
    span = 2.0 * n / ((cams + 2) / 2)  # expected persons x 2 s
    while len(feats) < n:
        base = rng.normal(size=DIM) / np.sqrt(DIM)
        if hard:
            base = base + STYLE_WEIGHT * styles[rng.integers(STYLES)]
        base /= np.linalg.norm(base)
        t = rng.uniform(0, span)
        for cam in rng.permutation(cams)[: rng.integers(2, cams + 1)]:
            if len(feats) == n:
                break
            dur = rng.uniform(5, 20)
            noise = rng.uniform(*HARD_NOISE) if hard else 0.25
            emb = base + noise * rng.normal(size=DIM) / np.sqrt(DIM)
            emb = (emb / np.linalg.norm(emb)).astype(np.float32)
            k = len(feats)
            feats.append(TrackletFeature(k, names[cam], 0, k, t, t + dur, emb))
            truth.append(person)
            t += dur + rng.uniform(10, 30)
        person += 1
    return feats, np.array(truth)


def pair_scores(groups, truth: np.ndarray) -> tuple[float, float]:
    """Pairwise precision and recall of 'same identity' against the true persons."""
    label = np.empty(len(truth), np.int64)
    for g, group in enumerate(groups):
        for p in group:
            label[p.tracklet_id] = g

    def same_pairs(x: np.ndarray) -> int:
        _, c = np.unique(x, return_counts=True)
        return int((c * (c - 1) // 2).sum())

    both = same_pairs(label * (truth.max() + 1) + truth)
    return both / max(1, same_pairs(label)), both / max(1, same_pairs(truth))


def measure(n: int, cams: int, windows: bool, hard: bool = False) -> dict:
    feats, truth = make_features(n, cams, hard=hard)
    transit = {f"cam{a}->cam{b}": (0.0, 60.0) for a in range(cams) for b in range(a, cams)} if windows else {}
    cfg = LinkConfig(threshold=0.6, transit=transit)
    t0 = time.perf_counter()  # the threshold is given, but its known-different pairs are found here, once
    groups = link_tracklets(feats, None, cfg, resolve_threshold(feats, None, cfg))
    seconds = time.perf_counter() - t0
    tracemalloc.start()  # a second run: tracing slows Python allocations several-fold
    link_tracklets(feats, None, cfg, resolve_threshold(feats, None, cfg))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    precision, recall = pair_scores(groups, truth)
    row = {"tracklets": n, "cameras": cams, "transit_windows": windows, "hard": hard, "seconds": round(seconds, 3),
           "peak_traced_mb": round(peak / 2**20, 1), "identities": len(groups), "persons": int(truth.max() + 1),
           "pair_precision": round(precision, 4), "pair_recall": round(recall, 4)}
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only up to 1,000 tracklets")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 3000, 10000]
    rows = []
    for hard in (False, True):
        for n in sizes:
            for cams in (2, 4, 8):
                for windows in (True, False):
                    rows.append(measure(n, cams, windows, hard))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    threads = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    path = write_result("link", {"dim": DIM, "threshold": 0.6, "runs": rows, "max_rss_mb": round(rss, 1),
                                 "blas_threads": threads,
                                 "note": "peak_traced_mb is tracemalloc (numpy/Python); torch blocks are not "
                                         "traced, max_rss_mb is the whole process"}, quick=args.quick)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
