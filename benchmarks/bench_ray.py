"""Scaling of ``reid process`` on Ray: the local path against 1 and 2 Ray workers on this machine.

The same generated videos (``reid.data.scenes.scene``: 4 cameras, 320x240 at 10 fps, 6 people) go through
``run_pipeline`` (the local path, one process) and ``run_on_ray`` (one task per video file) on a local Ray
instance started by this script with 1 or 2 CPUs; OpenCV's HOG people detector (the default without YOLO
weights) and the hand-crafted descriptor, so detection is real CPU work and nothing is downloaded.

Runs:
- ``local``: ``run_pipeline(workers=1)``: one process, the cameras one after another, torch/OpenCV with every core.
- ``ray_1``: Ray with 1 CPU: one task at a time, 1 thread each.
- ``ray_2``: Ray with 2 CPUs: two tasks at a time, 1 thread each.
- ``ray_1x2``: Ray with 2 CPUs and 2 CPUs per task: one task at a time with 2 threads, the same threads as
  ``local``, so ``ray_1x2 / local`` is Ray's own cost (submitting, shipping tracklets back, one more process).

Each run writes a new database. Timed: the whole ``run_pipeline`` / ``run_on_ray`` call (probing, models,
tasks, commits, linking) with Ray already started and its workers warm (one untimed run first; the cold run's
time and Ray's start-up are reported apart). Figures: min and median wall seconds, frames/s (median), speed-up
of ``ray_2`` over ``ray_1``, and the overhead of ``ray_1x2`` over ``local``.

    python benchmarks/bench_ray.py [--quick]   # --quick: 15 s/camera at stride 3, 2 runs (default 30 s, 3 runs)
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, repeat, write_result  # noqa: E402
from reid.config import DetectorConfig, PipelineConfig  # noqa: E402
from reid.data.scenes.scene import render_scene  # noqa: E402
from reid.video.manifest import Manifest, load_manifest  # noqa: E402
from reid.video.pipeline import run_pipeline  # noqa: E402
from reid.video.ray_cluster import import_ray  # noqa: E402
from reid.video.ray_runner import run_on_ray  # noqa: E402
from reid.video.summary import ProcessSummary  # noqa: E402

CAMERAS = 4
DB_NUMBER = itertools.count()  # every run writes a database of its own
RAY_RUNS = {"ray_1": (1, 1), "ray_2": (2, 1), "ray_1x2": (2, 2)}  # name: (instance CPUs, CPUs per task)


def timed_runs(run: Callable[[Path], ProcessSummary], folder: Path, repeats: int) -> dict[str, Any]:
    """One cold (untimed by ``repeat``) run, then ``repeats`` timed ones, each into a new database."""
    frames: list[int] = []

    def once() -> None:
        summary = run(folder / f"run{next(DB_NUMBER)}.db")
        assert not summary.failed and not any(v.skipped for v in summary.videos), summary.report()
        frames.append(sum(v.frames for v in summary.videos))

    t0 = time.perf_counter()
    once()
    cold = time.perf_counter() - t0
    out: dict[str, Any] = {"cold_s": cold, **repeat(once, repeats=repeats, warmup=0)}
    out["frames"] = frames[-1]
    out["fps"] = frames[-1] / out["median_s"]
    return out


def bench_ray(manifest: Manifest, cfg: PipelineConfig, folder: Path, cpus: int, task_cpus: int,
              repeats: int) -> dict[str, Any]:
    """``run_on_ray`` on a new local Ray instance of ``cpus`` CPUs; its start-up time apart."""
    ray = import_ray()
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
    init_s = time.perf_counter() - t0
    try:
        out = timed_runs(lambda db: run_on_ray(manifest, db, cfg, task_cpus=task_cpus, progress=False),
                         folder, repeats)
    finally:
        ray.shutdown()
    return {"ray_init_s": init_s, "cpus": cpus, "task_cpus": task_cpus, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s per camera at stride 3, 2 timed runs")
    parser.add_argument("--seconds", type=float, default=0, help="seconds of video per camera (default 30)")
    args = parser.parse_args()
    seconds = args.seconds or (15 if args.quick else 30)
    repeats = 2 if args.quick else 3
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cfg = PipelineConfig(detector=DetectorConfig(kind="hog"), stride=3 if args.quick else 1)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scene = render_scene(folder / "scene", people=6, cameras=CAMERAS, seconds=seconds, seed=0)
        manifest = load_manifest(scene.manifest)
        runs: dict[str, dict[str, Any]] = {
            "local": timed_runs(lambda db: run_pipeline(manifest, db, cfg, workers=1, progress=False),
                                folder, repeats)
        }
        for name, (cpus, task_cpus) in RAY_RUNS.items():
            runs[name] = bench_ray(manifest, cfg, folder, cpus, task_cpus, repeats)

    frames = runs["local"]["frames"]
    print(f"{CAMERAS} videos x {seconds:g} s (320x240, 10 fps) = {frames} frames; HOG + hand-crafted; "
          f"{machine()['cores']} cores ({machine()['cpu']})")
    print(f"{'run':<10}{'cpus':>6}{'/task':>7}{'min s':>9}{'median s':>10}{'frames/s':>10}{'cold s':>9}"
          f"{'ray init s':>12}")
    for name, r in runs.items():
        print(f"{name:<10}{r.get('cpus', '-'):>6}{r.get('task_cpus', '-'):>7}{r['min_s']:>9.2f}"
              f"{r['median_s']:>10.2f}{r['fps']:>10.1f}{r['cold_s']:>9.2f}"
              f"{r['ray_init_s'] if 'ray_init_s' in r else float('nan'):>12.2f}")
    speedup = runs["ray_1"]["median_s"] / runs["ray_2"]["median_s"]
    overhead = runs["ray_1x2"]["median_s"] / runs["local"]["median_s"] - 1
    print(f"speed-up ray_2 / ray_1: x{speedup:.2f}; overhead ray_1x2 vs local (same threads): {overhead:+.1%}")
    figures = {
        "videos": CAMERAS, "seconds_per_video": seconds, "stride": cfg.stride, "frames": frames, "frame_size": "320x240",
        "detector": "hog", "embedder": "handcrafted", "runs": runs,
        "speedup_ray2_over_ray1": speedup, "overhead_ray1x2_vs_local": overhead,
        "note": "wall seconds of the whole call with Ray started and workers warm; cold_s is the first run "
                "(worker processes start, import torch and build the models); CPU only",
    }
    print(f"wrote {write_result('ray', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
