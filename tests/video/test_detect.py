"""Detectors: HOG on real photos, YOLO code path with random weights, MOTChallenge files, kind=auto."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torchvision

from reid.config import ConfigError, DetectorConfig
from reid.data.motio import read_mot, write_mot
from reid.errors import CheckpointError, DatasetError
from reid.registry import UnknownNameError
from reid.video.detect import Detector, HogDetector, MotDetections, YoloDetector, make_detector
from reid.video.types import Detections

# The people in ultralytics' bus.jpg (xyxy, read off a YOLOv8s run and checked by eye).
BUS_PEOPLE = [[46, 384, 216, 907], [211, 391, 347, 872], [657, 254, 809, 887]]


def assert_detections(d: Detections) -> None:
    assert d.boxes.dtype == np.float32 and d.boxes.ndim == 2 and d.boxes.shape[1] == 4
    assert d.scores.dtype == np.float32 and d.scores.shape == (len(d.boxes),)
    assert np.all(d.boxes[:, 2] >= d.boxes[:, 0]) and np.all(d.boxes[:, 3] >= d.boxes[:, 1])


def best_iou(d: Detections, truth: list[list[int]]) -> float:
    if len(d) == 0:
        return 0.0
    return float(torchvision.ops.box_iou(torch.from_numpy(d.boxes), torch.tensor(truth, dtype=torch.float32)).max())


def test_hog_finds_a_person_in_a_real_photo(assets: Path) -> None:
    # Photos of large, close people need the finer pyramid (the default 1.1 is tuned for CCTV-size people)
    det = HogDetector(scale=1.05)
    (d,) = det.detect([cv2.imread(str(assets / "bus.jpg"))])
    assert_detections(d)
    assert best_iou(d, BUS_PEOPLE) > 0.5
    assert isinstance(det, Detector) and det.name.startswith("hog")


def test_hog_on_frames_without_people() -> None:
    blank = np.full((240, 320, 3), 127, np.uint8)
    tiny = np.zeros((40, 30, 3), np.uint8)  # smaller than the 64x128 window even after resizing
    for d in HogDetector().detect([blank, tiny]):
        assert_detections(d)
        assert len(d) == 0


def test_yolo_random_weights_run_and_return_detections(assets: Path) -> None:
    det = YoloDetector("yolov8n.yaml", conf=0.01, imgsz=160, batch=2)  # ultralytics' YAML: random weights
    frames = [cv2.imread(str(assets / n)) for n in ("bus.jpg", "zidane.jpg")] + [np.zeros((120, 160, 3), np.uint8)]
    out = det.detect(frames)
    assert len(out) == 3
    for d in out:
        assert_detections(d)
    assert isinstance(det, Detector) and det.name == "yolo:yolov8n.yaml"


def test_yolo_person_class_and_non_person_models(random_yolo) -> None:
    coco = YoloDetector(random_yolo({0: "person", 1: "bicycle", 2: "car"}), imgsz=160)
    assert coco.classes == [0] and coco.min_aspect == 0.0
    fall = YoloDetector(random_yolo({0: "Normal", 1: "Fall"}), imgsz=160)
    assert fall.classes is None and fall.min_aspect == pytest.approx(0.8)  # every class a person, lying boxes out
    (d,) = fall.detect([np.zeros((96, 128, 3), np.uint8)])
    assert_detections(d)


def test_yolo_drops_flat_boxes_of_non_person_models(random_yolo, monkeypatch) -> None:
    fall = YoloDetector(random_yolo({0: "Normal", 1: "Fall"}), imgsz=160)

    class Boxes:
        xyxy = torch.tensor([[0.0, 0.0, 100.0, 40.0], [10.0, 10.0, 40.0, 90.0]])  # lying (h/w 0.4), standing
        conf = torch.tensor([0.9, 0.8])

    class Result:
        boxes = Boxes()

    monkeypatch.setattr(fall.model, "predict", lambda frames, **kw: [Result() for _ in frames])
    (d,) = fall.detect([np.zeros((96, 128, 3), np.uint8)])
    np.testing.assert_allclose(d.boxes, [[10, 10, 40, 90]])


def test_missing_or_broken_weights_raise_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="models/yolov8n.pt") as err:
        YoloDetector(tmp_path / "nowhere.pt")
    assert str(err.value).startswith(str(tmp_path / "nowhere.pt"))
    with pytest.raises(CheckpointError, match="models/yolov8n.pt"):  # kind=yolo without weights: the default place
        make_detector(DetectorConfig(kind="yolo"), models_dir=tmp_path)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot load"):
        YoloDetector(broken)


def test_auto_falls_back_to_hog_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reid.video.detect"):
        det = make_detector(DetectorConfig(kind="auto"), models_dir=tmp_path)
    assert isinstance(det, HogDetector)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "no YOLO weights" in lines[0] and "HOG" in lines[0]


def test_auto_uses_yolo_weights_found_in_models(tmp_path: Path, random_yolo, caplog) -> None:
    (tmp_path / "yolo11n.pt").write_bytes(random_yolo({0: "person"}).read_bytes())
    with caplog.at_level(logging.INFO, logger="reid.video.detect"):
        det = make_detector(DetectorConfig(kind="auto", imgsz=160), models_dir=tmp_path)
    assert isinstance(det, YoloDetector) and det.name == "yolo:yolo11n.pt@openvino-fp32"  # the CPU's fast path
    assert det.cache_dir == tmp_path / "exported" and "yolo11n.pt" in caplog.text
    torch_cfg = DetectorConfig(kind="auto", imgsz=160, runtime="torch")
    assert make_detector(torch_cfg, models_dir=tmp_path).name == "yolo:yolo11n.pt"


def test_make_detector_rejects_unknown_kinds(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown detector 'ssd'; known: auto, yolo, hog, mot"):
        make_detector(DetectorConfig(kind="ssd"))  # a config built in code; the CLI checks its flags against it
    with pytest.raises(ConfigError, match="det.txt"):
        make_detector(DetectorConfig(kind="mot"))


MOT_TEXT = """1,-1,10,20,30,60,0.9,-1,-1,-1
1,-1,100,20,30,60,0.4,-1,-1,-1

