"""Per-camera tracking: ultralytics' ByteTrack / BoT-SORT fed with our detections, turned into ``Tracklet``s.

``TrackletBuilder`` streams: per live track it keeps only the per-detection arrays (frame, time, box, score)
and the best ``k`` crops, scored by ``quality = score x size x sharpness``. ``finish()`` applies the quality
filters of ``TrackerConfig`` and returns tracklets without embeddings (the embedder fills them in).
"""

from __future__ import annotations

import heapq
import importlib.util
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from reid.config import ConfigError, TrackerConfig
from reid.errors import ReidError
from reid.video.detect import import_ultralytics
from reid.video.types import Crop, Detections, Frame, Tracklet

log = logging.getLogger(__name__)

# GMC (global motion compensation, sparse optical flow) costs tens of ms per frame and only helps moving
# cameras; CCTV is static. BoT-SORT's ReID needs a second network: off unless asked for.
BOTSORT_DEFAULTS = {"gmc_method": "none", "with_reid": False}
CROP_FULL_HEIGHT = 128  # crops this tall or taller get the full size factor (re-ID inputs are 256x128 / 128x64)
SHARPNESS_HALF = 100.0  # variance of the Laplacian (at 64 px height) that gives a sharpness factor of 0.5
SHARPNESS_HEIGHT = 64  # crops are measured for sharpness at this height, so the factor does not grow with size


class BoxesAdapter:
    """The part of ultralytics' ``Boxes`` its trackers read: ``conf``, ``cls``, ``xyxy``, ``xywh``, ``len``
    and boolean indexing. ``xyxy``: (N, 4) float32 pixels; ``conf``: (N,) float32; ``cls``: (N,) zeros."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray):
        self.xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        self.conf = np.asarray(conf, np.float32).reshape(-1)
        self.cls = np.zeros(len(self.conf), np.float32)

    @property
    def xywh(self) -> np.ndarray:
        """(N, 4) centre x, centre y, width, height."""
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> BoxesAdapter:
        return BoxesAdapter(self.xyxy[index], self.conf[index])


def tracker_settings(cfg: TrackerConfig) -> dict[str, Any]:
    """Ultralytics' YAML for ``cfg.kind`` (BoT-SORT: GMC and ReID off) with ``cfg.settings`` applied.

    Raises ``ConfigError`` for an unknown tracker kind or setting.
    """
    kinds = {"bytetrack": "bytetrack.yaml", "botsort": "botsort.yaml"}
    if cfg.kind not in kinds:
        raise ConfigError(f"tracker.kind: unknown {cfg.kind!r}; known: {', '.join(kinds)}")
    ultralytics = import_ultralytics()
    path = Path(str(ultralytics.__file__)).parent / "cfg" / "trackers" / kinds[cfg.kind]
    values: dict[str, Any] = yaml.safe_load(path.read_text())
    if cfg.kind == "botsort":
        values.update(BOTSORT_DEFAULTS)
    unknown = sorted(set(cfg.settings) - set(values))
    if unknown:
        known = ", ".join(k for k in values if k != "tracker_type")
        raise ConfigError(f"tracker.settings: unknown key(s) {', '.join(unknown)} for {cfg.kind}; known: {known}")
    values.update(cfg.settings)
    return values


def make_tracker(cfg: TrackerConfig, rate: float = 30.0) -> Any:
    """An ultralytics ``BYTETracker`` / ``BOTSORT``. ``track_buffer`` counts frames at 30 fps, as in ByteTrack
    (Zhang et al. 2022 scale it by ``frame_rate / 30``); ``rate`` is the rate frames are fed at."""
    if importlib.util.find_spec("lap") is None:  # ultralytics would try to pip-install it
        raise ReidError("tracking needs the 'lap' package (linear assignment): pip install 'lap>=0.5.12'")
    import_ultralytics()
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import IterableSimpleNamespace

    args = IterableSimpleNamespace(**tracker_settings(cfg))
    tracker = (BOTSORT if cfg.kind == "botsort" else BYTETracker)(args)
    tracker.max_frames_lost = max(1, round(args.track_buffer * rate / 30.0))
    return tracker


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a grayscale crop resized to ``SHARPNESS_HEIGHT`` rows (Pech-Pacheco 2000)."""
    h, w = gray.shape[:2]
    if h != SHARPNESS_HEIGHT:
        gray = cv2.resize(gray, (max(1, round(w * SHARPNESS_HEIGHT / h)), SHARPNESS_HEIGHT))
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


@dataclass
class _Track:
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    crops: list[tuple[float, int, Crop]] = field(default_factory=list)  # min-heap on quality


@dataclass
class _Obs:
    frame: int
    time: float
    box: np.ndarray
    score: float


