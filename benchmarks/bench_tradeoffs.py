"""Frame stride and detector input size as measured trade-offs (issue 23, part 2): identity quality against speed.

For each input size (``detector.imgsz``) and frame stride (``stride``: every n-th frame), the splits of
``examples/splits.yaml`` named by ``--only`` (default: the sample, tuning, and two held-out splits) are run
with the defaults of ``reid process`` otherwise and scored as ``bench_splits.py`` scores them: cross-camera
pair precision / recall and cross-camera IDF1 against the reference (IDF1 counts every reference frame, so a
stride's skipped frames count as missed boxes: what a user exporting tracks gets). Detections are cached per
size (``bench_linking.cached_detections``); a stride reads every n-th frame's boxes of the same cache.

Speed, in the same run: the detector's milliseconds per frame at each size on 24 frames of the sample (the
default runtime), and video frames per second of detection = stride / seconds per frame.

    python benchmarks/bench_tradeoffs.py [--sizes 640 480 320] [--strides 1 2 3] [--only SPLIT ...]

Results: ``benchmarks/results/tradeoffs-cpu-DATE.json``, the Markdown table printed for docs/performance.md,
and the picture docs/tradeoffs.png.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_splits import pooled, run_split  # noqa: E402
from benchmarks.common import write_result  # noqa: E402
from benchmarks.detect_runtime import first_frames  # noqa: E402
from reid.config import PipelineConfig, override  # noqa: E402
from reid.video.detect import make_detector  # noqa: E402
from tools.make_splits import load_splits  # noqa: E402

DEFAULT_SPLITS = ("sample", "gap96-dull-h1", "overlap64-jpeg-h1")


def detect_speed(sizes: list[int]) -> dict[int, float]:
    """Median seconds per frame of the default detector at each input size, alternated over 3 rounds."""
    frames = first_frames(ROOT / "examples" / "left.mp4", 24)
    detectors = {s: make_detector(override(PipelineConfig(), {"detector.imgsz": s}).detector) for s in sizes}
    for det in detectors.values():
        det.detect(frames[:2])  # export and compile outside the timing
    times: dict[int, list[float]] = {s: [] for s in sizes}
    for _ in range(3):
        for s, det in detectors.items():
            t0 = time.perf_counter()
            det.detect(frames)
            times[s].append((time.perf_counter() - t0) / len(frames))
    return {s: statistics.median(t) for s, t in times.items()}


def _cell(pool: dict[str, Any]) -> str:
    """``P 0.98 (49/50), R 0.80 (49/61), IDF1 0.83``: pair counts shown, as 0/0 reads 1.00."""
    c, linked, true = pool["correct_pairs"], pool["linked_pairs"], pool["true_pairs"]
    return (f"P {pool['pair_precision']:.2f} ({c}/{linked}), R {pool['pair_recall']:.2f} ({c}/{true}), "
            f"IDF1 {pool['cross_idf1']:.2f}")


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| input size | stride | detect ms/frame | video frames/s | tuning (sample) | held-out |"
            "\n|---|---|---|---|---|---|")
    body = [f"| {r['imgsz']} | {r['stride']} | {r['ms_per_frame']:.0f} | {r['video_fps']:.1f} | "
            f"{_cell(r['tuning'])} | {_cell(r['held-out'])} |" for r in rows]  # fmt: skip
    return "\n".join([head, *body])


def picture(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True)
    for ax, key, title in zip(axes, ("pair_precision", "pair_recall", "cross_idf1"),
                              ("pair precision", "pair recall", "cross-camera IDF1"), strict=True):  # fmt: skip
        for r in rows:
            for role, marker in (("tuning", "o"), ("held-out", "s")):
                ax.scatter(r["video_fps"], r[role][key], marker=marker, color=f"C{r['stride'] - 1}",
                           alpha=0.5 + 0.5 * (role == "held-out"))  # fmt: skip
                ax.annotate(f"{r['imgsz']}/{r['stride']}", (r["video_fps"], r[role][key]), fontsize=7)
        ax.set_title(title)
        ax.set_xlabel("video frames/s of detection (this CPU)")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("held-out (squares), tuning (circles); label size/stride")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=Path, default=ROOT / "data" / "splits", help="make_splits.py --out")
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "splits.yaml")
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "bench-splits")
    parser.add_argument("--only", nargs="*", default=list(DEFAULT_SPLITS))
    parser.add_argument("--sizes", type=int, nargs="*", default=[640, 480, 320])
    parser.add_argument("--strides", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--table", type=Path, help="print the table and draw the picture of a results file")
    args = parser.parse_args()
    if args.table:
        rows = json.loads(args.table.read_text())["figures"]["rows"]
        print(markdown(rows))
        picture(rows, ROOT / "docs" / "tradeoffs.png")
        return
    logging.basicConfig(level=logging.WARNING)
    speed = detect_speed(args.sizes)
    splits = [s for s in load_splits(args.spec) if s.name in args.only]
    rows = []
    for size in args.sizes:
        for stride in args.strides:
            cfg = override(PipelineConfig(), {"detector.imgsz": size, "stride": stride})
            per_split = [run_split(s, args.splits / s.name, cfg, args.cache) for s in splits]
            row = {"imgsz": size, "stride": stride, "ms_per_frame": speed[size] * 1e3,
                   "video_fps": stride / speed[size], "splits": per_split,
                   "tuning": pooled(per_split, "tuning"), "held-out": pooled(per_split, "held-out")}
            rows.append(row)
            print(markdown([row]).splitlines()[-1], flush=True)
    print(markdown(rows))
    picture(rows, ROOT / "docs" / "tradeoffs.png")
    print(write_result("tradeoffs", {"rows": rows, "splits": args.only}))


if __name__ == "__main__":
    main()
