"""An exported YOLO IR run by OpenVINO on the CPU, with ultralytics' own letterbox, NMS and box scaling.

Ultralytics' predictor can run the IR too, but it leaves OpenVINO's precision to the CPU: on one with AMX or
AVX-512 BF16 that is bf16, whose boxes move (96 % of them within IoU 0.95 of PyTorch's, measured on a Xeon),
and it fixes the thread count. Here the precision hint is f32 (an int8 model's quantised layers still run in
int8) and the threads are the caller's, so the boxes are PyTorch's up to rounding. Pre- and post-processing
are ultralytics' functions, called as its ``DetectionPredictor`` calls them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.video.offline import import_ultralytics


class OpenVinoYolo:
    """One exported IR (a folder with ``*.xml``/``*.bin``) at its fixed input shape, batch 1."""

    def __init__(self, folder: Path, threads: int | None = None):
        import openvino as ov

        import_ultralytics()
        from ultralytics.data.augment import LetterBox

        core = ov.Core()
        model = core.read_model(str(next(Path(folder).glob("*.xml"))))
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self.compiled = core.compile_model(model, "CPU", config)
        self.shape: tuple[int, int] = tuple(int(d) for d in model.input().shape[2:])  # type: ignore[assignment]
        self.letterbox = LetterBox(self.shape, auto=False, stride=32)

    def predict(self, frames: Sequence[np.ndarray], conf: float, iou: float, classes: list[int] | None
                ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(boxes xyxy in frame pixels, scores) per BGR frame, after NMS at ``conf`` / ``iou``."""
        from ultralytics.utils import nms, ops

        out = []
        for frame in frames:
            boxed: Any = self.letterbox(image=frame)
            image = boxed[None, ..., ::-1].transpose(0, 3, 1, 2)  # BGR HWC -> RGB NCHW
            x = np.ascontiguousarray(image, dtype=np.float32) / 255.0
            raw = torch.from_numpy(next(iter(self.compiled(x).values())))
            det = nms.non_max_suppression(raw, conf, iou, classes, False, max_det=300, nc=0)[0]
            boxes: torch.Tensor = ops.scale_boxes(self.shape, det[:, :4], frame.shape)  # type: ignore[assignment]
            out.append((boxes.numpy(), det[:, 4].numpy()))
        return out
