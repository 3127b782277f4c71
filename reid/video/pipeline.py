"""The main job: camera videos → detections → per-camera tracklets → embeddings → SQLite → cross-camera links.

Each video file is processed start to finish (``process_video``: no database access) and committed in ONE
transaction (``commit_result``), so an interrupted batch loses at most the file in progress and a re-run skips
finished files. Cameras run in parallel worker processes when there are cores for them (or as Ray tasks, one
per file: ``reid.video.ray_runner``); linking runs once at the end over every tracklet in the database
(earlier runs included), keeping the reviewer's decisions.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing import get_context, parent_process
from pathlib import Path

from tqdm.std import tqdm

from reid.config import LinkConfig, PipelineConfig
from reid.errors import ReidError
from reid.lifeline import init_worker
from reid.link.database import link_database
from reid.models.device import resolve_device
from reid.store import Store, TrackletRecord, VideoRecord
from reid.video.detect import Detector
from reid.video.embed import Embedder, make_embedder
from reid.video.manifest import CameraSpec, Manifest
from reid.video.source import VideoInfo, VideoSource
from reid.video.stages import StageTimes, build_detector, run_file
from reid.video.summary import ProcessSummary, VideoResult

log = logging.getLogger(__name__)

STORE_TIMEOUT_S = 120.0  # camera processes share one database; a writer may wait for another's commit


@dataclass(frozen=True)
class CameraJob:
    """Everything one worker process needs for one camera (picklable)."""

    camera: CameraSpec
    db: str
    cfg: PipelineConfig
    detections: str | None
    threads: int
    progress_position: int
    progress: bool


def process_camera(
    job: CameraJob, detector: Detector | None = None, embedder: Embedder | None = None
) -> list[VideoResult]:
    """Process every file of one camera that is not yet in the database (worker entry point).

    ``detector``/``embedder``: already built ones to reuse (same process); built here when None.
    """
    import cv2
    import torch

    if parent_process() is not None:  # a pool worker (reid.lifeline.init_worker):
        # tqdm's default lock is a multiprocessing semaphore, which a terminated worker would leave behind (the
        # resource tracker's "leaked semaphore objects" warning); a worker's bars need only a thread lock
        tqdm.set_lock(threading.RLock())
    torch.set_num_threads(job.threads)
    cv2.setNumThreads(job.threads)
    cfg = job.cfg
    source = VideoSource(
        job.camera.name, job.camera.files, start_time=job.camera.start_time, stride=cfg.stride
    )
    with Store(job.db, timeout=STORE_TIMEOUT_S) as store:
        todo, results = unfinished_files(store, job.camera, source.files(), cfg.force)
        if not todo:
            return results
        device = resolve_device(cfg.device)
        if job.detections or detector is None:
            detector = build_detector(cfg.detector, device, job.detections)
        embedder = embedder or make_embedder(cfg.embed, device)
        for info in todo:
            done = process_video(source, info, detector, embedder, cfg, job.camera.start_time, job.progress,
                                 job.progress_position)
            results.append(commit_result(store, *done, replace=cfg.force))
    return results


def unfinished_files(
    store: Store, camera: CameraSpec, files: Sequence[VideoInfo], force: bool
) -> tuple[list[VideoInfo], list[VideoResult]]:
    """Register ``camera`` in ``store`` and split its ``files`` into those to process (in order) and those
    already committed, returned as skipped ``VideoResult``s; ``force``: every file is processed again.

    The local workers and the Ray driver both decide with this, so a re-run skips the same files either way.
    """
    store.camera_id(camera.name, camera.start_time)
    done = [not force and store.is_video_done(camera.name, info.path) for info in files]
    todo = [info for info, finished in zip(files, done, strict=True) if not finished]
    skipped = [VideoResult(camera.name, info.path, skipped=True)
               for info, finished in zip(files, done, strict=True) if finished]
    return todo, skipped


def process_video(
    source: VideoSource,
    info: VideoInfo,
    detector: Detector,
    embedder: Embedder,
    cfg: PipelineConfig,
    camera_start: float,
    progress: bool = False,
    position: int = 0,
) -> tuple[VideoRecord, list[TrackletRecord], StageTimes]:
    """Detect, track and embed one file of ``source``; its database record, the rows of its tracklets (best
    crops JPEG-encoded: ``times.store`` gets the time that took) and stage times.

    Touches no database (the local workers and Ray tasks both run it; the caller commits). ``camera_start``:
    the camera's start on the common clock (s), for the file's offset.
    """
    tracklets, times = run_file(source, info, detector, embedder, cfg, progress, position)
    t0 = time.perf_counter()
    rows = [t.record() for t in tracklets]
    times.store += time.perf_counter() - t0
    record = VideoRecord(
        camera=source.camera,
        path=info.path,
        fps=info.fps,
        frames=info.frames_read,
        width=info.width,
        height=info.height,
        offset_s=info.start_time - camera_start,
        bad_frames=info.bad_frames,
        detector=detector.name,
        embedder=embedder.name,
    )
    return record, rows, times


def commit_result(
    store: Store, record: VideoRecord, tracklets: Sequence[TrackletRecord], times: StageTimes, replace: bool = False
) -> VideoResult:
    """Write one processed file in one transaction (``times.store`` gets the time it took). A file already in
    the database (another run committed it meanwhile) is kept and reported skipped, unless ``replace``
    (``--force``)."""
    t0 = time.perf_counter()
    video_id = store.commit_video(record, tracklets, replace=replace)
    times.store += time.perf_counter() - t0
    if video_id is None:
        log.warning("%s: already in the database (committed by another run meanwhile); kept", record.path)
        return VideoResult(record.camera, record.path, skipped=True)
    log.debug("%s: %d tracklets committed", record.path, len(tracklets))
    return VideoResult(record.camera, record.path, record.frames, len(tracklets), record.bad_frames,
                       times=times, detector=record.detector)


def _check_inputs(manifest: Manifest, detections: Mapping[str, str]) -> list[VideoSource]:
    names = [c.name for c in manifest.cameras]
    unknown = sorted(set(detections) - set(names))
    if unknown:
        raise ReidError(f"--detections names camera(s) {', '.join(unknown)} not among {', '.join(names)}")
    # probe every file now: a bad file fails before any work starts
    sources = [VideoSource(cam.name, cam.files, start_time=cam.start_time) for cam in manifest.cameras]
    for path in detections.values():
        if not Path(path).is_file():
            raise ReidError(f"{path}: detections file not found")
    return sources


def _make_parent(db: Path) -> None:
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReidError(f"{db}: cannot create its folder ({exc.strerror})") from None


def _check_embedder(store: Store, name: str) -> None:
    """Embeddings of different models are not comparable: refuse to mix them in one database."""
    previous = store.get_meta("embedder")
    if previous and previous != name and store.counts()["tracklets"]:
        raise ReidError(
            f"{store.path}: its tracklets were embedded with {previous}, not {name}; use the same "
            "--weights, or a new --db"
        )
    store.set_meta("embedder", name)


@dataclass
class RunSetup:
    """What ``prepare_run`` checked and built: linking settings (with the manifest's transit windows), each
    camera's probed files, and the detector (None when every camera has boxes) and embedder of this process."""

    link_cfg: LinkConfig
    sources: list[VideoSource]
    detector: Detector | None
    embedder: Embedder


def prepare_run(
    manifest: Manifest, db: str | Path, cfg: PipelineConfig, detections: Mapping[str, str]
) -> RunSetup:
    """Check every input, build the models once and prepare the database, before any video is processed."""
    sources = _check_inputs(manifest, detections)
    _make_parent(Path(db))
    link_cfg = replace(cfg.link, transit={**cfg.link.transit, **manifest.transit})
    # Built once here so the user reads one line saying which detector and embedder run and why; worker
    # processes build their own copies quietly (logging is not configured in them).
    device = resolve_device(cfg.device)
    needs_detector = any(cam.name not in detections for cam in manifest.cameras)
    detector = build_detector(cfg.detector, device) if needs_detector else None
    embedder = make_embedder(cfg.embed, device)
    with Store(db, timeout=STORE_TIMEOUT_S) as store:  # creates the schema before workers open it
        _check_embedder(store, embedder.name)
        threshold = getattr(embedder, "link_threshold", None)  # calibrated by `reid evaluate` on its data set
        store.set_meta("checkpoint_link_threshold", "" if threshold is None else f"{threshold:.6g}")
    return RunSetup(link_cfg, sources, detector, embedder)


def finish_run(db: str | Path, link_cfg: LinkConfig, videos: list[VideoResult], embedder: str, started: float,
               force: bool = False) -> ProcessSummary:
    """Relink the whole database and summarise the run (``started``: its ``time.perf_counter()``; ``force``:
    it redid finished videos)."""
    t0 = time.perf_counter()
    with Store(db, timeout=STORE_TIMEOUT_S) as store:
        outcome = link_database(store, link_cfg)
        counts = store.counts()  # identities as stored: the linked groups and the singletons
    link_seconds = time.perf_counter() - t0
    per_camera_tracklets = {c: int(n) for c, n in counts.get("per_camera", {}).items()}
    return ProcessSummary(
        db=str(db),
        detector=", ".join(sorted({v.detector for v in videos if v.detector})) or "none run",
        embedder=embedder,
        videos=videos,
        tracklets_per_camera=per_camera_tracklets,
        identities=int(counts["identities"]),
        cross_camera_identities=outcome.cross_camera,
        links=outcome.links,
        link_seconds=link_seconds,
        link_threshold=outcome.calibration.describe(),
        calibration=outcome.calibration,
        seconds=time.perf_counter() - started,
        force=force,
    )


def _terminate(pool: ProcessPoolExecutor) -> None:
    """End ``pool``'s workers now (SIGTERM; their unfinished video is not committed) and shut it down, its
    queues and semaphores released."""
    for proc in list(pool._processes.values()):  # Python 3.14: pool.terminate_workers()
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def run_camera_pool(jobs: Sequence[CameraJob], workers: int) -> list[list[VideoResult]]:
    """``process_camera`` of every job in ``workers`` spawned processes; results in the jobs' order.

    Ctrl-C or SIGTERM (as ``KeyboardInterrupt``, ``reid.lifeline.sigterm_interrupts``) terminates the workers at
    once: finished videos are committed, the ones in progress are redone by the next run. Any other error lets
    the other cameras finish, as a run with one process would have, before it is raised."""
    # a worker ends with this process, even one killed with SIGKILL, and leaves Ctrl-C to it (reid.lifeline)
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=init_worker,
                               initargs=(os.getpid(),))
    try:
        return list(pool.map(process_camera, jobs))
    except KeyboardInterrupt:
        _terminate(pool)
        raise
    except BrokenProcessPool:
        raise ReidError("a camera worker process died (killed, or out of memory?); finished videos are kept: "
                        "run the same command again") from None
    finally:
        try:
            pool.shutdown(wait=True)  # done already when terminated
        except KeyboardInterrupt:
            _terminate(pool)
            raise


def run_pipeline(
    manifest: Manifest,
    db: str | Path,
    cfg: PipelineConfig,
    detections: Mapping[str, str] | None = None,
    workers: int = 0,
    progress: bool = True,
) -> ProcessSummary:
    """Process every camera of ``manifest`` into the database ``db`` and relink; see the module docstring."""
    started = time.perf_counter()
    detections = dict(detections or {})
    setup = prepare_run(manifest, db, cfg, detections)
    cores = os.cpu_count() or 1
    n_workers = min(len(manifest.cameras), workers or cores)
    threads = max(1, cores // max(n_workers, 1))
    jobs = [
        CameraJob(cam, str(db), cfg, detections.get(cam.name), threads, i, progress)
        for i, cam in enumerate(manifest.cameras)
    ]
    if n_workers > 1:
        per_camera = run_camera_pool(jobs, n_workers)
    else:
        per_camera = [process_camera(job, setup.detector, setup.embedder) for job in jobs]
    videos = [v for results in per_camera for v in results]
    return finish_run(db, setup.link_cfg, videos, setup.embedder.name, started, force=cfg.force)
