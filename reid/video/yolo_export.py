"""YOLO weights exported once to OpenVINO IR by ultralytics' own exporter, cached in ``models/exported/``.

An export is keyed by what changes its output: the weights' SHA-256, the input shape and the precision. Its
folder is ``{stem}-{sha16}-{h}x{w}-{precision}_openvino_model/`` (the suffix is what ultralytics recognises
as an OpenVINO model), so a later run with the same weights, frame size and precision reuses it, and new
weights under the same name export again. Exports are written into a temporary folder beside the cache and
renamed into place: an interrupted export leaves no half-written model, and two processes exporting at once
both end with a whole one.

The input shape is the one ultralytics' PyTorch predictor letterboxes a frame to (``letterbox_shape``): the
longer side scaled to ``imgsz``, the other padded up to a multiple of the stride. A 576x384 frame at 640 is
640x448, not the square 640x640 a default export would pad it to, which costs time and changes the boxes.

``int8`` is NNCF post-training quantisation (ultralytics' ``int8=True``), calibrated on frames the caller
passes: the site's own footage, written to a temporary folder as a one-split image set.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reid.config import DETECTOR_PRECISIONS
from reid.errors import CheckpointError, first_line

log = logging.getLogger(__name__)

PRECISIONS = DETECTOR_PRECISIONS
IR_SUFFIX = "_openvino_model"
CALIBRATION_FRAMES = 64  # frames of the site an int8 export is calibrated on
STRIDE = 32  # YOLO detection models' largest stride: inputs are padded to a multiple of it


class RuntimeMissingError(CheckpointError):
    """The runtime an export needs (openvino, nncf) is not installed."""


@contextlib.contextmanager
def quiet_ultralytics() -> Iterator[None]:
    """Ultralytics' exporter prints a banner, progress and CLI hints, and the tracer warns: keep errors only."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        LOGGER.setLevel(level)


def letterbox_shape(frame_hw: tuple[int, int], imgsz: int, stride: int = STRIDE) -> tuple[int, int]:
    """(h, w) input that ultralytics' rectangular letterbox makes of a ``frame_hw`` frame at ``imgsz``."""
    h, w = frame_hw
    r = imgsz / max(h, w)
    nh, nw = round(h * r), round(w * r)
    return nh + (imgsz - nh) % stride, nw + (imgsz - nw) % stride


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_dir(cache_dir: Path, weights: Path, shape: tuple[int, int], precision: str, sha: str | None = None) -> Path:
    """Where the export of ``weights`` at ``shape`` and ``precision`` lives in ``cache_dir``."""
    sha = sha or file_sha256(weights)
    return Path(cache_dir) / f"{weights.stem}-{sha[:16]}-{shape[0]}x{shape[1]}-{precision}{IR_SUFFIX}"


def is_complete(folder: Path) -> bool:
    """An export folder holding its model (.xml + .bin) and ultralytics' metadata.yaml."""
    xml = next(folder.glob("*.xml"), None) if folder.is_dir() else None
    return xml is not None and xml.with_suffix(".bin").is_file() and (folder / "metadata.yaml").is_file()


def require(module: str, extra: str) -> None:
    """Raise ``RuntimeMissingError`` (one line, with the install command) when ``module`` cannot be imported."""
    try:
        __import__(module)
    except ImportError:
        raise RuntimeMissingError(f"{module} is not installed (pip install {extra})") from None


def _calibration_set(folder: Path, frames: Sequence[np.ndarray], names: dict[int, str]) -> Path:
    """A one-split YOLO image set of ``frames`` (PNG, lossless) and its data YAML, for ultralytics' int8 export."""
    images = folder / "images"
    images.mkdir(parents=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(images / f"{i:05d}.png"), frame)
    lines = [f"path: {folder}", "train: images", "val: images", "names:"]
    lines += [f"  {k}: {str(v)!r}" for k, v in sorted(names.items())]
    data = folder / "data.yaml"
    data.write_text("\n".join(lines) + "\n")
    return data


def export_openvino(
    load_yolo: Callable[[], Any],
    weights: Path,
    shape: tuple[int, int],
    precision: str = "fp32",
    cache_dir: Path = Path("models/exported"),
    calibration: Sequence[np.ndarray] = (),
) -> Path:
    """The cached OpenVINO export of ``weights`` at input ``shape`` (h, w) and ``precision``; exported now with
    ultralytics' exporter on ``load_yolo()`` (an ultralytics ``YOLO``) when not cached. ``int8`` needs
    ``calibration`` frames. Raises ``RuntimeMissingError`` without openvino (or nncf for int8), and
    ``CheckpointError`` when the export fails; nothing is left half-written either way."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    target = export_dir(cache_dir, weights, shape, precision)
    if is_complete(target):
        log.debug("detector: reusing %s", target)
        return target
    require("openvino", "openvino")
    if precision == "int8":
        require("nncf", "nncf")
        if not calibration:
            raise ValueError("an int8 export needs calibration frames")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
        work = Path(tmp)
        yolo = load_yolo()
        yolo.model.pt_path = str(work / weights.name)  # ultralytics writes the export beside this path
        options: dict[str, Any] = {"format": "openvino", "imgsz": list(shape), "dynamic": False, "batch": 1}
        if precision == "int8":
            data = _calibration_set(work / "calibration", calibration, dict(yolo.names))
            options.update(int8=True, data=str(data), fraction=1.0)
        log.info("detector: exporting %s to OpenVINO %s at %dx%d (once; cached in %s)", weights.name, precision,
                 shape[0], shape[1], target.parent)  # fmt: skip
        try:
            with quiet_ultralytics():
                made = Path(yolo.export(**options))
        except Exception as exc:  # ultralytics and openvino raise many types
            raise CheckpointError(f"{weights}: OpenVINO export failed ({first_line(exc)})") from None
        if not is_complete(made):
            raise CheckpointError(f"{weights}: OpenVINO export wrote no complete model in {made}")
        try:
            made.rename(target)
        except OSError:  # another process finished the same export first: keep its copy
            if not is_complete(target):
                raise
            shutil.rmtree(made, ignore_errors=True)
    return target

