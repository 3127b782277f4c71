"""The detector's OpenVINO export cache: exported once, reused, re-exported when the weights change, never left
half-written; PyTorch when openvino is missing or the export fails; the same boxes as PyTorch."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torchvision

from reid.errors import CheckpointError
from reid.video import detect as detect_module
from reid.video.detect import YoloDetector
from reid.video.yolo_export import RuntimeMissingError, export_openvino, is_complete, letterbox_shape
from reid.video.yolo_weights import load_yolo_pt

pytest.importorskip("openvino")

ROOT = Path(__file__).resolve().parents[2]
TRAINED = ROOT / "models" / "yolov8s-fall.pt"
FRAME = np.full((96, 64, 3), 90, np.uint8)  # portrait, like the sample clips: letterboxed to 160 x 128 at 160


def test_letterbox_shape_is_ultralytics_rectangular_letterbox() -> None:
    from reid.video.detect import import_ultralytics

    import_ultralytics()
    from ultralytics.data.augment import LetterBox

    for hw, imgsz in (((576, 384), 640), ((480, 640), 640), ((1080, 1920), 640), ((96, 64), 160), ((100, 100), 320)):
        image = np.zeros((*hw, 3), np.uint8)
        expected = LetterBox((imgsz, imgsz), auto=True, stride=32)(image=image).shape[:2]
        assert letterbox_shape(hw, imgsz) == expected, hw
    assert letterbox_shape((576, 384), 640) == (640, 448)


def _exports(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if not p.name.startswith("."))


def test_export_is_cached_reused_and_redone_for_new_weights(random_yolo, tmp_path: Path) -> None:
    weights = tmp_path / "model.pt"
    shutil.copy(random_yolo({0: "person"}), weights)
    cache = tmp_path / "exported"
    loads = []

    def load():
        loads.append(1)
        return load_yolo_pt(weights, False)

    first = export_openvino(load, weights, (160, 128), "fp32", cache)
    assert is_complete(first) and first.name.endswith("-160x128-fp32_openvino_model") and len(loads) == 1
    assert export_openvino(load, weights, (160, 128), "fp32", cache) == first and len(loads) == 1  # reused
    other_shape = export_openvino(load, weights, (128, 160), "fp32", cache)
    assert other_shape != first and len(loads) == 2
    shutil.copy(random_yolo({0: "person", 1: "car"}), weights)  # same name, other weights
    again = export_openvino(load, weights, (160, 128), "fp32", cache)
    assert again != first and len(loads) == 3 and is_complete(again)
    assert _exports(cache) == sorted([first, other_shape, again])
    assert not list(cache.glob(".export-*"))  # no temporary folder left


def test_detector_reuses_the_export_and_reports_the_runtime(random_yolo, tmp_path: Path, monkeypatch) -> None:
    weights = random_yolo({0: "person"})
    cache = tmp_path / "exported"
    det = YoloDetector(weights, conf=0.01, imgsz=160, runtime="openvino", cache_dir=cache)
    assert det.runtime == "openvino" and det.name.endswith("@openvino-fp32")
    det.detect([FRAME, FRAME])
    (folder,) = _exports(cache)
    assert folder.name.endswith("-160x128-fp32_openvino_model")

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr("ultralytics.YOLO.export", no_export)
    second = YoloDetector(weights, conf=0.01, imgsz=160, runtime="openvino", cache_dir=cache)
    second.detect([FRAME])
    assert second.runtime == "openvino" and _exports(cache) == [folder]


def test_missing_openvino_falls_back_to_pytorch_with_one_line(random_yolo, tmp_path, monkeypatch, caplog) -> None:
    real = detect_module.importlib.util.find_spec
    monkeypatch.setattr(detect_module.importlib.util, "find_spec", lambda n, *a: None if n == "openvino" else real(n))
    with caplog.at_level(logging.WARNING):
        det = YoloDetector(random_yolo({0: "person"}), imgsz=160, runtime="openvino", cache_dir=tmp_path / "c")
    assert det.runtime == "torch" and det.name == "yolo:model.pt"
    (line,) = [r.getMessage() for r in caplog.records if "OpenVINO" in r.getMessage()]
    assert "pip install openvino" in line and "\n" not in line
    assert len(det.detect([FRAME])) == 1 and not (tmp_path / "c").exists()
    # auto on a machine without openvino: PyTorch, quietly
    caplog.clear()
    assert YoloDetector(random_yolo({0: "person"}), imgsz=160, runtime="auto").runtime == "torch"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    monkeypatch.setitem(__import__("sys").modules, "nncf", None)  # an int8 export without nncf installed
    with pytest.raises(RuntimeMissingError, match="pip install nncf"):
        export_openvino(lambda: None, random_yolo({0: "person"}), (160, 128), "int8", tmp_path / "c", [FRAME])


def test_failed_export_leaves_nothing_and_detection_goes_on(random_yolo, tmp_path, monkeypatch, caplog) -> None:
    def broken(self, **kwargs):
        Path(self.model.pt_path).with_name("model_openvino_model").mkdir()  # half-written, then the failure
        raise RuntimeError("converter crashed\nwith a long trace")

    monkeypatch.setattr("ultralytics.YOLO.export", broken)
    cache = tmp_path / "exported"
    with pytest.raises(CheckpointError, match=r"OpenVINO export failed \(RuntimeError: converter crashed\)$"):
        export_openvino(lambda: load_yolo_pt(random_yolo({0: "person"}), False), random_yolo({0: "person"}),
                        (160, 128), "fp32", cache)  # fmt: skip
    assert list(cache.iterdir()) == []
    det = YoloDetector(random_yolo({0: "person"}), conf=0.01, imgsz=160, runtime="openvino", cache_dir=cache)
    with caplog.at_level(logging.WARNING):
        out = det.detect([FRAME, FRAME])
    assert len(out) == 2 and det.runtime == "torch" and list(cache.iterdir()) == []
    assert any("running YOLO in PyTorch" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not TRAINED.is_file(), reason="needs models/yolov8s-fall.pt (reid fetch-models)")
def test_openvino_fp32_gives_pytorchs_boxes_on_real_frames(tmp_path: Path) -> None:
    capture = cv2.VideoCapture(str(ROOT / "examples" / "left.mp4"))
    frames = []
    for index in range(60):
        ok, frame = capture.read()
        if ok and index % 6 == 0:
            frames.append(frame)
    capture.release()
    reference = YoloDetector(TRAINED, runtime="torch").detect(frames)
    fast = YoloDetector(TRAINED, runtime="openvino", cache_dir=tmp_path).detect(frames)
    total = sum(len(r.boxes) for r in reference)
    assert total >= 5
    matched = 0
    for r, f in zip(reference, fast, strict=True):
        if len(r.boxes) and len(f.boxes):
            iou = torchvision.ops.box_iou(torch.from_numpy(r.boxes), torch.from_numpy(f.boxes))
            matched += int((iou.max(1).values >= 0.95).sum())
    assert matched >= 0.99 * total and sum(len(f.boxes) for f in fast) == total


def test_int8_is_calibrated_on_the_first_frames_then_used(random_yolo, tmp_path: Path) -> None:
    pytest.importorskip("nncf")
    from reid.video.yolo_export import CALIBRATION_FRAMES

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (96, 64, 3), dtype=np.uint8) for _ in range(CALIBRATION_FRAMES + 8)]
    cache = tmp_path / "exported"
    det = YoloDetector(random_yolo({0: "person"}), conf=0.01, imgsz=160, runtime="openvino", precision="int8",
                       cache_dir=cache, batch=8)  # fmt: skip
    det.detect(frames[:8])  # too few to calibrate on: fp32 meanwhile
    assert [p.name.rsplit("-", 1)[1] for p in _exports(cache)] == ["fp32_openvino_model"]
    out = det.detect(frames[8:])
    assert len(out) == CALIBRATION_FRAMES and det.runtime == "openvino" and det.name.endswith("@openvino-int8")
    names = sorted(p.name.rsplit("-", 1)[1] for p in _exports(cache))
    assert names == ["fp32_openvino_model", "int8_openvino_model"]
    assert not det._calibration  # the frames kept for calibration are let go


def test_a_damaged_cached_export_is_exported_again(random_yolo, tmp_path: Path, caplog) -> None:
    weights = random_yolo({0: "person"})
    cache = tmp_path / "exported"
    YoloDetector(weights, conf=0.01, imgsz=160, runtime="openvino", cache_dir=cache).detect([FRAME])
    (folder,) = _exports(cache)
    (binary,) = folder.glob("*.bin")
    binary.write_bytes(binary.read_bytes()[:1000])  # a disk filled up, a copy cut short
    det = YoloDetector(weights, conf=0.01, imgsz=160, runtime="openvino", cache_dir=cache)
    with caplog.at_level(logging.WARNING):
        assert len(det.detect([FRAME])) == 1
    assert det.runtime == "openvino" and binary.stat().st_size > 1000
    assert any("exporting it again" in r.getMessage() and str(folder) in r.getMessage() for r in caplog.records)
