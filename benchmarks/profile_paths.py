"""Where the time goes: cProfile of the hot paths, top entries by cumulative time.

- ``evaluate_rank`` on a Market-1501-shaped problem (3,368 x 19,732; ``--quick``: a quarter);
- ``link_tracklets`` on 10,000 tracklets over 4 cameras, with 0-60 s transit windows and without any;
- the HOG pipeline (``run_file``: decode, HOG detection, ByteTrack, hand-crafted embedding) on the first
  20 frames of examples/left.mp4, decoding in the calling thread so that cProfile sees it.

    OPENBLAS_NUM_THREADS=1 python benchmarks/profile_paths.py [--quick] [--top 8] [--only NAME]

Prints one ``pstats`` table per path (paste them into docs/performance.md, "Where the time goes").
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bench_link: the algorithm's cost on a busy machine
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_eval import make_problem  # noqa: E402
from benchmarks.bench_link import make_features  # noqa: E402
from benchmarks.bench_pipeline import MANIFEST, FirstFrames  # noqa: E402
from reid.config import LinkConfig, PipelineConfig  # noqa: E402
from reid.link import link_tracklets  # noqa: E402
from reid.link.calibrate import resolve_threshold  # noqa: E402
from reid.losses import pairwise_distance_numpy  # noqa: E402
from reid.metrics import evaluate_rank  # noqa: E402
from reid.video.detect import HogDetector  # noqa: E402
from reid.video.embed import HandcraftedEmbedder  # noqa: E402
from reid.video.manifest import load_manifest  # noqa: E402
from reid.video.stages import run_file  # noqa: E402


def eval_path(scale: float) -> tuple[str, Callable[[], Any]]:
    p = make_problem(scale)
    distmat = pairwise_distance_numpy(p["qf"], p["gf"])
    ids = (p["q_pids"], p["g_pids"], p["q_cams"], p["g_cams"])
    return f"evaluate_rank {distmat.shape[0]} x {distmat.shape[1]}", lambda: evaluate_rank(distmat, *ids)


def link_path(windows: bool, n: int = 10_000, cams: int = 4) -> tuple[str, Callable[[], Any]]:
    feats, _ = make_features(n, cams)
    transit = {f"cam{a}->cam{b}": (0.0, 60.0) for a in range(cams) for b in range(a, cams)} if windows else {}
    cfg = LinkConfig(threshold=0.6, transit=transit)
    label = "0-60 s transit windows" if windows else "no transit windows"
    return f"link_tracklets {n} tracklets, {cams} cameras, {label}", lambda: link_tracklets(feats, None, cfg, resolve_threshold(feats, None, cfg))


def hog_path(frames: int = 20) -> tuple[str, Callable[[], Any]]:
    cam = load_manifest(MANIFEST).cameras[0]
    source = FirstFrames(cam.name, cam.files, frames, prefetch=0)
    info = source.files()[0]
    detector, embedder, cfg = HogDetector(), HandcraftedEmbedder(), PipelineConfig()
    return (f"HOG pipeline (run_file) on {frames} frames of {Path(cam.files[0]).name}",
            lambda: run_file(source, info, detector, embedder, cfg, progress=False))


def profile(label: str, fn: Callable[[], Any], top: int) -> str:
    fn()  # warm-up: imports, caches, first-call costs
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    body = "\n".join(line for line in buf.getvalue().splitlines() if line.strip())
    return f"### {label} ({wall:.2f} s under the profiler)\n\n```\n{body}\n```\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="evaluate_rank at a quarter of Market's size")
    parser.add_argument("--top", type=int, default=8, help="entries per path")
    parser.add_argument("--only", choices=("eval", "link", "hog"), action="append", default=[])
    args = parser.parse_args()
    makers: dict[str, list[Callable[[], tuple[str, Callable[[], Any]]]]] = {
        "eval": [lambda: eval_path(0.25 if args.quick else 1.0)],
        "link": [lambda: link_path(True), lambda: link_path(False)],
        "hog": [hog_path],
    }
    for name, items in makers.items():
        if args.only and name not in args.only:
            continue
        for make in items:
            label, fn = make()
            print(profile(label, fn, args.top), flush=True)


if __name__ == "__main__":
    main()
