"""What a ``reid process`` run did: one ``VideoResult`` per file and the ``ProcessSummary`` the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid.link.calibrate import Calibration
from reid.video.stages import StageTimes


@dataclass
class VideoResult:
    """What happened to one video file."""

    camera: str
    path: str
    frames: int = 0
    tracklets: int = 0
    bad_frames: int = 0
    skipped: bool = False
    times: StageTimes = field(default_factory=StageTimes)
    detector: str = ""
    error: str = ""  # one line; set when the file failed (Ray runs report failures and go on)


@dataclass
class ProcessSummary:
    """Outcome of ``run_pipeline``: per-video results, the linking result and the run's components.

    ``force``: the run redid finished videos, so a failed one keeps its earlier version in the database.
    """

    db: str
    detector: str
    embedder: str
    videos: list[VideoResult]
    tracklets_per_camera: dict[str, int]
    identities: int
    cross_camera_identities: int
    links: int
    link_seconds: float
    seconds: float
    force: bool = False
    link_threshold: str = ""  # the distance used and what it rests on (``Calibration.describe``)
    calibration: Calibration | None = None  # the threshold the link step resolved and used

    @property
    def failed(self) -> list[VideoResult]:
        return [v for v in self.videos if v.error]

    def report(self) -> str:
        done = [v for v in self.videos if not v.skipped and not v.error]
        frames = sum(v.frames for v in done)
        busy = sum(v.times.total for v in done)
        lines = [
            f"detector: {self.detector}; embedder: {self.embedder}",
            f"videos: {len(done)} processed, {len(self.videos) - len(done)} already done (skipped); "
            f"{frames} frames in {self.seconds:.1f} s wall ({frames / max(busy, 1e-9):.1f} frames/s per worker)",
        ]
        lines += [f"  {cam}: {n} tracklets" for cam, n in sorted(self.tracklets_per_camera.items())]
        if self.failed:
            why = ("any earlier version stays in the database; re-run with --force to retry them" if self.force
                   else "not in the database; re-run to retry them")
            lines.append(f"{len(self.failed)} video(s) FAILED ({why}):")
            lines += [f"  {v.camera}: {v.path}: {v.error}" for v in self.failed]
        bad = sum(v.bad_frames for v in self.videos)
        if bad:
            lines.append(f"  {bad} undecodable frames skipped")
        lines.append(
            f"identities: {self.identities} ({self.cross_camera_identities} seen by more than one camera, "
            f"{self.links} cross-camera links proposed, linking {self.link_seconds:.2f} s)"
        )
        if self.link_threshold:
            lines.append(f"link threshold: {self.link_threshold}")
        if done:
            total = StageTimes.sum(v.times for v in done)
            lines.append("time per stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in total.stages().items()))
        return "\n".join(lines)
