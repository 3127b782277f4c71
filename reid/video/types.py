"""Plain data passed between the video stages. Boxes are ``xyxy`` pixels in the source frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reid.store.rows import TrackletRecord
from reid.video.thumbnails import encode_thumbnail


@dataclass
class Frame:
    """One decoded frame. ``image``: (H, W, 3) uint8 BGR; ``time``: seconds, comparable across cameras."""

    camera: str
    video: str
    index: int  # frame number within the video file
    time: float
    image: np.ndarray


@dataclass
class Detections:
    """Person detections of one frame. ``boxes``: (N, 4) float32 xyxy; ``scores``: (N,) float32."""

    boxes: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.scores)


@dataclass
class Crop:
    """A person crop kept for embedding and thumbnails. ``image``: (h, w, 3) uint8 BGR."""

    frame: int
    image: np.ndarray
    quality: float  # higher is better (score x size x sharpness)


@dataclass
class Tracklet:
    """One person's track within one video of one camera.

    ``frames``: (n,) int frame numbers; ``times``: (n,) seconds; ``boxes``: (n, 4) float32 xyxy;
    ``scores``: (n,) float32; ``crops``: best-k crops; ``embedding``: (D,) float32 L2-normalised or None.
    """

    camera: str
    video: str
    track_id: int
    frames: np.ndarray
    times: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    crops: list[Crop] = field(default_factory=list)
    embedding: np.ndarray | None = None

    @property
    def first_time(self) -> float:
        return float(self.times[0])

    @property
    def last_time(self) -> float:
        return float(self.times[-1])

    def record(self) -> TrackletRecord:
        """What the store writes for this tracklet: its arrays, embedding, best crop quality and the crops
        JPEG-encoded, best first. Raises ``ValueError`` naming the track for a crop that cannot be encoded."""
        crops = sorted(self.crops, key=lambda c: -c.quality)
        try:
            thumbs = tuple((int(c.frame), encode_thumbnail(c.image)) for c in crops)
        except ValueError as exc:
            raise ValueError(f"{self.video}: tracklet {self.track_id}: {exc}") from None
        return TrackletRecord(
            self.track_id, self.frames, self.times, self.boxes, self.scores, self.embedding,
            quality=max((c.quality for c in crops), default=0.0), thumbnails=thumbs,
        )
