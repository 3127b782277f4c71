"""Video pipeline: frames/s per stage (decode, detect, track, embed, link) on the sample clips.

The first N frames of examples/left.mp4 and examples/right.mp4 (384x576, 5 fps) go through the pipeline's own
``run_file`` (decode in a background thread, detection in batches of 8, ByteTrack, best-8 crops per tracklet,
embedding per file), then ``link_tracklets`` over both cameras with the transit windows of examples/cameras.yaml.

Detectors:
- ``hog``: OpenCV's HOG people detector (the fallback when no YOLO weights are present), on its own boxes.
- ``yolov8n``: a random-weight YOLOv8n built from ultralytics' ``yolov8n.yaml`` (same network and cost as the
  trained one) at imgsz 640. Random weights find nobody, so this detector's boxes are replaced by the HOG
  run's boxes of the same frames after it has run: its detect stage is timed on the real network, and
  tracking, embedding and linking do the same work as in the HOG run.
- ``yolov8s-fall``: full run only, when models/yolov8s-fall.pt is present: a trained detector on its own boxes.

Embedders: ``handcrafted`` (the default without --weights), and random-weight checkpoints (same cost as trained
ones) loaded by ``CheckpointEmbedder``: ``resnet50_256x128`` (``reid train``'s default model and size) and
``resnet18_128x64`` (the small CPU size); they re-embed the same tracklets, file by file as ``run_file`` does.

Baseline: the detect stage of the same run. Target: (track + embed + link) / detect <= 0.30. Also: YOLO detection
in batches of 8 against one frame per call, on the same frames, alternated. ``decode`` in the chain is only the
time spent waiting for the background decoder; decoding alone is timed apart.

    python benchmarks/bench_pipeline.py [--quick]   # --quick: 10 frames per clip instead of 120, no yolov8s-fall

Runtimes (``--runtimes``, needs models/yolov8s-fall.pt; ``benchmarks/detect_runtime.py``): the detect stage in
PyTorch FP32 against the OpenVINO exports of the same weights (speed-up and box parity), and ``reid process``
end to end against ultralytics' ``yolo track`` with the ``.pt`` and with the same IR, on the same frames.

    python benchmarks/bench_pipeline.py --runtimes [--frames N]   # N frames per clip (default 120)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import write_result  # noqa: E402
from benchmarks.detect_runtime import detect_stage, end_to_end, first_frames  # noqa: E402
from reid.config import LinkConfig, ModelConfig, PipelineConfig, TrainConfig, to_dict  # noqa: E402
from reid.engine.checkpoint import save_checkpoint  # noqa: E402
from reid.link import link_tracklets  # noqa: E402
from reid.link.calibrate import resolve_threshold  # noqa: E402
from reid.models import build_model  # noqa: E402
from reid.store.rows import TrackletFeature  # noqa: E402
from reid.video.detect import Detector, HogDetector, YoloDetector  # noqa: E402
from reid.video.embed import CheckpointEmbedder, Embedder, HandcraftedEmbedder, embed_tracklets  # noqa: E402
from reid.video.manifest import load_manifest  # noqa: E402
from reid.video.source import VideoSource  # noqa: E402
from reid.video.stages import run_file  # noqa: E402
from reid.video.types import Detections, Frame, Tracklet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "cameras.yaml"
TRAINED = ROOT / "models" / "yolov8s-fall.pt"
TARGET_OVERHEAD = 0.30  # (track + embed + link) / detect, from the issue


class FirstFrames(VideoSource):
    """A ``VideoSource`` that stops each file after ``limit`` frames (closing the decoder thread)."""

    def __init__(self, camera: str, paths: Sequence[str], limit: int, **kwargs: Any) -> None:
        super().__init__(camera, paths, **kwargs)
        self.limit = limit
        for info in self.files():
            info.frames = min(info.frames, limit)

    def iter_file(self, info: Any) -> Iterator[Frame]:
        frames = super().iter_file(info)
        try:
            yield from itertools.islice(frames, self.limit)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()


class Recorder:
    """Runs ``inner`` and keeps its boxes by (camera, frame index) for a ``Replay``."""

    def __init__(self, inner: Detector, camera: str, boxes: dict[tuple[str, int], Detections]) -> None:
        self.inner, self.camera, self.boxes, self.name = inner, camera, boxes, inner.name

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        out = self.inner.detect(frames, indices)
        for i, d in zip(indices or [], out, strict=True):
            self.boxes[(self.camera, int(i))] = d
        return out


class Replay:
    """Runs ``inner`` (its cost is what is timed), then hands on recorded boxes of the same frames."""

    def __init__(self, inner: Detector, camera: str, boxes: dict[tuple[str, int], Detections]) -> None:
        self.inner, self.camera, self.boxes, self.name = inner, camera, boxes, inner.name

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        self.inner.detect(frames, indices)
        return [self.boxes.get((self.camera, int(i)), Detections.empty()) for i in indices or []]


def cnn_embedder(folder: Path, arch: str = "resnet50", size: tuple[int, int] = (256, 128)) -> CheckpointEmbedder:
    """A random-weight re-ID checkpoint written to ``folder`` and loaded as the pipeline loads trained ones."""
    cfg = TrainConfig(model=ModelConfig(arch=arch))
    model = build_model(cfg.model, 0)
    payload = {"arch": arch, "input_size": list(size), "embedding_dim": model.embedding_dim,
               "mean": list(cfg.augment.mean), "std": list(cfg.augment.std), "config": to_dict(cfg),
               "num_classes": 0, "model": model.state_dict()}
    return CheckpointEmbedder(save_checkpoint(folder / f"{arch}.pt", payload), "cpu", batch=64)


def link_features(per_camera: dict[str, list[Tracklet]]) -> list[TrackletFeature]:
    """The tracklets of every camera as the linker sees them (ids in camera then track order)."""
    feats, k = [], 0
    for cam, tracklets in per_camera.items():
        for t in tracklets:
            if t.embedding is not None:
                feats.append(TrackletFeature(k, cam, 0, t.track_id, t.first_time, t.last_time, t.embedding))
                k += 1
    return feats


def time_link(per_camera: dict[str, list[Tracklet]], cfg: LinkConfig) -> tuple[float, int]:
    """Best of 3 ``link_tracklets`` runs (tiny inputs: the minimum is the steadier figure); identities."""
    feats = link_features(per_camera)
    best, groups = float("inf"), []
    for _ in range(3):
        t0 = time.perf_counter()
        groups = link_tracklets(feats, None, cfg, resolve_threshold(feats, None, cfg))
        best = min(best, time.perf_counter() - t0)
    return best, len(groups)


def decode_alone(manifest: Any, limit: int) -> float:
    """Seconds to decode ``limit`` frames of every clip in the calling thread (no detector)."""
    t0 = time.perf_counter()
    for cam in manifest.cameras:
        source = FirstFrames(cam.name, cam.files, limit, prefetch=0)
        for info in source.files():
            for _ in source.iter_file(info):
                pass
    return time.perf_counter() - t0


def run_chain(manifest: Any, limit: int, make: Any, embedders: dict[str, Embedder],
              link_cfg: LinkConfig) -> dict[str, Any]:
    """Every clip through ``run_file`` with detector ``make(camera)``; then re-embed with each extra embedder and
    link. Returns stage seconds per embedder, frames, tracklets, crops and identities."""
    cfg = PipelineConfig()
    first, *others = embedders
    per_camera: dict[str, list[Tracklet]] = {}
    stages = dict.fromkeys(("decode", "detect", "track"), 0.0)
    frames, embed_s = 0, {name: 0.0 for name in embedders}
    for cam in manifest.cameras:
        source = FirstFrames(cam.name, cam.files, limit, start_time=cam.start_time)
        detector = make(cam.name)
        for info in source.files():
            tracklets, times = run_file(source, info, detector, embedders[first], cfg, progress=False)
            per_camera.setdefault(cam.name, []).extend(tracklets)
            frames += times.frames
            for k in stages:
                stages[k] += getattr(times, k)
            embed_s[first] += times.embed
    out: dict[str, Any] = {"frames": frames, **{f"{k}_s": v for k, v in stages.items()},
                           "fps": {"detect": frames / stages["detect"], "track": frames / stages["track"]}}
    tracklets = [t for ts in per_camera.values() for t in ts]
    out["tracklets"] = len(tracklets)
    out["crops"] = sum(len(t.crops) for t in tracklets)
    for name in [first, *others]:
        if name != first:  # same tracklets, embedded per file as run_file does
            for ts in per_camera.values():
                t0 = time.perf_counter()
                embed_tracklets(ts, embedders[name])
                embed_s[name] += time.perf_counter() - t0
        link_s, identities = time_link(per_camera, link_cfg)
        over = stages["track"] + embed_s[name] + link_s
        out[name] = {
            "embed_s": embed_s[name], "link_s": link_s, "identities": identities,
            "fps": {"embed": frames / embed_s[name], "link": frames / link_s},
            "chain_fps": frames / (stages["decode"] + stages["detect"] + over),
            "overhead_ratio": over / stages["detect"],
        }
    return out


def batched_vs_single(detector: YoloDetector, frames: list[np.ndarray], rounds: int) -> dict[str, float]:
    """Seconds per frame of ``detect`` in batches of 8 and one frame per call, alternated, best of ``rounds``."""
    best = {8: float("inf"), 1: float("inf")}
    for _ in range(rounds):
        for b in best:
            detector.batch = b
            t0 = time.perf_counter()
            detector.detect(frames)
            best[b] = min(best[b], (time.perf_counter() - t0) / len(frames))
    detector.batch = 8
    return {"batched_s_per_frame": best[8], "single_s_per_frame": best[1], "single_over_batched": best[1] / best[8]}


def runtimes(limit: int) -> None:
    """Detect stage per runtime (speed, parity) and end to end against ``yolo track``; prints and writes them."""
    if not TRAINED.is_file():
        sys.exit(f"{TRAINED}: missing; run `reid fetch-models`")
    clips = {"left": ROOT / "examples" / "left.mp4", "right": ROOT / "examples" / "right.mp4"}
    frames = [f for path in clips.values() for f in first_frames(path, limit)]
    stage = detect_stage(TRAINED, frames, ROOT / "models" / "exported", rounds=3)
    print(f"detect stage, {stage['frames']} frames, {stage['threads']} threads:")
    for name, r in stage.items():
        if isinstance(r, dict):
            p = r["parity"]
            print(f"  {name:14s} {r['s_per_frame'] * 1e3:6.0f} ms/frame  x{r['speedup_vs_torch_fp32']:.2f}  parity "
                  f"{p['matched']}/{p['reference_boxes']} ({p['share']:.1%}; {p['boxes']} boxes) "
                  f"{'holds' if p['holds'] else 'FAILS'}  setup {r['setup_s']:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        e2e = end_to_end(TRAINED, clips, limit, Path(tmp))
    print(f"end to end, {e2e['frames']} frames: reid process {e2e['reid_process_s']:.1f} s; yolo track .pt "
          f"{e2e['yolo_track_pt_s']:.1f} s (x{e2e['speedup_vs_yolo_track_pt']:.2f}); yolo track IR "
          f"{e2e['yolo_track_ir_s']:.1f} s (x{e2e['speedup_vs_yolo_track_ir']:.2f})")
    figures = {"detect_stage": stage, "end_to_end": e2e, "frames_per_clip": limit,
               "note": "speed-ups are ratios within this run; parity against PyTorch FP32 boxes at IoU >= 0.95"}
    print(f"wrote {write_result('pipeline-runtimes', figures)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 frames per clip, no trained detector")
    parser.add_argument("--frames", type=int, default=0, help="frames per clip (default 120, quick 10)")
    parser.add_argument("--runtimes", action="store_true", help="the detector's runtimes only (see above)")
    args = parser.parse_args()
    limit = args.frames or (10 if args.quick else 120)
    if args.runtimes:
        runtimes(limit)
        return
    manifest = load_manifest(MANIFEST)
    link_cfg = LinkConfig(transit=dict(manifest.transit))

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        embedders: dict[str, Embedder] = {
            "handcrafted": HandcraftedEmbedder(),
            "resnet50_256x128": cnn_embedder(Path(tmp), "resnet50", (256, 128)),
            "resnet18_128x64": cnn_embedder(Path(tmp), "resnet18", (128, 64)),
        }
        hog = HogDetector()
        yolo = YoloDetector("yolov8n.yaml", imgsz=640, batch=8)
        warm = [f.image for f in FirstFrames("w", manifest.cameras[0].files, 8, prefetch=0)]
        yolo.detect(warm[:2])
        for embedder in embedders.values():
            embedder.embed(warm[:2])
        setup_s = time.perf_counter() - t0

        decode_s = decode_alone(manifest, limit)
        boxes: dict[tuple[str, int], Detections] = {}
        runs = {"hog": run_chain(manifest, limit, lambda cam: Recorder(hog, cam, boxes), embedders, link_cfg)}
        runs["yolov8n"] = run_chain(manifest, limit, lambda cam: Replay(yolo, cam, boxes), embedders, link_cfg)
        if TRAINED.is_file() and not args.quick:
            trained = YoloDetector(TRAINED, imgsz=640, batch=8)
            trained.detect(warm[:2])
            runs["yolov8s-fall"] = run_chain(manifest, limit, lambda cam: trained, embedders, link_cfg)
        n_batching = 8 if args.quick else 24
        batch_frames = [f.image for f in FirstFrames("b", manifest.cameras[0].files, n_batching, prefetch=0)]
        batching = batched_vs_single(yolo, batch_frames, rounds=1 if args.quick else 3)

    frames = runs["hog"]["frames"]
    print(f"{frames} frames ({limit} per clip, 384x576); decode alone {frames / decode_s:.0f} frames/s; "
          f"setup {setup_s:.1f} s")
    print(f"\n{'':32}{'frames/s per stage':^34}{'chain':>8}")
    print(f"{'detector':<14}{'embedder':<18}{'detect':>8}{'track':>8}{'embed':>8}{'link':>10}{'fps':>8}"
          f"{'overhead':>10}  tracklets/crops/ids")
    for det, r in runs.items():
        for emb in embedders:
            e = r[emb]
            print(f"{det:<14}{emb:<18}{r['fps']['detect']:>8.1f}{r['fps']['track']:>8.0f}{e['fps']['embed']:>8.1f}"
                  f"{e['fps']['link']:>10.0f}{e['chain_fps']:>8.2f}{e['overhead_ratio']:>10.1%}"
                  f"  {r['tracklets']}/{r['crops']}/{e['identities']}")
    print(f"\nYOLOv8n {n_batching} frames: batches of 8 {batching['batched_s_per_frame'] * 1e3:.0f} ms/frame, one per "
          f"call {batching['single_s_per_frame'] * 1e3:.0f} ms/frame (x{batching['single_over_batched']:.2f})")
    print(f"target: (track + embed + link) / detect <= {TARGET_OVERHEAD:.0%}")

    figures: dict[str, Any] = {
        "frames": frames, "frames_per_clip": limit, "frame_size": "384x576", "decode_fps": frames / decode_s,
        "target_overhead_ratio": TARGET_OVERHEAD,
        **{det: r for det, r in runs.items()},
        "yolov8n_batching": batching,
        "note": "overhead_ratio = (track + embed + link) / detect of the same run; yolov8n runs on random "
                "weights and hands on the HOG run's boxes; CPU only",
    }
    print(f"wrote {write_result('pipeline', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
