"""What a rendered scene is: its files (manifest, videos, ground truth, detector-like boxes) and its plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reid.data.scenes.walks import Walk


@dataclass(frozen=True)
class Visit:
    """Person ``person`` (1-based) crossing camera ``camera``: enters at ``t_enter`` (s) from the left
    (``direction`` +1) or right (-1) with feet at ``feet`` (fraction of frame height), at ``speed``."""

    person: int
    camera: str
    t_enter: float
    direction: int
    feet: float
    speed: float


@dataclass(frozen=True)
class Scene:
    """A rendered scene's files (paths in its output folder) and plan."""

    manifest: Path
    videos: dict[str, Path]
    gt: dict[str, Path]
    visits: tuple[Visit, ...]  # the easy scene's plan (empty for the hard scene)
    walks: tuple[Walk, ...] = ()  # the hard scene's plan (empty for the easy scene)
    detections: dict[str, Path] = field(default_factory=dict)  # hard scene: detector-like boxes per camera
