"""``reid process --ray``: one Ray task per video file; this process alone writes the database.

The driver (the process running ``run_on_ray``) checks every input as the local path does, leaves out the files
already in the database (``force`` redoes them) and submits one task per remaining file. A task decodes, detects,
tracks and embeds its file (``pipeline.process_video``) and returns the record and tracklets; the driver commits
each result in one transaction as soon as it arrives (``ray.wait``), so SQLite is never written from a worker
and a crash loses at most the files in flight. Then the whole database is relinked, as without Ray.

Failures: a task that raises is retried up to ``retries`` times (a worker or node lost, a flaky network share).
A ``ReidError`` (a file the worker cannot open or decode) is bad input and comes back at once, not retried. A
result the database refuses (``commit_result`` raises a ``ReidError``; its transaction is rolled back) fails
that file alone. A failed file is reported in the summary (camera, file, one-line reason) and the others go on;
running the same command again retries only the files that are not in the database.

Finding or starting Ray, and what a cluster needs, is ``reid.video.ray_cluster``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from tqdm import tqdm

from reid.config import PipelineConfig
from reid.errors import ReidError, first_line
from reid.models.device import resolve_device
from reid.store import Store, TrackletRecord, VideoRecord
from reid.video.detect import Detector, find_yolo_weights
from reid.video.embed import Embedder, make_embedder
from reid.video.manifest import Manifest
from reid.video.pipeline import (
    STORE_TIMEOUT_S,
    commit_result,
    finish_run,
    prepare_run,
    process_video,
    unfinished_files,
)
from reid.video.ray_cluster import check_address, import_ray, ray_session
from reid.video.source import VideoSource
from reid.video.stages import StageTimes, build_detector
from reid.video.summary import ProcessSummary, VideoResult

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2  # a lost worker or a network-share hiccup rarely strikes the same file three times running

VideoOutput = tuple[VideoRecord, list[TrackletRecord], StageTimes]


@dataclass(frozen=True)
class VideoTask:
    """One file for one Ray task (picklable). ``path``: as the user gave it (the database key); ``open_path``:
    absolute, for the worker; ``start_time``: the file's first frame on the camera's clock (s)."""

    camera: str
    path: str
    open_path: str
    start_time: float
    camera_start: float
    cfg: PipelineConfig
    detections: str | None
    threads: int


# Per worker process: a worker that runs several files (Ray reuses workers) builds each model once.
_MODELS: dict[tuple[str, ...], Any] = {}


def _cached(key: tuple[str, ...], build: Any) -> Any:
    if key not in _MODELS:
        _MODELS[key] = build()
    return _MODELS[key]


def worker_models(cfg: PipelineConfig, detections: str | None) -> tuple[Detector, Embedder]:
    """This worker's detector and embedder for ``cfg``, built on first use and kept for later tasks."""
    device = resolve_device(cfg.device)
    detector = _cached(
        ("detector", repr(cfg.detector), str(device), detections or ""),
        lambda: build_detector(cfg.detector, device, detections),
    )
    embedder = _cached(("embedder", repr(cfg.embed), str(device)), lambda: make_embedder(cfg.embed, device))
    return detector, embedder


def run_task(task: VideoTask) -> VideoOutput | str:
    """Ray task body: one file → (record, tracklet rows, stage times). A ``ReidError`` comes back as its message
    (bad input: retrying cannot help); any other exception propagates, so Ray retries the task."""
    import cv2
    import torch

    torch.set_num_threads(task.threads)
    cv2.setNumThreads(task.threads)
    try:
        source = VideoSource(task.camera, [task.open_path], start_time=task.start_time, stride=task.cfg.stride)
        detector, embedder = worker_models(task.cfg, task.detections)
        record, tracklets, times = process_video(
            source, source.files()[0], detector, embedder, task.cfg, task.camera_start
        )
    except ReidError as exc:
        return first_line(exc, with_type=False)
    return replace(record, path=task.path), tracklets, times


def _reason(ray: ModuleType, exc: BaseException) -> str:
    """One line saying why a task failed for good."""
    cause = getattr(exc, "cause", None) if isinstance(exc, ray.exceptions.RayTaskError) else None
    err = cause if isinstance(cause, BaseException) else exc
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"[:300].rstrip(": ")


def _absolute(path: str) -> str:
    return str(Path(path).resolve())


def pinned_config(cfg: PipelineConfig) -> PipelineConfig:
    """The tasks' config: the detector this process picks (``auto`` becomes YOLO with the weights found here,
    or HOG) and absolute weight paths, so that workers with another working directory run the same models.
    ``cuda:N`` becomes ``cuda``: Ray shows each task only the GPU it reserved."""
    det = cfg.detector
    if det.kind == "auto":
        found = det.weights or find_yolo_weights()
        det = replace(det, kind="yolo" if found else "hog", weights=str(found) if found else None)
    if det.weights:
        det = replace(det, weights=_absolute(det.weights))
    embed = replace(cfg.embed, weights=_absolute(cfg.embed.weights)) if cfg.embed.weights else cfg.embed
    device = "cuda" if cfg.device.startswith("cuda") else cfg.device
    return replace(cfg, detector=det, embed=embed, device=device)


