"""Streaming memory: peak RSS while ``run_file`` goes through a long video (full: 30 minutes; quick: 1 minute).

The video is generated here: 320x240 at 5 fps (9,000 frames for 30 minutes), MJPG in an .avi, a static
textured background with people drawn as moving figures (head, torso, legs in their own colours) who
walk across the frame, one arriving every ~5 s and taking 6-16 s to cross (2-4 in view at once). Their
boxes are written as a MOTChallenge file and served by ``MotDetections``, so the detector costs nothing
and tracking sees every person. The pipeline's ``run_file`` (decoder thread with a bounded queue,
detection batches of 8, ByteTrack, ``TrackletBuilder`` keeping the best 8 crops per track, hand-crafted
embedding at the end) runs over the whole file; peak RSS (``getrusage`` ru_maxrss) and current RSS are
sampled when 10%, 25%, 50%, 75% and 100% of the frames have been read, and after ``run_file`` returns.

Baseline: RSS at 10% of the video (everything is loaded and running by then). Target: flat, i.e. the
growth from 10% to the end independent of the video's length. What does grow, by design: the tracks of
the file in progress (per-detection boxes and <= 8 crops each) are held until the file is committed in
one transaction; the growth per tracklet is reported.

    python benchmarks/bench_stream_memory.py [--quick] [--minutes M]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_pipeline import cnn_embedder  # noqa: E402
from benchmarks.common import write_result  # noqa: E402
from reid.config import PipelineConfig  # noqa: E402
from reid.data.motio import write_mot  # noqa: E402
from reid.video.detect import MotDetections  # noqa: E402
from reid.video.embed import HandcraftedEmbedder, embed_tracklets  # noqa: E402
from reid.video.source import VideoSource  # noqa: E402
from reid.video.stages import run_file  # noqa: E402
from reid.video.types import Detections  # noqa: E402

WIDTH, HEIGHT, FPS = 320, 240, 5.0
ARRIVAL_S, CROSS_S, PERSON_H = 5.0, (6.0, 16.0), (70, 120)  # mean gap between people; crossing time; height px
MARKS = (0.10, 0.25, 0.50, 0.75, 1.00)


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS since the last ``reset_peak``) of this process in MB (/proc; else getrusage)."""
    values = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    values[line[:5]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = values.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # kB on Linux
    return values.get("VmRSS", float("nan")), peak


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def embed_peak(tracklets: list[Any], embedder: Any) -> tuple[float, float]:
    """(seconds, peak RSS above the RSS before, MB) of embedding all ``tracklets`` in one call, as run_file does."""
    reset_peak()
    before = rss_mb()[0]
    t0 = time.perf_counter()
    embed_tracklets(tracklets, embedder)
    return time.perf_counter() - t0, rss_mb()[1] - before


def generate(folder: Path, seconds: float, seed: int = 0) -> tuple[Path, Path, int]:
    """Write ``video.avi`` (MJPG) and its boxes ``gt.txt``; returns both paths and the number of people."""
    rng = np.random.default_rng(seed)
    n = round(seconds * FPS)
    people = []  # (start frame, frames to cross, height, direction, colours, y)
    t = rng.exponential(ARRIVAL_S)
    while t < seconds:
        h = int(rng.integers(*PERSON_H))
        people.append((int(t * FPS), int(rng.uniform(*CROSS_S) * FPS), h, rng.choice([-1, 1]),
                       rng.integers(0, 256, (3, 3)).tolist(), int(rng.integers(HEIGHT // 2 - 10, HEIGHT - h - 5))))
        t += rng.exponential(ARRIVAL_S)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    background = np.stack([80 + 40 * np.sin(xx / 9.0), 90 + 30 * np.cos(yy / 7.0), 100 + 0.2 * yy], -1)
    background = np.clip(background + rng.normal(0, 6, background.shape), 0, 255).astype(np.uint8)
    video, gt = folder / "video.avi", folder / "gt.txt"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    rows = []
    for f in range(n):
        image = background.copy()
        for pid, (start, frames, h, direction, colours, y) in enumerate(people):
            if not start <= f < start + frames:
                continue
            w = h * 2 // 5
            progress = (f - start) / frames
            x = int(-w + progress * (WIDTH + w)) if direction > 0 else int(WIDTH - progress * (WIDTH + w))
            head, torso, legs = colours
            cv2.circle(image, (x + w // 2, y + h // 10), h // 10, head, -1)
            cv2.rectangle(image, (x, y + h // 5), (x + w, y + h * 3 // 5), torso, -1)
            cv2.rectangle(image, (x + w // 8, y + h * 3 // 5), (x + w * 7 // 8, y + h), legs, -1)
            box = np.clip([x, y, x + w, y + h], 0, [WIDTH, HEIGHT, WIDTH, HEIGHT])
            if box[2] - box[0] >= 8:
                rows.append((f + 1, pid + 1, box, 1.0))
        writer.write(image)
    writer.release()
    write_mot(gt, rows)
    return video, gt, len(people)


class Sampling:
    """``MotDetections`` that records RSS as the frames it is asked for pass the ``MARKS`` of the video."""

    def __init__(self, inner: MotDetections, frames: int) -> None:
        self.inner, self.name, self.frames = inner, inner.name, frames
        self.samples: dict[str, tuple[float, float]] = {}
        self.started = time.perf_counter()

    def detect(self, images: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        done = (max(indices or [0]) + 1) / self.frames
        for mark in MARKS:
            key = f"{mark:.0%}"
            if done >= mark - 1e-9 and key not in self.samples:
                self.samples[key] = rss_mb()
        return self.inner.detect(images, indices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 minute of video instead of 30")
    parser.add_argument("--minutes", type=float, default=0.0, help="video length (default 30, quick 1)")
    args = parser.parse_args()
    minutes = args.minutes or (1.0 if args.quick else 30.0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        video, gt, people = generate(Path(tmp), minutes * 60)
        gen_s = time.perf_counter() - t0
        size_mb = video.stat().st_size / 2**20
        source = VideoSource("cam", [str(video)])
        info = source.files()[0]
        detector = Sampling(MotDetections(gt), info.frames)
        embedder = HandcraftedEmbedder()
        before = rss_mb()
        resettable = reset_peak()
        t0 = time.perf_counter()
        tracklets, times = run_file(source, info, detector, embedder, PipelineConfig(), progress=False)
        run_s = time.perf_counter() - t0
        after = rss_mb()
        transients = {"handcrafted": embed_peak(tracklets, embedder),
                      "resnet18_128x64": embed_peak(tracklets, cnn_embedder(Path(tmp), "resnet18", (128, 64)))}
    samples = {**detector.samples, "after run_file": after}
    streaming = samples["100%"][1] - samples["10%"][1]
    crops = sum(len(t.crops) for t in tracklets)
    crop_mb = sum(c.image.nbytes for t in tracklets for c in t.crops) / 2**20

    print(f"{minutes:g} min video: {info.frames} frames {WIDTH}x{HEIGHT} @ {FPS:g} fps, {size_mb:.1f} MB MJPG, "
          f"{people} people; generated in {gen_s:.1f} s")
    print(f"run_file: {run_s:.1f} s ({info.frames / run_s:.0f} frames/s); stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in times.stages().items() if k != "store"))
    print(f"{len(tracklets)} tracklets, {crops} crops kept ({crop_mb:.1f} MB of pixels)")
    print(f"\n{'when':<16}{'RSS MB':>9}{'peak MB':>9}   (peak since run_file started{'' if resettable else ': NOT reset'})")
    print(f"{'before':<16}{before[0]:>9.1f}")
    for key, (cur, peak) in samples.items():
        print(f"{key:<16}{cur:>9.1f}{peak:>9.1f}")
    print(f"\nwhile streaming (10% -> 100% of frames): peak {streaming:+.1f} MB, "
          f"{streaming * 1024 / max(1, len(tracklets)):.0f} kB per tracklet held")
    print(f"end of file (finish + embed): peak {after[1] - samples['100%'][1]:+.1f} MB above the 100% mark")
    for name, (sec, peak) in transients.items():
        print(f"  embedding the file's {crops} crops in one call, {name}: {sec:.1f} s, peak +{peak:.0f} MB")

    figures: dict[str, Any] = {
        "minutes": minutes, "frames": info.frames, "size": f"{WIDTH}x{HEIGHT}", "fps": FPS, "people": people,
        "tracklets": len(tracklets), "crops": crops, "crop_pixels_mb": crop_mb,
        "run_s": run_s, "frames_per_s": info.frames / run_s, "generate_s": gen_s,
        "rss_before_mb": before[0],
        "rss_mb": {k: v[0] for k, v in samples.items()}, "peak_rss_mb": {k: v[1] for k, v in samples.items()},
        "peak_growth_10_to_100_mb": streaming,
        "peak_growth_50_to_100_mb": samples["100%"][1] - samples["50%"][1],
        "growth_per_tracklet_kb": streaming * 1024 / max(1, len(tracklets)),
        "end_of_file_peak_over_100_mb": after[1] - samples["100%"][1],
        "embed_all_crops": {name: {"seconds": sec, "peak_over_rss_mb": peak} for name, (sec, peak) in transients.items()},
        "peak_reset": resettable,
        "detector": "MotDetections (generated boxes)", "embedder": embedder.name,
    }
    print(f"wrote {write_result('stream_memory', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
