"""Worker threads: queries answer on the GUI thread, thumbnails come as placeholders then pixmaps (LRU),
frames decode off the GUI thread with the newest request winning."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from gui.workers import FrameDecoder, QueryRunner, ThumbnailCache


def test_query_runs_in_a_worker_and_answers_on_the_gui_thread(qtbot, video_db):
    runner = QueryRunner(video_db)
    try:
        seen = {}

        def job(store):
            seen["thread"] = threading.get_ident()
            return [s.id for s in store.identity_summaries()]

        results = []
        with qtbot.waitSignal(runner.idle, timeout=5000):
            runner.submit(job, lambda r: results.append((r, QThread.currentThread())))
        assert results[0][0] == [1, 2]
        assert results[0][1] is QApplication.instance().thread()
        assert seen["thread"] != threading.get_ident()
        errors = []
        with qtbot.waitSignal(runner.idle, timeout=5000):
            runner.submit(lambda s: s.tracklet(999), results.append, errors.append)
        assert "999" in errors[0]
    finally:
        runner.stop()


def test_thumbnails_placeholder_then_cached_pixmaps(qtbot, video_db):
    cache = ThumbnailCache(video_db, per_tracklet=2, height=40, capacity=2)
    try:
        placeholder = cache.strip(1)
        assert not cache.has(1)
        with qtbot.waitSignal(cache.ready, timeout=5000) as blocker:
            pass
        assert blocker.args == [1]
        assert cache.has(1)
        images = cache.images(1)
        assert len(images) == 2 and images[0].height() == 40
        assert cache.strip(1) is not placeholder
        for tid in (2, 3):
            with qtbot.waitSignal(cache.ready, timeout=5000):
                cache.request(tid)
        assert not cache.has(1)  # least recently used went out (capacity 2)
        assert cache.has(2) and cache.has(3)
    finally:
        cache.stop()


def test_thumbnail_requests_are_not_duplicated(qtbot, video_db):
    cache = ThumbnailCache(video_db)
    try:
        for _ in range(5):
            cache.best(2)
        assert cache.runner.pending == 1
        qtbot.waitUntil(lambda: cache.has(2), timeout=5000)
    finally:
        cache.stop()


def test_frame_decoder_newest_request_wins(qtbot, video_db):
    decoder = FrameDecoder()
    decoder.start()
    try:
        got = []
        decoder.frame_ready.connect(lambda rid, img: got.append((rid, img.width(), img.height())))
        path = str(video_db.parent / "camA.mp4")
        with qtbot.waitSignal(decoder.frame_ready, timeout=5000):
            first = decoder.request(path, 5)
        assert got[-1] == (first, 96, 64)
        ids = [decoder.request(path, f) for f in range(10, 20)]
        qtbot.waitUntil(lambda: got[-1][0] == ids[-1], timeout=5000)
        assert len(got) <= 1 + len(ids)
        failures = []
        decoder.frame_failed.connect(lambda rid, msg: failures.append(msg))
        with qtbot.waitSignal(decoder.frame_failed, timeout=5000):
            decoder.request(str(video_db.parent / "gone.mp4"), 0)
        assert "not found" in failures[0] and "gone.mp4" in failures[0]
    finally:
        decoder.stop()
