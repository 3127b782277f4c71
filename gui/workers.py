"""Work that must not run on the GUI thread: database queries, thumbnail and video-frame decoding.

Each worker is a ``QThread`` that owns its own read-only ``reid.store.Store`` (SQLite connections belong to
the thread that opened them; WAL lets these readers run beside the GUI's writer). Results come back as
queued signals, so slots run on the GUI thread. ``QImage`` is built in the worker (it is thread-safe);
``QPixmap`` only on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QThread, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from gui.jobs import Job

log = logging.getLogger(__name__)


class _JobThread(QThread):
    """Runs submitted jobs one at a time against a store opened in this thread (read-only unless
    ``readonly=False``: the relink of a review decision writes).

    ``lifo=True`` serves the newest request first (thumbnails: what the user looks at now).
    """

    job_done = Signal(int, object)  # job id, result
    job_failed = Signal(int, str)  # job id, message

    def __init__(self, db_path: Path, lifo: bool = False, max_pending: int = 0, readonly: bool = True) -> None:
        super().__init__()
        self._db_path = db_path
        self._readonly = readonly
        self._lifo = lifo
        self._max_pending = max_pending
        self._jobs: list[tuple[int, Job]] = []
        self._cond = threading.Condition()
        self._stopping = False

    def submit(self, job_id: int, job: Job) -> list[int]:
        """Queue a job; returns the ids of jobs dropped because the queue was full (oldest first)."""
        dropped: list[int] = []
        with self._cond:
            self._jobs.append((job_id, job))
            if self._max_pending and len(self._jobs) > self._max_pending:
                n = len(self._jobs) - self._max_pending
                dropped = [j for j, _ in self._jobs[:n]]
                del self._jobs[:n]
            self._cond.notify()
        return dropped

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify()
        self.wait()

    def run(self) -> None:
        from reid.store import Store

        store = None
        try:
            while True:
                with self._cond:
                    while not self._jobs and not self._stopping:
                        self._cond.wait()
                    if self._stopping:
                        return
                    job_id, job = self._jobs.pop() if self._lifo else self._jobs.pop(0)
                try:
                    if store is None:
                        store = Store(self._db_path, readonly=self._readonly)
                    result = job(store)
                except Exception as exc:  # reported to the GUI, never lost in a thread
                    log.debug("job %d failed", job_id, exc_info=True)
                    self.job_failed.emit(job_id, str(exc) or exc.__class__.__name__)
                else:
                    self.job_done.emit(job_id, result)
        finally:
            if store is not None:
                store.close()


class QueryRunner(QObject):
    """Runs database queries off the GUI thread: ``submit(job, on_done, on_error)``.

    ``job(store)`` runs in the worker; ``on_done(result)`` / ``on_error(message)`` run on the GUI thread.
    ``idle`` is emitted when no job is pending (tests and ``--screenshot`` wait on it). The worker's store is
    read-only unless ``readonly=False`` (``gui.edits`` relinks a decision's component in one).
    """

    idle = Signal()

    def __init__(self, db_path: Path, lifo: bool = False, max_pending: int = 0,
                 parent: QObject | None = None, readonly: bool = True) -> None:
        super().__init__(parent)
        self._thread = _JobThread(db_path, lifo=lifo, max_pending=max_pending, readonly=readonly)
        self._thread.job_done.connect(self._on_done)
        self._thread.job_failed.connect(self._on_failed)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[str], None] | None,
                                         Callable[[], None] | None]] = {}
        self._next_id = 0
        self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def submit(self, job: Job, on_done: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None,
               on_dropped: Callable[[], None] | None = None) -> int:
        """Queue ``job``; ``on_dropped`` runs if a full queue discards it before it ran."""
        self._next_id += 1
        self._callbacks[self._next_id] = (on_done, on_error, on_dropped)
        for dropped in self._thread.submit(self._next_id, job):
            callbacks = self._callbacks.pop(dropped, None)
            if callbacks is not None and callbacks[2] is not None:
                callbacks[2]()
        return self._next_id

    def stop(self) -> None:
        self._callbacks.clear()
        self._thread.stop()

    def _on_done(self, job_id: int, result: object) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if callbacks is not None:
            callbacks[0](result)
        if not self._callbacks:
            self.idle.emit()

    def _on_failed(self, job_id: int, message: str) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if callbacks is not None:
            if callbacks[1] is not None:
                callbacks[1](message)
            else:
                log.warning("query failed: %s", message)
        if not self._callbacks:
            self.idle.emit()


# ---------------------------------------------------------------------------------------------- thumbnails


def decode_jpeg(data: bytes, height: int) -> QImage:
    """JPEG bytes -> RGB ``QImage`` scaled to ``height`` pixels (aspect kept). Safe in any thread."""
    image = QImage.fromData(data, "JPEG")
    if image.isNull():
        return image
    return image.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)


def _load_thumbnails(tracklet_id: int, limit: int, height: int) -> Job:
    def job(store: Any) -> list[QImage]:
        return [decode_jpeg(jpeg, height) for _, jpeg in store.thumbnails(tracklet_id, limit=limit)]

    return job


class ThumbnailCache(QObject):
    """Thumbnails of tracklets, decoded in a worker thread, kept in an LRU cache of ``QPixmap`` strips.

    ``strip(id)`` and ``best(id)`` return a pixmap at once: the cached one, or a grey placeholder while the
    worker decodes (``ready(id)`` tells when to repaint). The newest requests are served first, so scrolling
    never waits on rows that went out of view.
    """

    ready = Signal(int)  # tracklet id

    def __init__(self, db_path: Path, per_tracklet: int = 5, height: int = 96, capacity: int = 600,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.per_tracklet = per_tracklet
        self.height = height
        self.capacity = capacity  # tracklets kept; ~5 x 48x96 RGB32 pixmaps each (~100 kB)
        self._runner = QueryRunner(db_path, lifo=True, max_pending=256, parent=self)
        self._cache: OrderedDict[int, tuple[QPixmap, list[QPixmap]]] = OrderedDict()
        self._pending: set[int] = set()
        self._placeholder = self._make_placeholder(QSize(self.height // 2, self.height))
        self._strip_placeholder = self._make_placeholder(
            QSize((self.height // 2 + 2) * self.per_tracklet, self.height))

    @property
    def runner(self) -> QueryRunner:
        return self._runner

    @staticmethod
    def _make_placeholder(size: QSize) -> QPixmap:
        pix = QPixmap(size)
        pix.fill(QColor(200, 200, 200))
        return pix

    def stop(self) -> None:
        self._runner.stop()
        self._cache.clear()
        self._pending.clear()

    def has(self, tracklet_id: int) -> bool:
        return tracklet_id in self._cache

    def images(self, tracklet_id: int) -> list[QPixmap] | None:
        entry = self._lookup(tracklet_id)
        return None if entry is None else entry[1]

    def strip(self, tracklet_id: int) -> QPixmap:
        entry = self._lookup(tracklet_id)
        return self._strip_placeholder if entry is None else entry[0]

    def best(self, tracklet_id: int) -> QPixmap:
        entry = self._lookup(tracklet_id)
        if entry is None or not entry[1]:
            return self._placeholder
        return entry[1][0]

    def _lookup(self, tracklet_id: int) -> tuple[QPixmap, list[QPixmap]] | None:
        entry = self._cache.get(tracklet_id)
        if entry is not None:
            self._cache.move_to_end(tracklet_id)
            return entry
        self.request(tracklet_id)
        return None

    def request(self, tracklet_id: int) -> None:
        if tracklet_id in self._pending or tracklet_id in self._cache:
            return
        self._pending.add(tracklet_id)

        def done(images: list[QImage], tid: int = tracklet_id) -> None:
            self._store(tid, images)

        def failed(message: str, tid: int = tracklet_id) -> None:
            log.debug("thumbnails of tracklet %d: %s", tid, message)
            self._store(tid, [])

        def dropped(tid: int = tracklet_id) -> None:  # asked for again when a view next shows it
            self._pending.discard(tid)

        self._runner.submit(_load_thumbnails(tracklet_id, self.per_tracklet, self.height),
                            done, failed, dropped)

    def _store(self, tracklet_id: int, images: list[QImage]) -> None:
        self._pending.discard(tracklet_id)
        pixmaps = [QPixmap.fromImage(img) for img in images if not img.isNull()]
        self._cache[tracklet_id] = (self._compose_strip(pixmaps), pixmaps)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.ready.emit(tracklet_id)

    def _compose_strip(self, pixmaps: list[QPixmap]) -> QPixmap:
        if not pixmaps:
            return self._strip_placeholder
        width = sum(p.width() for p in pixmaps) + 2 * (len(pixmaps) - 1)
        strip = QPixmap(width, self.height)
        strip.fill(Qt.GlobalColor.transparent)
        painter = QPainter(strip)
        x = 0
        for p in pixmaps:
            painter.drawPixmap(x, 0, p)
            x += p.width() + 2
        painter.end()
        return strip


# ---------------------------------------------------------------------------------------------- frames


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """(H, W, 3) uint8 BGR -> RGB888 ``QImage`` owning its pixels. Safe in any thread."""
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class FrameDecoder(QThread):
    """Decodes video frames with OpenCV in its own thread; the newest request wins.

    ``request(path, frame)`` returns a request id; ``frame_ready(id, image)`` or ``frame_failed(id, message)``
    answer it. Requests that were overtaken by a newer one are skipped, so playback never queues up.
    Consecutive frames are read sequentially (no seek), which keeps playback at the video's fps.
    """

    frame_ready = Signal(int, QImage)
    frame_failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._request: tuple[int, str, int] | None = None
        self._next_id = 0
        self._stopping = False

    def request(self, path: str, frame: int) -> int:
        with self._cond:
            self._next_id += 1
            self._request = (self._next_id, path, frame)
            self._cond.notify()
            return self._next_id

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.wait()

    def run(self) -> None:
        cap: cv2.VideoCapture | None = None
        cap_path = ""
        position = -1  # index of the frame the next read() returns
        try:
            while True:
                with self._cond:
                    while self._request is None and not self._stopping:
                        self._cond.wait()
                    if self._stopping:
                        return
                    assert self._request is not None
                    req_id, path, frame = self._request
                    self._request = None
                try:
                    if cap is None or path != cap_path:
                        if cap is not None:
                            cap.release()
                        if not Path(path).is_file():
                            cap, cap_path = None, ""
                            raise FileNotFoundError(f"video file not found: {path}")
                        cap, cap_path, position = cv2.VideoCapture(path), path, 0
                        if not cap.isOpened():
                            cap, cap_path = None, ""
                            raise OSError(f"cannot open video: {path}")
                    if frame != position:
                        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
                    ok, image = cap.read()
                    position = frame + 1 if ok else -1
                    if not ok or image is None:
                        raise OSError(f"frame {frame} cannot be decoded from {path}")
                    self.frame_ready.emit(req_id, bgr_to_qimage(image))
                except Exception as exc:
                    self.frame_failed.emit(req_id, str(exc))
        finally:
            if cap is not None:
                cap.release()
