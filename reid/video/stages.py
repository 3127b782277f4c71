"""One video file through the stages: decode → detect (batched) → track → embed, timed per stage."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields

import torch
from tqdm import tqdm

from reid.config import DetectorConfig, PipelineConfig
from reid.video.detect import Detector, MotDetections, make_detector
from reid.video.embed import Embedder, embed_tracklets
from reid.video.source import VideoInfo, VideoSource
from reid.video.track import TrackletBuilder
from reid.video.types import Frame, Tracklet

log = logging.getLogger(__name__)


@dataclass
class StageTimes:
    """Seconds spent per stage. ``decode`` is the time spent waiting for decoded frames (decoding runs ahead
    in a background thread, so only what it fails to hide shows here)."""

    decode: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    embed: float = 0.0
    store: float = 0.0
    frames: int = 0

    def stages(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "frames"}

    @property
    def total(self) -> float:
        return sum(self.stages().values())

    @staticmethod
    def sum(items: Iterable[StageTimes]) -> StageTimes:
        out = StageTimes()
        for t in items:
            for f in fields(t):
                setattr(out, f.name, getattr(out, f.name) + getattr(t, f.name))
        return out


def build_detector(
    cfg: DetectorConfig, device: torch.device | str, detections: str | None = None
) -> Detector:
    """The configured detector, or the boxes of a MOTChallenge file when one is given for this camera."""
    if detections:
        log.info("detector: boxes from MOTChallenge file %s", detections)
        return MotDetections(detections)
    return make_detector(cfg, device)


def run_file(
    source: VideoSource,
    info: VideoInfo,
    detector: Detector,
    embedder: Embedder,
    cfg: PipelineConfig,
    progress: bool = True,
    position: int = 0,
) -> tuple[list[Tracklet], StageTimes]:
    """Tracklets (with embeddings) of one video file, and the time each stage took."""
    times = StageTimes()
    builder = TrackletBuilder(source.camera, info.path, cfg.tracker, info.fps, source.stride)
    batch: list[Frame] = []
    total = -(-info.frames // source.stride)
    bar = tqdm(
        total=total,
        desc=f"{source.camera}: {info.path.rsplit('/', 1)[-1]}",
        unit="frame",
        position=position,
        leave=True,
        disable=not progress,
        dynamic_ncols=True,
    )

    def flush() -> None:
        t0 = time.perf_counter()
        dets = detector.detect([f.image for f in batch], [f.index for f in batch])
        t1 = time.perf_counter()
        for frame, d in zip(batch, dets, strict=True):
            builder.update(frame, d)
        t2 = time.perf_counter()
        times.detect += t1 - t0
        times.track += t2 - t1
        times.frames += len(batch)
        bar.update(len(batch))
        bar.set_postfix(fps=f"{times.frames / max(times.total, 1e-9):.1f}", refresh=False)
        batch.clear()

    frames = source.iter_file(info)
    with bar:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            times.decode += time.perf_counter() - t0
            if frame is None:
                break
            batch.append(frame)
            if len(batch) >= max(1, cfg.detector.batch):
                flush()
        if batch:
            flush()
    t0 = time.perf_counter()
    tracklets = builder.finish()
    times.track += time.perf_counter() - t0
    t0 = time.perf_counter()
    embed_tracklets(tracklets, embedder)
    times.embed += time.perf_counter() - t0
    return tracklets, times