3,7,5.5,6,10,20,1,1,0.8
"""


def test_mot_detections_serve_boxes_by_frame_index(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text(MOT_TEXT)
    det = make_detector(DetectorConfig(kind="mot", weights=str(path)))
    assert isinstance(det, MotDetections) and det.name == "mot:det.txt"
    frames = [np.zeros((10, 10, 3), np.uint8)] * 3
    d0, d1, d2 = det.detect(frames, indices=[0, 1, 2])  # MOT frame = index + 1
    np.testing.assert_allclose(d0.boxes, [[10, 20, 40, 80], [100, 20, 130, 80]])
    np.testing.assert_allclose(d0.scores, [0.9, 0.4])
    assert len(d1) == 0
    np.testing.assert_allclose(d2.boxes, [[5.5, 6, 15.5, 26]])
    for d in (d0, d1, d2):
        assert_detections(d)
    assert len(MotDetections(path, min_score=0.5).for_index(0)) == 1
    with pytest.raises(ValueError, match="indices"):
        det.detect(frames)


def test_read_write_mot_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "gt.txt"
    src.write_text(MOT_TEXT)
    frames = read_mot(src)
    assert sorted(frames) == [1, 3]
    assert frames[3].ids.tolist() == [7] and frames[1].ids.dtype == np.int64
    out = tmp_path / "out.txt"
    assert write_mot(out, frames) == 3
    again = read_mot(out)
    for k in frames:
        np.testing.assert_allclose(again[k].boxes, frames[k].boxes, atol=0.01)
        np.testing.assert_allclose(again[k].scores, frames[k].scores)
    assert write_mot(out, [(2, 4, (0, 0, 10, 20), 0.5)]) == 1
    assert out.read_text() == "2,4,0.00,0.00,10.00,20.00,0.5,-1,-1,-1\n"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("1,-1,10,20,30", "at least 7 fields"),
        ("1,-1,10,abc,30,60,0.9", "not a number"),
        ("0,-1,10,20,30,60,0.9", "frame must be an integer >= 1"),
        ("1.5,-1,10,20,30,60,0.9", "frame must be an integer"),
        ("1,-1,10,20,-30,60,0.9", "width/height"),
        ("1,-1,10,20,nan,60,0.9", "finite"),
    ],
)
def test_read_mot_names_file_and_line_of_a_malformed_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "det.txt"
    path.write_text(f"1,-1,10,20,30,60,0.9\n{line}\n")
    with pytest.raises(DatasetError, match=problem) as err:
        read_mot(path)
    assert str(err.value).startswith(f"{path}:2: ") and "\n" not in str(err.value)


def test_read_mot_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_mot(tmp_path / "none.txt")


@pytest.mark.parametrize(("content", "says"), [(b"not a model\n", "is not a PyTorch file at all"),
                                               (b"PK\x03\x04" + b"\0" * 64, "ends early or its archive is damaged")])
def test_a_damaged_detector_file_is_named_in_plain_words(tmp_path: Path, content: bytes, says: str) -> None:
    """torch's own words for these ("Unsupported operand 110", "failed finding central directory") say
    nothing to a user."""
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"^{bad}: cannot load as a YOLO model: the file {says}"):
        YoloDetector(bad)