class TrackletBuilder:
    """Tracks the people of one video of one camera and collects their tracklets.

    ``fps``: the video's frame rate; ``stride``: every how many frames ``update`` is called, so that the
    tracker's lost-track buffer spans the same time whatever the stride. Call ``update`` once per processed
    frame, in order, then ``finish``.
    """

    def __init__(self, camera: str, video: str, cfg: TrackerConfig, fps: float, stride: int = 1):
        self.camera, self.video, self.cfg = camera, video, cfg
        self.tracker = make_tracker(cfg, rate=fps / max(1, stride))
        self._tracks: dict[int, _Track] = {}
        self._pending: dict[int, tuple[_Obs, Crop | None]] = {}  # unconfirmed tracks' first detection
        self._tie = itertools.count()

    def _usable(self, box: np.ndarray, shape: tuple[int, ...]) -> bool:
        """False for a box within ``border_margin`` pixels of the frame border (a person cut by the edge)."""
        m = self.cfg.border_margin
        if m <= 0:
            return True
        h, w = shape[:2]
        return bool(box[0] >= m and box[1] >= m and box[2] <= w - m and box[3] <= h - m)

    def _crop(self, track: _Track | None, image: np.ndarray, obs: _Obs) -> Crop | None:
        """A crop of ``obs`` if its quality earns a place among the best k of ``track`` (None: no room)."""
        k = self.cfg.best_k
        if k <= 0:
            return None
        x1, y1, x2, y2 = (int(round(float(v))) for v in obs.box)
        x1, y1 = max(x1, 0), max(y1, 0)
        x2, y2 = min(x2, image.shape[1]), min(y2, image.shape[0])
        if x2 - x1 < 2 or y2 - y1 < 2:
            return None
        bound = obs.score * min(1.0, (y2 - y1) / CROP_FULL_HEIGHT)  # quality without sharpness (a factor <= 1)
        if track is not None and len(track.crops) >= k and bound <= track.crops[0][0]:
            return None  # cannot beat the worst kept crop: skip the copy and the Laplacian
        region = image[y1:y2, x1:x2]
        s = sharpness(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY))
        return Crop(obs.frame, region.copy(), bound * s / (s + SHARPNESS_HALF))

    def _keep(self, track: _Track, crop: Crop | None) -> None:
        if crop is None:
            return
        item = (crop.quality, next(self._tie), crop)
        if len(track.crops) < self.cfg.best_k:
            heapq.heappush(track.crops, item)
        elif item[0] > track.crops[0][0]:
            heapq.heapreplace(track.crops, item)

    def _add(self, track_id: int, obs: _Obs, crop: Crop | None) -> None:
        track = self._tracks.setdefault(track_id, _Track())
        track.frames.append(obs.frame)
        track.times.append(obs.time)
        track.boxes.append(obs.box)
        track.scores.append(obs.score)
        self._keep(track, crop)

    def update(self, frame: Frame, dets: Detections) -> np.ndarray:
        """Feed one frame's detections. Returns (N,) int64 track ids aligned with ``dets`` (-1: not tracked)."""
        out = self.tracker.update(BoxesAdapter(dets.boxes, dets.scores), frame.image)
        ids = np.full(len(dets), -1, np.int64)
        for row in np.asarray(out).reshape(-1, 8):
            track_id, idx = int(row[4]), int(row[7])
            ids[idx] = track_id
            obs = _Obs(frame.index, frame.time, dets.boxes[idx].astype(np.float32), float(dets.scores[idx]))
            if track_id not in self._tracks and track_id in self._pending:
                first, first_crop = self._pending[track_id]  # a track is confirmed on its second detection
                self._add(track_id, first, first_crop)
            if self._usable(obs.box, frame.image.shape):
                self._add(track_id, obs, self._crop(self._tracks.get(track_id), frame.image, obs))
        self._pending = {}
        for strack in self.tracker.tracked_stracks:
            if not strack.is_activated and strack.frame_id == self.tracker.frame_id:
                idx = int(strack.idx)
                obs = _Obs(frame.index, frame.time, dets.boxes[idx].astype(np.float32), float(dets.scores[idx]))
                if self._usable(obs.box, frame.image.shape):
                    self._pending[int(strack.track_id)] = (obs, self._crop(None, frame.image, obs))
        return ids

    def finish(self) -> list[Tracklet]:
        """Tracklets that pass the filters (at least ``min_length`` detections, median box height at least
        ``min_box_height``), ordered by first frame; crops best first. The builder is empty afterwards."""
        tracklets = []
        for track_id, t in self._tracks.items():
            if len(t.frames) < max(1, self.cfg.min_length):
                continue
            boxes = np.stack(t.boxes).astype(np.float32)
            if float(np.median(boxes[:, 3] - boxes[:, 1])) < self.cfg.min_box_height:
                continue
            crops = [c for _, _, c in sorted(t.crops, key=lambda item: (-item[0], item[1]))]
            tracklets.append(
                Tracklet(
                    self.camera, self.video, track_id, np.asarray(t.frames, np.int64), np.asarray(t.times, np.float64),
                    boxes, np.asarray(t.scores, np.float32), crops,
                )  # fmt: skip
            )
        log.debug("%s: %d tracks, %d tracklets kept", self.video, len(self._tracks), len(tracklets))
        self._tracks, self._pending = {}, {}
        return sorted(tracklets, key=lambda tr: (int(tr.frames[0]), tr.track_id))
