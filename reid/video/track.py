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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from reid.config import ConfigError, TrackerConfig
from reid.errors import ReidError
from reid.registry import Registry
from reid.video.detect import import_ultralytics
from reid.video.split import signature, split_points
from reid.video.types import Crop, Detections, Frame, Tracklet

log = logging.getLogger(__name__)

# GMC (global motion compensation, sparse optical flow) costs tens of ms per frame and only helps moving
# cameras; CCTV is static. BoT-SORT's ReID needs a second network: off unless asked for.
BOTSORT_DEFAULTS = {"gmc_method": "none", "with_reid": False}
CROP_FULL_HEIGHT = 128  # crops this tall or taller get the full size factor (re-ID inputs are 256x128 / 128x64)
SHARPNESS_HALF = 100.0  # variance of the Laplacian (at 64 px height) that gives a sharpness factor of 0.5
SHARPNESS_HEIGHT = 64  # crops are measured for sharpness at this height, so the factor does not grow with size
# A crop cut by the frame border or covered by another person shows part of a body, or two: its quality is
# scaled by this, so it is kept (and weighs in the tracklet's embedding) only when no clean crop is there.
UNCLEAN_FACTOR = 0.01
SPLIT_ID_STEP = 1_000_000  # part k of a track cut at identity switches gets track id + k * this
BORDER_PX = 2  # a box this close to the frame border is cut by it
OCCLUDED_SHARE = 0.2  # a box whose area is covered this much by another detection is occluded


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


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker of ultralytics: its settings file (``ultralytics/cfg/trackers/<yaml>``), what we change in it, and
    ``build(settings namespace) -> tracker`` (imports ultralytics' class when called)."""

    yaml: str
    defaults: Mapping[str, Any]
    build: Callable[[Any], Any]


TRACKERS: Registry[TrackerSpec] = Registry("tracker")  # tracker.kind


def _bytetrack(settings: Any) -> Any:
    from ultralytics.trackers.byte_tracker import BYTETracker

    return BYTETracker(settings)


def _botsort(settings: Any) -> Any:
    from ultralytics.trackers.bot_sort import BOTSORT

    return BOTSORT(settings)


TRACKERS.add("bytetrack", TrackerSpec("bytetrack.yaml", {}, _bytetrack))
TRACKERS.add("botsort", TrackerSpec("botsort.yaml", BOTSORT_DEFAULTS, _botsort))


def tracker_settings(cfg: TrackerConfig) -> dict[str, Any]:
    """Ultralytics' YAML for ``cfg.kind`` (BoT-SORT: GMC and ReID off) with ``cfg.settings`` applied.

    Raises ``UnknownNameError`` for an unknown tracker kind (listing ``TRACKERS``), ``ConfigError`` for an
    unknown setting.
    """
    spec = TRACKERS.get(cfg.kind)
    ultralytics = import_ultralytics()
    path = Path(str(ultralytics.__file__)).parent / "cfg" / "trackers" / spec.yaml
    values: dict[str, Any] = yaml.safe_load(path.read_text())
    values.update(spec.defaults)
    unknown = sorted(set(cfg.settings) - set(values))
    if unknown:
        known = ", ".join(k for k in values if k != "tracker_type")
        raise ConfigError(f"tracker.settings: unknown key(s) {', '.join(unknown)} for {cfg.kind}; known: {known}")
    values.update(cfg.settings)
    return values


def make_tracker(cfg: TrackerConfig, rate: float = 30.0) -> Any:
    """An ultralytics ``BYTETracker`` / ``BOTSORT``. ``track_buffer`` counts frames at 30 fps, as in ByteTrack
    (Zhang et al. 2022 scale it by ``frame_rate / 30``); ``rate`` is the rate frames are fed at.

    Everything goes in through the settings namespace the tracker reads at construction, nothing is patched
    into the tracker afterwards (its lost-track attribute was renamed between ultralytics versions, which
    silently undid such a patch): the buffer is scaled to ``rate`` before the tracker sees it.
    """
    if importlib.util.find_spec("lap") is None:  # ultralytics would try to pip-install it
        raise ReidError("tracking needs the 'lap' package (linear assignment): pip install 'lap>=0.5.12'")
    import_ultralytics()
    from ultralytics.utils import IterableSimpleNamespace

    settings = tracker_settings(cfg)
    settings["track_buffer"] = lost_track_frames(settings["track_buffer"], rate)
    return TRACKERS.get(cfg.kind).build(IterableSimpleNamespace(**settings))


def lost_track_frames(track_buffer: float, rate: float) -> int:
    """Frames fed at ``rate`` per second that a lost track is kept for: ``track_buffer`` frames at 30 fps."""
    return max(1, round(track_buffer * rate / 30.0))


def clean_boxes(boxes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(N,) bool: boxes (N, 4 xyxy) neither cut by the border of a frame of ``shape`` nor covered by another box
    by ``OCCLUDED_SHARE`` of their area."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    h, w = shape[:2]
    inside = ((boxes[:, 0] > BORDER_PX) & (boxes[:, 1] > BORDER_PX)
              & (boxes[:, 2] < w - BORDER_PX) & (boxes[:, 3] < h - BORDER_PX))
    if len(boxes) < 2:
        return inside
    lt = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    np.fill_diagonal(inter, 0.0)
    area = np.clip(boxes[:, 2:] - boxes[:, :2], 1e-9, None).prod(-1)
    return inside & (inter.max(1) / area < OCCLUDED_SHARE)


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
    signatures: list[np.ndarray] = field(default_factory=list)  # per detection, for identity-switch cuts
    crops: list[tuple[float, int, Crop]] = field(default_factory=list)  # min-heap on quality


@dataclass
class _Obs:
    frame: int
    time: float
    box: np.ndarray
    score: float
    signature: np.ndarray | None = None


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

    def _crop(self, track: _Track | None, image: np.ndarray, obs: _Obs, clean: bool = True) -> Crop | None:
        """A crop of ``obs`` if its quality earns a place among the best k of ``track`` (None: no room);
        ``clean=False`` (cut by the border or occluded) scales its quality by ``UNCLEAN_FACTOR``."""
        k = self.cfg.best_k
        if k <= 0:
            return None
        x1, y1, x2, y2 = (int(round(float(v))) for v in obs.box)
        x1, y1 = max(x1, 0), max(y1, 0)
        x2, y2 = min(x2, image.shape[1]), min(y2, image.shape[0])
        if x2 - x1 < 2 or y2 - y1 < 2:
            return None
        bound = obs.score * min(1.0, (y2 - y1) / CROP_FULL_HEIGHT)  # quality without sharpness (a factor <= 1)
        bound *= 1.0 if clean else UNCLEAN_FACTOR
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
        track.signatures.append(obs.signature if obs.signature is not None else np.full(6, np.nan, np.float32))
        self._keep(track, crop)

    def _obs(self, frame: Frame, dets: Detections, idx: int) -> _Obs:
        box = dets.boxes[idx].astype(np.float32)
        sig = signature(frame.image, box) if self.cfg.split_switches else None
        return _Obs(frame.index, frame.time, box, float(dets.scores[idx]), sig)

    def update(self, frame: Frame, dets: Detections) -> np.ndarray:
        """Feed one frame's detections. Returns (N,) int64 track ids aligned with ``dets`` (-1: not tracked)."""
        out = self.tracker.update(BoxesAdapter(dets.boxes, dets.scores), frame.image)
        ids = np.full(len(dets), -1, np.int64)
        clean = clean_boxes(dets.boxes, frame.image.shape) if self.cfg.clean_crops else np.ones(len(dets), bool)
        for row in np.asarray(out).reshape(-1, 8):
            track_id, idx = int(row[4]), int(row[7])
            ids[idx] = track_id
            obs = self._obs(frame, dets, idx)
            if track_id not in self._tracks and track_id in self._pending:
                first, first_crop = self._pending[track_id]  # a track is confirmed on its second detection
                self._add(track_id, first, first_crop)
            if self._usable(obs.box, frame.image.shape):
                self._add(track_id, obs, self._crop(self._tracks.get(track_id), frame.image, obs, bool(clean[idx])))
        self._pending = {}
        for strack in self.tracker.tracked_stracks:
            if not strack.is_activated and strack.frame_id == self.tracker.frame_id:
                idx = int(strack.idx)
                obs = self._obs(frame, dets, idx)
                if self._usable(obs.box, frame.image.shape):
                    self._pending[int(strack.track_id)] = (obs, self._crop(None, frame.image, obs, bool(clean[idx])))
        return ids

    def _tracklet(self, track_id: int, t: _Track, a: int, b: int) -> Tracklet | None:
        """Detections ``a:b`` of track ``t`` as a tracklet with their crops, or None if it fails the filters."""
        if b - a < max(1, self.cfg.min_length):
            return None
        boxes = np.stack(t.boxes[a:b]).astype(np.float32)
        if float(np.median(boxes[:, 3] - boxes[:, 1])) < self.cfg.min_box_height:
            return None
        first, last = t.frames[a], t.frames[b - 1]
        crops = [c for _, _, c in sorted(t.crops, key=lambda item: (-item[0], item[1])) if first <= c.frame <= last]
        return Tracklet(
            self.camera, self.video, track_id, np.asarray(t.frames[a:b], np.int64),
            np.asarray(t.times[a:b], np.float64), boxes, np.asarray(t.scores[a:b], np.float32), crops,
        )  # fmt: skip

    def finish(self) -> list[Tracklet]:
        """Tracklets that pass the filters (at least ``min_length`` detections, median box height at least
        ``min_box_height``), ordered by first frame; crops best first. The builder is empty afterwards."""
        tracklets = []
        for track_id, t in self._tracks.items():
            cuts = split_points(np.stack(t.signatures)) if self.cfg.split_switches and t.signatures else []
            bounds = [0, *cuts, len(t.frames)]
            for part, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
                tracklet = self._tracklet(track_id + SPLIT_ID_STEP * part, t, a, b)
                if tracklet is not None:
                    tracklets.append(tracklet)
            if cuts:
                log.debug("%s: track %d cut at detections %s (appearance jumps)", self.video, track_id, cuts)
        log.debug("%s: %d tracks, %d tracklets kept", self.video, len(self._tracks), len(tracklets))
        self._tracks, self._pending = {}, {}
        return sorted(tracklets, key=lambda tr: (int(tr.frames[0]), tr.track_id))