def _task_gpus(ray: ModuleType, device: str) -> float:
    """One GPU per task for ``cuda``, and for ``auto`` when the cluster has GPUs; none for ``cpu``."""
    if device.startswith("cuda"):
        return 1.0
    return 1.0 if device == "auto" and ray.cluster_resources().get("GPU", 0) > 0 else 0.0


def run_on_ray(
    manifest: Manifest,
    db: str | Path,
    cfg: PipelineConfig,
    detections: Mapping[str, str] | None = None,
    address: str = "auto",
    cpus: int = 0,
    task_cpus: int = 1,
    retries: int = DEFAULT_RETRIES,
    progress: bool = True,
) -> ProcessSummary:
    """Process every file of ``manifest`` not yet in ``db`` as a Ray task, commit results here, relink.

    ``address``/``cpus``: see ``ray_cluster.connect``. ``task_cpus``: CPUs each task reserves (and its
    torch/OpenCV threads). ``retries``: extra attempts for a task that raised (not for bad input). Failed files
    are in ``summary.failed``; see the module docstring.
    """
    if task_cpus < 1 or retries < 0:
        raise ReidError(f"need task CPUs >= 1 and retries >= 0, got {task_cpus} and {retries}")
    ray = import_ray()
    check_address(address)  # a malformed address fails before any work
    started = time.perf_counter()
    detections = dict(detections or {})
    # The driver builds the models on the CPU only to check them and name them: the GPUs are the workers'.
    setup = prepare_run(manifest, db, replace(cfg, device="cpu"), detections)
    task_cfg = pinned_config(cfg)
    videos: list[VideoResult | None] = []
    tasks: dict[int, VideoTask] = {}
    with Store(db, timeout=STORE_TIMEOUT_S) as store:
        for cam, source in zip(manifest.cameras, setup.sources, strict=True):
            todo, skipped = unfinished_files(store, cam, source.files(), cfg.force)
            videos += skipped
            for info in todo:
                boxes = detections.get(cam.name)
                tasks[len(videos)] = VideoTask(
                    cam.name, info.path, _absolute(info.path), info.start_time, cam.start_time, task_cfg,
                    _absolute(boxes) if boxes else None, task_cpus,
                )
                videos.append(None)
    if tasks:
        with ray_session(ray, address, cpus):
            done = _run_tasks(ray, tasks, db, task_cpus, retries, progress)
        for i, result in done.items():
            videos[i] = result
    else:
        log.info("ray: every file is already in the database; nothing submitted")
    results = [v for v in videos if v is not None]
    return finish_run(db, setup.link_cfg, results, setup.embedder.name, started, force=cfg.force)


def _run_tasks(
    ray: ModuleType, tasks: dict[int, VideoTask], db: str | Path, task_cpus: int, retries: int, progress: bool
) -> dict[int, VideoResult]:
    """Submit ``tasks``, commit each result as it arrives; results by the tasks' keys."""
    gpus = _task_gpus(ray, next(iter(tasks.values())).cfg.device)
    resources = ray.cluster_resources()
    have = {"CPU": resources.get("CPU", 0), "GPU": resources.get("GPU", 0)}
    for kind, need in (("CPU", task_cpus), ("GPU", gpus)):
        if need > have[kind]:  # Ray would wait forever for a node that can run the tasks
            raise ReidError(f"each video task needs {need:g} {kind}(s) but the Ray cluster has {have[kind]:g}; "
                            f"{'lower --ray-task-cpus' if kind == 'CPU' else 'use --device cpu'}")
    log.info("ray: %d file(s) on %g CPU(s), %g GPU(s)", len(tasks), have["CPU"], have["GPU"])
    remote = ray.remote(run_task).options(
        num_cpus=task_cpus, num_gpus=gpus, max_retries=retries, retry_exceptions=True
    )
    pending = {remote.remote(task): key for key, task in tasks.items()}
    out: dict[int, VideoResult] = {}
    try:
        with Store(db, timeout=STORE_TIMEOUT_S) as store, tqdm(
            total=len(tasks), desc="videos", unit="video", disable=not progress, dynamic_ncols=True
        ) as bar:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    key = pending.pop(ref)
                    out[key] = _receive(ray, ref, tasks[key], store)
                    bar.update()
    finally:
        for ref in pending:  # interrupted: stop the work nobody will commit
            ray.cancel(ref, force=True)
    return out


def _receive(ray: ModuleType, ref: Any, task: VideoTask, store: Store) -> VideoResult:
    """Commit one finished task's result; a failed task, or a result the database refuses, is that file's
    ``VideoResult.error`` (its transaction rolled back) and the run goes on."""
    try:
        output = ray.get(ref)
    except ray.exceptions.RayError as exc:
        output = _reason(ray, exc)
    if not isinstance(output, str):
        try:
            record, rows, times = output
            return commit_result(store, record, rows, times, replace=task.cfg.force)
        except ReidError as exc:
            output = f"not committed: {first_line(exc, with_type=False)}"
    log.warning("%s: %s: failed: %s", task.camera, task.path, output)
    return VideoResult(task.camera, task.path, error=output)
