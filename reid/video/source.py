"""Decoded frames of one camera, file after file, with times comparable across cameras.

``probe(path)`` checks a file up front (exists, not empty, OpenCV opens it and decodes a first frame) and reads
its fps, frame count and size. ``VideoSource`` probes every file of a camera when built, then yields ``Frame``s
decoded in a background thread (a bounded queue of ``prefetch`` frames), so decoding overlaps detection.
The pipeline commits each file as one transaction, so files can also be iterated one at a time:

    source = VideoSource("left", ["left_0900.mp4", "left_1000.mp4"], start_time=0.0, stride=2)
    for info in source.files():
        for frame in source.iter_file(info):
            ...

Frame times are ``file start + index / fps`` where a file starts where the previous one ended (or at the start
time given for it), so one time axis is shared by all the files of a camera and, through the start times, by
all cameras.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from reid.errors import VideoError
from reid.video.types import Frame

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0  # assumed when a container reports no frame rate (PAL rate, the common CCTV default)
MAX_BAD_RUN = 25  # consecutive failed grabs after which a file is taken to end early (truncated)


@dataclass
class VideoInfo:
    """One video file. ``frames`` as reported by the container (counted when it reports none).

    ``start_time``: seconds of frame 0 on the camera's time axis. ``frames_read`` and ``bad_frames`` (frames that
    failed to decode in the middle of the file and were skipped) are filled in while the file is iterated.
    """

    path: str
    fps: float
    frames: int
    width: int
    height: int
    start_time: float = 0.0
    frames_read: int = 0
    bad_frames: int = 0

    @property
    def duration(self) -> float:
        """Length in seconds, ``frames / fps``."""
        return self.frames / self.fps


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` used here (tests substitute fakes)."""

    def grab(self) -> bool: ...

    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


def open_capture(path: str) -> Any:
    """Open ``path`` with OpenCV (any backend). Module-level so tests can substitute a fake capture."""
    return cv2.VideoCapture(path)


