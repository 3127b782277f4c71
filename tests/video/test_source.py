"""VideoSource: iteration, stride, several files, probe errors, bad frames, the prefetch thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from reid.errors import VideoError
from reid.video import source as source_module
from reid.video.source import MAX_BAD_RUN, VideoInfo, VideoSource, decode, probe


def decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("decode-")]


def test_probe_reads_fps_frames_and_size(tiny_video: Path) -> None:
    info = probe(tiny_video)
    assert (info.fps, info.frames, info.width, info.height) == (10.0, 30, 160, 120)
    assert info.duration == pytest.approx(3.0)


@pytest.mark.parametrize("prefetch", [0, 4])
def test_iterates_every_frame_in_order_with_times(tiny_video: Path, prefetch: int) -> None:
    frames = list(VideoSource("cam", [str(tiny_video)], start_time=5.0, prefetch=prefetch))
    assert [f.index for f in frames] == list(range(30))
    assert [f.time for f in frames] == pytest.approx([5.0 + i / 10 for i in range(30)])
    assert all(f.camera == "cam" and f.video == str(tiny_video) for f in frames)
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype == np.uint8
    # the red rectangle of frame i starts at x = 5 i: decoded frames are the right ones, in order
    assert frames[7].image[50, 5 * 7 + 15, 2] > 200 and frames[7].image[50, 5 * 7 - 5, 2] < 100
    assert not decode_threads()


def test_stride_skips_frames(tiny_video: Path) -> None:
    src = VideoSource("cam", [tiny_video], stride=4)
    frames = list(src)
    assert [f.index for f in frames] == [0, 4, 8, 12, 16, 20, 24, 28]
    assert frames[2].time == pytest.approx(0.8)
    assert src.num_frames() == 8
    assert src.files()[0].frames_read == 8


def test_several_files_share_one_time_axis(make_video) -> None:
    a, b = make_video("a.avi", frames=30), make_video("b.avi", frames=20)
    src = VideoSource("left", [a, b], start_time=100.0, stride=2)
    infos = src.files()
    assert [i.start_time for i in infos] == pytest.approx([100.0, 103.0])
    frames = list(src)
    assert len(frames) == 15 + 10
    first_b = frames[15]
    assert (first_b.video, first_b.index, first_b.time) == (str(b), 0, pytest.approx(103.0))
    assert frames[-1].time == pytest.approx(103.0 + 18 / 10)
    # per-file iteration (the pipeline commits one file at a time)
    assert [f.index for f in src.iter_file(infos[1])] == list(range(0, 20, 2))


def test_one_start_time_per_file(make_video) -> None:
    a, b = make_video("a.avi", frames=10), make_video("b.avi", frames=10)
    src = VideoSource("c", [a, b], start_time=[0.0, 60.0])
    assert [f.time for f in src.iter_file(src.files()[1])][:2] == pytest.approx([60.0, 60.1])
    with pytest.raises(ValueError, match="2 files"):
        VideoSource("c", [a, b], start_time=[0.0])


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.mp4", None, "file not found"),
        ("empty.mp4", b"", "empty file"),
        ("garbage.mp4", bytes(range(256)) * 40, ""),
        ("notes.txt", b"frame,id,x,y\n1,2,3,4\n", ""),
    ],
)
def test_probe_rejects_bad_files_with_one_line(tmp_path: Path, name: str, content: bytes | None, problem: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError) as err:
        probe(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and problem in message
    with pytest.raises(VideoError):  # a source checks all its files before any work starts
        VideoSource("cam", [path])


def test_source_rejects_no_files_and_bad_arguments(tiny_video: Path) -> None:
    with pytest.raises(VideoError, match="no video files"):
        VideoSource("cam", [])
    with pytest.raises(ValueError, match="stride"):
        VideoSource("cam", [tiny_video], stride=0)


def test_bad_frames_in_the_middle_are_skipped_and_counted(bad_frames_video: Path) -> None:
    src = VideoSource("cam", [bad_frames_video])
    frames = list(src)
    assert [f.index for f in frames] == [*range(10), *range(12, 30)]  # indices (and times) stay true
    info = src.files()[0]
    assert (info.bad_frames, info.frames_read) == (2, 28)


class FakeCapture:
    """Scripted grabs: ``script[i]`` says whether grab number i succeeds; past the end every grab fails."""

    def __init__(self, script: str, fail_at: int | None = None):
        self.script, self.fail_at, self.n, self.released = script, fail_at, 0, False

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def grab(self) -> bool:
        if self.fail_at is not None and self.n == self.fail_at:
            raise RuntimeError("decoder exploded")
        ok = self.n < len(self.script) and self.script[self.n] == "T"
        self.last = self.n
        self.n += 1
        return ok

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.full((4, 4, 3), self.last, np.uint8)

    def release(self) -> None:
        self.released = True


def test_decode_counts_a_bad_run_and_ends_a_truncated_file(caplog: pytest.LogCaptureFixture) -> None:
    info = VideoInfo("fake.avi", 10.0, 8, 4, 4)
    got = [i for i, _ in decode(FakeCapture("TTFFFTTT"), info)]
    assert got == [0, 1, 5, 6, 7] and info.bad_frames == 3
    # a file that stops decoding long before its reported end: ends after MAX_BAD_RUN failures, no bad frames
    info = VideoInfo("cut.avi", 10.0, 1000, 4, 4)
    with caplog.at_level(logging.WARNING):
        got = [i for i, _ in decode(FakeCapture("TTTT"), info)]
    assert got == [0, 1, 2, 3] and info.bad_frames == 0
    assert "decoding ended at frame 4 of 1000" in caplog.text
    assert MAX_BAD_RUN < 1000


def test_zero_fps_is_taken_as_25_with_a_warning(tiny_video: Path, monkeypatch, caplog) -> None:
    real = source_module.open_capture

    class NoFps:
        def __init__(self, path: str):
            self.cap = real(path)

        def get(self, prop: int) -> float:
            return 0.0 if prop == source_module.cv2.CAP_PROP_FPS else self.cap.get(prop)

        def __getattr__(self, name: str):
            return getattr(self.cap, name)

    monkeypatch.setattr(source_module, "open_capture", NoFps)
    with caplog.at_level(logging.WARNING):
        info = probe(tiny_video)
    assert info.fps == 25.0 and "assuming 25 fps" in caplog.text


def test_prefetch_thread_stops_when_the_consumer_stops(tiny_video: Path) -> None:
    src = VideoSource("cam", [tiny_video], prefetch=2)
    frames = iter(src)
    assert next(frames).index == 0
    assert len(decode_threads()) == 1
    frames.close()  # what a `break` out of a for loop does
    assert not decode_threads()


def test_prefetch_thread_hands_errors_to_the_consumer(tiny_video: Path, monkeypatch) -> None:
    fake = FakeCapture("T" * 30, fail_at=3)
    src = VideoSource("cam", [tiny_video], prefetch=2)
    monkeypatch.setattr(source_module, "open_capture", lambda path: fake)
    with pytest.raises(RuntimeError, match="decoder exploded"):
        list(src)
    assert fake.released and not decode_threads()
