"""``reid process``: videos of several cameras → tracklets → cross-camera identities in a SQLite store."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reid.cli.options import PREFIX, add_all_config_flags, build_config
from reid.config import PipelineConfig
from reid.errors import ReidError, StoreError, print_error

# Shorter names the flags of `reid process` had before they were generated from PipelineConfig; both work.
ALIASES = {
    "detector.conf": "--conf",
    "detector.imgsz": "--imgsz",
    "tracker.kind": "--tracker",
    "tracker.min_length": "--min-length",
    "embed.weights": "--weights",
    "link.threshold": "--threshold",
    "link.rerank": "--rerank",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="detect, track, embed and link people across camera videos into a SQLite database",
        description="Process the videos of several cameras: detect people, track them per camera, embed the "
        "tracklets and link them across cameras. Each finished video is committed at once; re-running the "
        "same command skips finished videos (resume after Ctrl-C).",
    )
    add_process_arguments(p)
    add_wait_argument(p)
    add_ray_arguments(p)
    p.set_defaults(func=run)


INTERRUPTED = "interrupted; finished work is saved, run the same command again to resume"


def add_wait_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true",
                   help="when another process writes the database (one writer per database), wait for it to "
                   "finish instead of stopping with an error naming it")


def as_writer(db: str | Path, wait: bool, body: Callable[[], int]) -> int:
    """Run ``body`` as the one writer of ``db`` (``reid.store.lock``), SIGTERM stopping it as Ctrl-C does
    (message; exit code 143, Ctrl-C's 130 coming from ``reid.cli.main``); a full disk is a one-line error."""
    from reid.lifeline import Terminated, sigterm_interrupts
    from reid.store.db import DISK_FULL_HINT
    from reid.store.lock import writer_lock

    try:
        with sigterm_interrupts():
            _make_folder(Path(db))
            with writer_lock(db, wait=wait):
                return body()
    except Terminated as exc:
        print_error(INTERRUPTED)
        return exc.exit_code
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StoreError(f"{db}: {DISK_FULL_HINT}") from None
        raise


def _make_folder(db: Path) -> None:
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{db}: cannot create its folder ({exc.strerror})") from None


def add_process_arguments(p: argparse.ArgumentParser, require_input: bool = True) -> None:
    """Flags shared by ``reid process`` and ``reid demo``."""
    src = p.add_argument_group("input")
    src.add_argument(
        "--camera",
        action="append",
        default=[],
        metavar="NAME=VIDEO[@START_S]",
        help="a camera's video; repeat for several cameras or several files of one camera "
        "(played in order); @START_S puts the camera's clock on the common clock",
    )
    src.add_argument(
        "--manifest", metavar="YAML", help="cameras, their files, start times and transit windows"
    )
    src.add_argument(
        "--detections",
        action="append",
        default=[],
        metavar="NAME=MOT.txt",
        help="read this camera's person boxes from a MOTChallenge file instead of detecting",
    )
    p.add_argument("--db", required=require_input, help="SQLite database to create or extend")
    p.add_argument("--config", metavar="YAML", help="PipelineConfig YAML (flags override it)")
    p.add_argument(
        "--detector",
        action=DetectorFlag,
        default=argparse.SUPPRESS,
        metavar="WEIGHTS|hog",
        help="YOLO weights (.pt/.onnx) or 'hog': sets detector.kind and detector.weights; default: the first "
        "of models/yolov8n.pt, models/yolo11n.pt, models/yolov8s-fall.pt (`reid fetch-models`) present, else "
        "OpenCV's HOG people detector",
    )
    add_all_config_flags(p, PipelineConfig, ALIASES)
    p.add_argument(
        "--workers",
        type=non_negative_int,
        default=0,
        help="camera processes in parallel (0 = one per camera, up to the CPU count)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (argparse prints the message as a one-line usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


class DetectorFlag(argparse.Action):
    """``--detector hog`` or ``--detector WEIGHTS``: the kind and the weights in one flag (weights None for hog)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any,
                 option_string: str | None = None) -> None:
        hog = value == "hog"
        setattr(namespace, PREFIX + "detector.kind", "hog" if hog else "yolo")
        setattr(namespace, PREFIX + "detector.weights", None if hog else value)


def add_ray_arguments(p: argparse.ArgumentParser) -> None:
    """``reid process --ray``: one Ray task per video file (optional extra ``distributed``)."""
    g = p.add_argument_group("Ray (pip install -e '.[distributed]')")
    g.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="auto|local|ADDRESS",
        help="process each video file as a Ray task. auto (what --ray alone means): the cluster in "
        "RAY_ADDRESS or one started on this machine with `ray start`, else a local Ray instance for this run "
        "with --workers CPUs (0 = all cores); local: always such a new local instance; ADDRESS: a cluster, "
        "ray://HEAD:10001 (Ray Client) or HEAD:6379. Every node must see the videos at the same absolute "
        "path; only this process writes the database",
    )
    g.add_argument(
        "--ray-retries",
        type=int,
        default=2,
        metavar="N",
        help="retries of a video task that raised (a worker or node lost); unreadable videos are not "
        "retried (default 2)",
    )
    g.add_argument(
        "--ray-task-cpus",
        type=int,
        default=1,
        metavar="N",
        help="CPUs each video task reserves and its torch/OpenCV threads (default 1); with --device "
        "cuda, or auto on a cluster with GPUs, each task also reserves one GPU",
    )


def config_from_args(args: argparse.Namespace, base: PipelineConfig | None = None) -> PipelineConfig:
    """``base`` (default: PipelineConfig()), then the ``--config`` YAML, then the flags that were given."""
    return build_config(PipelineConfig, args, base)


def parse_pairs(flags: list[str], what: str) -> dict[str, str]:
    out = {}
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep or not name or not value:
            raise ReidError(f"{what} {flag!r}: expected NAME=FILE")
        out[name] = value
    return out


def print_summary(summary, db: str | Path) -> None:  # noqa: ANN001 - ProcessSummary, imported lazily
    print(summary.report())
    print(f"database: {db}")


def run(args: argparse.Namespace) -> int:
    from reid.video.manifest import load_manifest, parse_camera_flags
    from reid.video.pipeline import run_pipeline

    if bool(args.manifest) == bool(args.camera):
        raise ReidError(
            "give the cameras either with --camera NAME=VIDEO (repeatable) or with --manifest YAML"
        )
    cfg = config_from_args(args)  # a bad config fails before any video is opened
    manifest = load_manifest(args.manifest) if args.manifest else parse_camera_flags(args.camera)
    detections = parse_pairs(args.detections, "--detections")

    def body() -> int:
        if args.ray:
            from reid.video.ray_runner import run_on_ray

            summary = run_on_ray(
                manifest,
                args.db,
                cfg,
                detections=detections,
                address=args.ray,
                cpus=args.workers,
                task_cpus=args.ray_task_cpus,
                retries=args.ray_retries,
                progress=not args.no_progress,
            )
        else:
            summary = run_pipeline(manifest, args.db, cfg, detections=detections, workers=args.workers,
                                   progress=not args.no_progress)
        return report(summary, args.db)

    return as_writer(args.db, args.wait, body)


def report(summary, db: str | Path) -> int:  # noqa: ANN001 - ProcessSummary, imported lazily
    """Print the run's summary; 1 when a video failed."""
    print_summary(summary, db)
    if summary.failed:
        print(f"error: {len(summary.failed)} video(s) failed (listed above); run the same command again to "
              "retry them", file=sys.stderr)
        return 1
    return 0
