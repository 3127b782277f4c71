"""MOTChallenge text files: per-frame boxes from ``det.txt`` / ``gt.txt`` files, and writing them.

One line per box: ``frame, id, x, y, w, h, conf[, ...]`` with 1-based frame numbers, ``(x, y)`` the top-left
corner and ``(w, h)`` the size in pixels (Milan et al. 2016, "MOT16: A Benchmark for Multi-Object Tracking").
Detection files carry ``id = -1``; ground-truth files carry a 0/1 "consider" flag in the ``conf`` column.
Extra columns (3-D position, class, visibility) are read past and written as ``-1``. Boxes of a prediction and
the ground truth match at IoU >= ``IOU``, the MOTChallenge rule (tracking and link evaluation alike).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from reid.errors import DatasetError


class MotFrame(NamedTuple):
    """Boxes of one frame. ``boxes``: (N, 4) float32 xyxy pixels; ``scores``: (N,) float32; ``ids``: (N,) int64."""

    boxes: np.ndarray
    scores: np.ndarray
    ids: np.ndarray


MotRow = tuple[int, int, Sequence[float], float]  # (1-based frame, id, xyxy box, score)

IOU = 0.5


class TrackRow(NamedTuple):
    """One predicted box. ``frame``: 1-based within the camera's video; ``track_id``: the tracker's id, unique
    within the camera; ``identity_id``: the global identity (None when not linked); ``box``: xyxy pixels."""

    frame: int
    track_id: int
    identity_id: int | None
    box: Sequence[float]


def read_mot(path: str | Path) -> dict[int, MotFrame]:
    """Read a MOTChallenge file into ``{frame (1-based): MotFrame}``; frames without boxes are absent.

    Raises ``DatasetError`` naming ``file:line`` for a malformed line (fewer than 7 fields, a field that is not a
    number, a non-integer frame or id, a frame below 1, a negative width or height).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: MOTChallenge file not found")
    rows: dict[int, list[tuple[float, ...]]] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = text.replace(",", " ").split()
            if len(fields) < 7:
                raise DatasetError(
                    f"{path}:{number}: expected at least 7 fields 'frame,id,x,y,w,h,conf', got {len(fields)}"
                )
            try:
                values = [float(f) for f in fields[:7]]
            except ValueError:
                raise DatasetError(f"{path}:{number}: not a number in {text[:60]!r}") from None
            frame, ident, x, y, w, h, conf = values
            if not np.isfinite(values).all() or w < 0 or h < 0:
                raise DatasetError(f"{path}:{number}: values must be finite, box width/height >= 0: {text[:60]!r}")
            if frame != int(frame) or ident != int(ident) or frame < 1:
                raise DatasetError(f"{path}:{number}: frame must be an integer >= 1 and id an integer: {text[:60]!r}")
            rows.setdefault(int(frame), []).append((x, y, x + w, y + h, conf, ident))
    out: dict[int, MotFrame] = {}
    for frame, items in sorted(rows.items()):
        arr = np.asarray(items, dtype=np.float64)
        out[frame] = MotFrame(arr[:, :4].astype(np.float32), arr[:, 4].astype(np.float32), arr[:, 5].astype(np.int64))
    return out


def _rows_of(frames: Mapping[int, MotFrame]) -> Iterable[MotRow]:
    for frame, (boxes, scores, ids) in sorted(frames.items()):
        for box, score, ident in zip(boxes, scores, ids, strict=True):
            yield int(frame), int(ident), box, float(score)


def write_mot(path: str | Path, rows: Iterable[MotRow] | Mapping[int, MotFrame]) -> int:
    """Write boxes as MOTChallenge lines ``frame,id,x,y,w,h,score,-1,-1,-1``; returns the number of lines.

    ``rows``: ``(frame, id, (x1, y1, x2, y2), score)`` tuples with 1-based frames (use ``id = -1`` for plain
    detections), or a ``read_mot``-style mapping. Written to a temporary file first and renamed, so a reader never
    sees half a file.
    """
    path = Path(path)
    items = _rows_of(rows) if isinstance(rows, Mapping) else rows
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for frame, ident, box, score in items:
            x1, y1, x2, y2 = (float(v) for v in box)
            fh.write(f"{int(frame)},{int(ident)},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{float(score):.4g},-1,-1,-1\n")
            count += 1
    os.replace(tmp, path)
    return count
