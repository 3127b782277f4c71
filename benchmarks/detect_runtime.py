"""The detector's runtimes on the same frames, for ``bench_pipeline.py --runtimes``.

1. Detect stage: ``YoloDetector`` with the same weights in PyTorch FP32 and on its OpenVINO exports (fp32, and
   int8 calibrated on the site's first frames when nncf is installed), the same frames in batches of 8,
   rounds alternated so that load from other jobs falls on all; seconds per frame from the median round.
   Export and calibration happen before timing (they are done once per site and cached).
2. Box parity against PyTorch: the share of PyTorch's boxes that a box of the runtime overlaps at IoU >= 0.95
   (target >= 99 %), and the count of boxes each finds.
3. End to end, wall clock of a fresh process on the same clips (the first N frames of each sample clip):
   ``reid process`` with its defaults, against ultralytics' own ``yolo track`` (ByteTrack, conf 0.35, NMS IoU
   0.5: reid's settings) with the ``.pt`` and with the IR that ``reid process`` exported, one call per camera.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torchvision

from reid.video.detect import YoloDetector
from reid.video.types import Detections
from reid.video.yolo_export import export_dir, letterbox_shape

ROOT = Path(__file__).resolve().parents[1]  # reid process runs here: its cache is models/exported/
IOU_SAME = 0.95
OFFLINE = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false"}


def first_frames(path: Path, n: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def parity(reference: list[Detections], other: list[Detections]) -> dict[str, Any]:
    """Share of ``reference`` boxes matched by an ``other`` box at IoU >= 0.95, and both box counts."""
    matched = total = 0
    for r, o in zip(reference, other, strict=True):
        total += len(r.boxes)
        if len(r.boxes) and len(o.boxes):
            iou = torchvision.ops.box_iou(torch.from_numpy(r.boxes), torch.from_numpy(o.boxes))
            matched += int((iou.max(1).values >= IOU_SAME).sum())
    found = sum(len(o.boxes) for o in other)
    return {"matched": matched, "reference_boxes": total, "boxes": found, "share": matched / max(total, 1),
            "holds": matched >= 0.99 * total and abs(found - total) <= 0.01 * total}


def detect_stage(weights: Path, frames: list[np.ndarray], cache: Path, rounds: int) -> dict[str, Any]:
    """Seconds per frame and parity of each runtime on ``frames`` (see the module docstring)."""
    detectors = {"torch_fp32": YoloDetector(weights, runtime="torch")}
    detectors["openvino_fp32"] = YoloDetector(weights, runtime="openvino", cache_dir=cache)
    if importlib.util.find_spec("nncf") is not None:
        detectors["openvino_int8"] = YoloDetector(weights, runtime="openvino", precision="int8", cache_dir=cache)
    setup = {}
    for name, det in detectors.items():  # export, calibrate and compile outside the timing
        t0 = time.perf_counter()
        det.detect(frames[:64] if name.endswith("int8") else frames[:2])
        setup[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in detectors}
    boxes: dict[str, list[Detections]] = {}
    for r in range(rounds):
        names = list(detectors)
        for name in names[r % len(names):] + names[: r % len(names)]:
            t0 = time.perf_counter()
            boxes[name] = detectors[name].detect(frames)
            times[name].append((time.perf_counter() - t0) / len(frames))
    base = statistics.median(times["torch_fp32"])
    out: dict[str, Any] = {"frames": len(frames), "threads": torch.get_num_threads(), "rounds": rounds}
    for name in detectors:
        s = statistics.median(times[name])
        out[name] = {"s_per_frame": s, "fps": 1 / s, "speedup_vs_torch_fp32": base / s, "setup_s": setup[name],
                     "runtime": detectors[name].runtime, "parity": parity(boxes["torch_fp32"], boxes[name])}
    return out


def write_clips(clips: dict[str, Path], n: int, folder: Path) -> Path:
    """The first ``n`` frames of each clip as an mp4 in ``folder`` and a manifest; returns the manifest."""
    lines = ["cameras:"]
    for cam, path in clips.items():
        frames = first_frames(path, n)
        capture = cv2.VideoCapture(str(path))
        fps = capture.get(cv2.CAP_PROP_FPS) or 5.0
        capture.release()
        out = folder / f"{cam}.mp4"
        h, w = frames[0].shape[:2]
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
        for frame in frames:
            writer.write(frame)
        writer.release()
        lines += [f"  {cam}:", f"    files: [{out.name}]", "    start_time: 0.0"]
    manifest = folder / "cameras.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def _timed(cmd: list[str], cwd: Path = ROOT) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env={**os.environ, **OFFLINE}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(done.stderr or done.stdout)[-2000:]}")
    return time.perf_counter() - t0


def end_to_end(weights: Path, clips: dict[str, Path], n: int, folder: Path) -> dict[str, Any]:
    """Wall seconds of ``reid process`` (defaults) and of ``yolo track`` with the .pt and with the IR."""
    manifest = write_clips(clips, n, folder)
    bindir = Path(sys.executable).parent
    reid_s = _timed([str(bindir / "reid"), "process", "--manifest", str(manifest), "--db", str(folder / "site.db"),
                     "--detector", str(weights)])  # fmt: skip
    h, w = first_frames(folder / f"{next(iter(clips))}.mp4", 1)[0].shape[:2]
    shape = letterbox_shape((h, w), 640)
    ir = export_dir(weights.parent / "exported", weights, shape, "fp32")
    track = [str(bindir / "yolo"), "track", "tracker=bytetrack.yaml", "conf=0.35", "iou=0.5", "save=False",
             "verbose=False", "device=cpu"]  # fmt: skip
    out: dict[str, Any] = {"frames": n * len(clips), "reid_process_s": reid_s}
    for name, model, size in (("yolo_track_pt_s", weights, "imgsz=640"),
                              ("yolo_track_ir_s", ir, f"imgsz={shape[0]},{shape[1]}")):  # fmt: skip
        out[name] = sum(_timed([*track, f"model={model}", size, f"source={folder / (cam + '.mp4')}"])
                        for cam in clips)  # fmt: skip
    out["speedup_vs_yolo_track_pt"] = out["yolo_track_pt_s"] / reid_s
    out["speedup_vs_yolo_track_ir"] = out["yolo_track_ir_s"] / reid_s
    return out
