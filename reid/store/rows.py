"""Frozen row types the store hands out (and the few it takes in). Times are seconds, comparable across
cameras; boxes are ``xyxy`` pixels in the source frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class VideoRecord:
    """A processed video file, given to ``Store.commit_video`` with its tracklets."""

    camera: str
    path: str
    fps: float
    frames: int
    width: int
    height: int
    offset_s: float = 0.0  # start of this file on the camera's clock
    bad_frames: int = 0
    detector: str = ""
    embedder: str = ""


@dataclass(frozen=True)
class TrackletRecord:
    """One tracklet as ``Store.commit_video`` writes it (its camera and video are the ``VideoRecord``'s).

    ``frames``: (n,) int frame numbers; ``times``: (n,) seconds; ``boxes``: (n, 4) xyxy pixels; ``scores``:
    (n,); ``embedding``: (D,) float32 L2-normalised or None; ``quality``: the best crop's quality (0 without
    crops); ``thumbnails``: ``(frame, JPEG bytes)`` pairs, best first (encoded by the video stage).
    """

    track_id: int
    frames: np.ndarray
    times: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    embedding: np.ndarray | None = None
    quality: float = 0.0
    thumbnails: tuple[tuple[int, bytes], ...] = ()


class RecordSource(Protocol):
    """Anything that gives the ``TrackletRecord`` to write (the pipeline's ``Tracklet`` does): lets callers
    hand ``Store.commit_video`` their own objects while the store imports nothing of theirs."""

    def record(self) -> TrackletRecord: ...


@dataclass(frozen=True)
class LinkProposal:
    """One tracklet of a linker group. ``cost``: link distance to the rest of the group (None for the
    group's anchor); ``confidence``: 0..1, higher is surer; ``reason``: why the linker proposed it, for the
    reviewer (e.g. "appearance 0.41, transit 1.2 s, zone right→left"), None when it gives none."""

    tracklet_id: int
    cost: float | None = None
    confidence: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LinkConstraints:
    """What the linker must respect. ``must_link``: groups of tracklet ids a reviewer confirmed together;
    ``cannot_link``: pairs ``(a, b)`` with ``a < b`` that must never share an identity."""

    must_link: list[tuple[int, ...]] = field(default_factory=list)
    cannot_link: set[tuple[int, int]] = field(default_factory=set)


@dataclass(frozen=True)
class TrackMotion:
    """How a tracklet moves at its two ends, for stitching a lost track back together: velocities of the feet
    (fractions of the frame width / height per second, fitted over the first / last second of boxes; 0 when
    one box), box heights (fractions of the frame height) and the frame's width / height."""

    entry_velocity: tuple[float, float]
    exit_velocity: tuple[float, float]
    entry_height: float
    exit_height: float
    aspect: float


@dataclass(frozen=True)
class TrackletFeature:
    """A tracklet as the cross-camera linker sees it. ``embedding``: (D,) float32, L2-normalised; ``entry`` /
    ``exit``: where it enters and leaves the view, the bottom centre (feet) of its first / last box as
    fractions ``(x, y)`` of the frame width and height (None when unknown); ``motion``: see ``TrackMotion``."""

    id: int
    camera: str
    video_id: int
    track_id: int
    first_time: float
    last_time: float
    embedding: np.ndarray
    entry: tuple[float, float] | None = None
    exit: tuple[float, float] | None = None
    motion: TrackMotion | None = None


@dataclass(frozen=True)
class CameraRow:
    id: int
    name: str
    start_time: float
    n_videos: int
    n_tracklets: int


@dataclass(frozen=True)
class VideoRow:
    id: int
    camera: str
    path: str
    fps: float
    frames: int
    width: int
    height: int
    offset_s: float
    bad_frames: int


@dataclass(frozen=True)
class IdentitySummary:
    """One active identity. ``status``: 'unreviewed' (no confirmed member), 'reviewed' (all confirmed),
    else 'partly reviewed'; ``weakest_cost``: the largest member link cost, None when no member has one."""

    id: int
    name: str
    note: str
    cameras: tuple[str, ...]
    n_tracklets: int
    first_time: float
    last_time: float
    status: str
    weakest_cost: float | None
    n_confirmed: int


@dataclass(frozen=True)
class TrackletRow:
    """A tracklet with its membership. ``identity_id``/``cost``/``confidence``/``state``/``reason`` are None
    for a tracklet not yet linked; ``state`` is 'proposed' or 'confirmed'; ``reason``: the linker's
    ``LinkProposal.reason`` (None when it gave none, and after a review edit moved the tracklet)."""

    id: int
    camera: str
    video_path: str
    video_id: int
    track_id: int
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    n_detections: int
    identity_id: int | None
    cost: float | None
    confidence: float | None
    state: str | None
    reason: str | None = None


@dataclass(frozen=True)
class DetectionRow:
    frame: int
    time: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float


@dataclass(frozen=True)
class ReviewLogRow:
    """One review edit. ``undone``: reverted by ``Store.undo`` (and redoable); ``undoable``: still inside the
    current undo history (a relink or a re-committed video starts a new one)."""

    id: int
    ts: str
    action: str
    description: str
    undone: bool
    undoable: bool