def probe(path: str | Path) -> VideoInfo:
    """Check that ``path`` is a readable video and read its fps, frame count and size.

    Raises ``VideoError("PATH: problem")`` for a missing, empty (0 bytes), unreadable or corrupt file (one that
    opens but yields no frame). A frame rate of 0 or NaN is replaced by 25 fps with a warning.
    """
    p = Path(path)
    if not p.exists():
        raise VideoError(f"{p}: file not found")
    if not p.is_file():
        raise VideoError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise VideoError(f"{p}: empty file (0 bytes)")
    try:
        with p.open("rb"):
            pass
    except OSError as exc:
        raise VideoError(f"{p}: cannot be read ({exc.strerror})") from None
    try:
        cap = open_capture(str(p))
    except cv2.error as exc:
        raise VideoError(f"{p}: OpenCV cannot open it ({str(exc).strip().splitlines()[-1]})") from None
    try:
        if not cap.isOpened():
            raise VideoError(f"{p}: OpenCV cannot open it as a video (unknown format or codec)")
        try:
            ok, image = cap.read()
        except cv2.error as exc:
            raise VideoError(f"{p}: decoding the first frame failed ({str(exc).strip().splitlines()[-1]})") from None
        if not ok or image is None:
            raise VideoError(f"{p}: opens but no frame can be decoded (corrupt, or not a video)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not math.isfinite(fps) or fps <= 0:
            log.warning("%s: the file reports no frame rate; assuming %g fps", p, DEFAULT_FPS)
            fps = DEFAULT_FPS
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if frames <= 0:  # streams without an index (raw MJPEG, some .ts): count by grabbing, which does not decode
            frames = 1
            while cap.grab():
                frames += 1
        height, width = image.shape[:2]
    finally:
        cap.release()
    return VideoInfo(str(p), fps, frames, int(width), int(height))


def decode(cap: Capture, info: VideoInfo, stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, image)`` for every ``stride``-th frame of an opened capture; skipped frames are only grabbed.

    A grab that fails before the reported end is a bad frame: it is skipped (the index still advances) and
    counted in ``info.bad_frames`` once a later frame decodes again; after ``MAX_BAD_RUN`` failures in a row the
    file is taken as truncated and iteration ends. ``info.frames_read`` counts the frames yielded.
    """
    index = 0
    failed = 0  # current run of failed grabs
    while True:
        ok = cap.grab()
        image = None
        if ok and index % stride == 0:
            ok, image = cap.retrieve()
            ok = ok and image is not None
        if not ok:
            if index >= info.frames or failed >= MAX_BAD_RUN:
                break
            failed += 1
            index += 1
            continue
        if failed:
            info.bad_frames += failed
            log.warning("%s: skipped %d undecodable frame(s) before frame %d", info.path, failed, index)
            failed = 0
        if image is not None:
            info.frames_read += 1
            yield index, image
        index += 1
    if index - failed < info.frames - 1:
        log.warning("%s: decoding ended at frame %d of %d reported (truncated file?)", info.path, index - failed, info.frames)


class _End:
    pass


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(produce: Callable[[], Iterator[Any]], size: int, name: str) -> Iterator[Any]:
    """Run the iterator ``produce()`` in a background thread, ``size`` items ahead; re-raises its exceptions.

    Closing the returned generator early (``break``) stops and joins the thread.
    """
    items: queue.Queue[Any] = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        source = produce()
        try:
            for item in source:
                if not put(item):
                    return
            put(_End())
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # releases the capture in this thread, at once

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


class VideoSource:
    """The frames of one camera's video files, in order.

    ``paths``: the camera's files in time order. ``start_time``: seconds of the first file's first frame (each
    later file starts where the one before ends), or one start time per file. ``stride``: yield every n-th frame
    of each file (frames 0, n, 2n, ... of every file; the others are grabbed, not decoded). ``prefetch``: frames
    decoded ahead in a background thread (0 decodes in the calling thread). Every file is probed here, so a bad
    file raises ``VideoError`` before any work starts.
    """

    def __init__(
        self,
        camera: str,
        paths: Sequence[str | Path],
        start_time: float | Sequence[float] = 0.0,
        stride: int = 1,
        prefetch: int = 8,
    ):
        if not paths:
            raise VideoError(f"camera {camera!r}: no video files given")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        starts: list[float] | None = None
        t = 0.0
        if isinstance(start_time, int | float):
            t = float(start_time)
        else:
            starts = [float(s) for s in start_time]
            if len(starts) != len(paths):
                raise ValueError(f"camera {camera!r}: {len(starts)} start times for {len(paths)} files")
        self.camera = camera
        self.stride = stride
        self.prefetch = prefetch
        self._infos: list[VideoInfo] = []
        for i, path in enumerate(paths):
            info = probe(path)
            info.start_time = starts[i] if starts is not None else t
            t = info.start_time + info.duration
            self._infos.append(info)

    def files(self) -> list[VideoInfo]:
        """The probed files in order (the same objects whose counters iteration fills in)."""
        return list(self._infos)

    def num_frames(self) -> int:
        """How many frames iteration yields (from the reported frame counts and the stride)."""
        return sum(-(-info.frames // self.stride) for info in self._infos)

    def _frames(self, info: VideoInfo) -> Iterator[Frame]:
        cap = open_capture(info.path)
        try:
            if not cap.isOpened():
                raise VideoError(f"{info.path}: OpenCV cannot open it any more")
            info.frames_read = info.bad_frames = 0
            for index, image in decode(cap, info, self.stride):
                yield Frame(self.camera, info.path, index, info.start_time + index / info.fps, image)
        finally:
            cap.release()

    def iter_file(self, info: VideoInfo) -> Iterator[Frame]:
        """Yield the frames of one file (one of ``files()``), decoded ``prefetch`` frames ahead."""
        if self.prefetch == 0:
            return self._frames(info)
        return prefetch(lambda: self._frames(info), self.prefetch, f"decode-{self.camera}")

    def __iter__(self) -> Iterator[Frame]:
        for info in self._infos:
            yield from self.iter_file(info)
