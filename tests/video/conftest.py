"""Tiny generated videos and models for the video tests (nothing is downloaded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

WIDTH, HEIGHT, FPS = 160, 120, 10.0


def draw_frame(i: int) -> np.ndarray:
    """Frame ``i``: a red and a green rectangle moving in opposite directions, the frame number written in."""
    image = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
    cv2.rectangle(image, (5 * i, 20), (5 * i + 30, 80), (0, 0, 255), -1)
    cv2.rectangle(image, (WIDTH - 5 * i - 25, 40), (WIDTH - 5 * i, 100), (0, 255, 0), -1)
    cv2.putText(image, str(i), (60, 115), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return image


def write_video(path: Path, frames: int = 30, fps: float = FPS) -> Path:
    """An MJPG ``.avi`` of ``frames`` frames (MJPG: every frame a keyframe, so counts and seeks are exact)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "this OpenCV cannot write MJPG"
    for i in range(frames):
        writer.write(draw_frame(i))
    writer.release()
    return path


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_video("a.avi", frames=30, fps=10.0)`` writes a tiny video in ``tmp_path``."""

    def make(name: str = "clip.avi", frames: int = 30, fps: float = FPS) -> Path:
        return write_video(tmp_path / name, frames, fps)

    return make


@pytest.fixture
def tiny_video(make_video: Callable[..., Path]) -> Path:
    """30 frames, 160x120, 10 fps."""
    return make_video("tiny.avi")


@pytest.fixture
def bad_frames_video(make_video: Callable[..., Path]) -> Path:
    """30 frames whose JPEG data of frames 10 and 11 is wiped: OpenCV's grab fails on them, then reads on."""
    path = make_video("bad.avi")
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]  # JPEG start markers
    assert len(starts) == 30
    for k in (10, 11):
        data[starts[k] + 2 : starts[k + 1] - 50] = bytes(starts[k + 1] - 52 - starts[k])
    path.write_bytes(bytes(data))
    return path


def _ultralytics_dir() -> Path:
    import ultralytics

    return Path(ultralytics.__file__).parent


@pytest.fixture(scope="session")
def assets() -> Path:
    """Ultralytics' bundled real photos (bus.jpg, zidane.jpg)."""
    return _ultralytics_dir() / "assets"


@pytest.fixture(scope="session")
def random_yolo(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[int, str]], Path]:
    """Factory: a random-weight YOLOv8n ``.pt`` (built from ultralytics' YAML) with the given class names."""
    from reid.video.detect import import_ultralytics

    import_ultralytics()
    from ultralytics import YOLO

    root = tmp_path_factory.mktemp("yolo")
    template = (_ultralytics_dir() / "cfg" / "models" / "v8" / "yolov8.yaml").read_text()

    def make(names: dict[int, str]) -> Path:
        folder = root / f"nc{len(names)}_{abs(hash(tuple(names.values())))}"
        folder.mkdir(exist_ok=True)
        cfg = folder / "yolov8n.yaml"  # the file name picks the "n" scale
        cfg.write_text(template.replace("nc: 80", f"nc: {len(names)}"))
        model = YOLO(str(cfg))
        model.model.names = dict(names)
        out = folder / "model.pt"
        model.save(str(out))
        return out

    return make


@pytest.fixture(scope="session")
def two_camera_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``reid.data.scenes.scene`` with 6 people, cameras cam1 and cam2, 20 s at 10 fps, seed 1: ``scene.yaml``, the
    videos and ``gt/<camera>.txt`` boxes (6 tracklets per camera with those boxes)."""
    from reid.data.scenes.scene import render_scene

    out = tmp_path_factory.mktemp("two_camera_scene")
    render_scene(out, people=6, cameras=2, seconds=20, seed=1)
    return out
