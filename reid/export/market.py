"""Reviewed identities as Market-1501-style crops ``PPPP_cCC_fFFFFFF_NN.jpg`` (identity, camera id, frame,
index), readable by the generic training reader (``PID_cCAM_*.jpg``), so reviewed matches become training data.

Crops are cut from the source video when its file exists (one pass per video, frames read in order), else
the stored JPEG thumbnails (at most 128 rows high) are written as they are.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reid.export.atomic import atomic_folder, prepare_folder
from reid.store import Store

log = logging.getLogger(__name__)

MARKET_DIR = "market"
SEEK_GAP = 50  # frames; a longer jump seeks instead of decoding through (seeking costs ~ a keyframe interval)

VideoReader = Callable[[str, Sequence[int]], dict[int, np.ndarray]]


@dataclass(frozen=True)
class _Crop:
    name: str
    video: str
    frame: int
    box: tuple[float, float, float, float]  # xyxy pixels
    thumbnail: bytes


def read_frames(path: str, frames: Sequence[int]) -> dict[int, np.ndarray]:
    """Decode ``frames`` (frame numbers, 0-based) of a video file; frames that cannot be read are missing."""
    out: dict[int, np.ndarray] = {}
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            return out
        pos = 0
        for target in sorted(set(frames)):
            if target < pos or target - pos > SEEK_GAP:
                cap.set(cv2.CAP_PROP_POS_FRAMES, target)
                pos = target
            while pos < target and cap.grab():
                pos += 1
            ok, img = cap.read()
            if not ok:
                break
            pos += 1
            out[target] = img
    finally:
        cap.release()
    return out


def market_name(pid: int, camera_id: int, frame: int, index: int) -> str:
    return f"{pid:04d}_c{camera_id:02d}_f{frame:06d}_{index:02d}.jpg"


def _plan(conn: sqlite3.Connection, reviewed_only: bool, per_tracklet: int) -> list[_Crop]:
    """One crop per stored thumbnail frame (best first, ``per_tracklet`` at most) of every exported member."""
    state = "AND m.state = 'confirmed'" if reviewed_only else ""
    rows = conn.execute(
        f"""
        SELECT m.identity_id, t.camera_id, v.path, th.frame, d.x1, d.y1, d.x2, d.y2, th.jpeg
        FROM identity_members m
        JOIN identities i ON i.id = m.identity_id AND i.status = 'active'
        JOIN tracklets t ON t.id = m.tracklet_id
        JOIN videos v ON v.id = t.video_id
        JOIN thumbnails th ON th.tracklet_id = t.id AND th.rank < ?
        LEFT JOIN detections d ON d.tracklet_id = t.id AND d.frame = th.frame
        WHERE 1 {state}
        GROUP BY th.tracklet_id, th.rank
        ORDER BY m.identity_id, t.camera_id, th.frame, t.id""",
        (per_tracklet,),
    )
    crops, used = [], set()
    for pid, cam, video, frame, x1, y1, x2, y2, jpeg in rows:
        index = 0
        while market_name(pid, cam, frame, index) in used:
            index += 1
        name = market_name(pid, cam, frame, index)
        used.add(name)
        box = (x1, y1, x2, y2) if x1 is not None else (0.0, 0.0, 0.0, 0.0)
        crops.append(_Crop(name, video, int(frame), box, bytes(jpeg)))
    return crops


def _cut(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    h, w = image.shape[:2]
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return image[y1:y2, x1:x2]


def _encode(image: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", image)
    return buf.tobytes() if ok else None


def export_market(
    store: Store,
    out_dir: str | Path,
    reviewed_only: bool = True,
    video_reader: VideoReader | None = None,
    per_tracklet: int = 4,
    overwrite: bool = True,
) -> Path:
    """Write ``out_dir/market/PPPP_cCC_fFFFFFF_NN.jpg`` crops; returns the folder.

    ``reviewed_only``: only confirmed members (identities with none export nothing); else every member.
    Crops are taken at each tracklet's best thumbnail frames (``per_tracklet`` at most). ``video_reader(path,
    frames) -> {frame: BGR image}`` is used for every video when given; by default videos are read with
    OpenCV when the file exists. A frame that cannot be read falls back to the stored thumbnail. The folder is
    written whole or not at all and replaces an earlier one (``overwrite=False``: an existing one is an
    ``ExportError``), so crops of two exports never mix.
    """
    out = prepare_folder(out_dir) / MARKET_DIR
    with atomic_folder(out, overwrite=overwrite) as tmp:
        crops = store.read(_plan, reviewed_only, per_tracklet)
        from_video = _write_crops(crops, tmp, video_reader)
    if not crops and reviewed_only:
        log.warning(
            "market export: no confirmed members to export; confirm matches in `reid review` first, or "
            "pass --all-members to export proposed ones too"
        )
    log.info(
        "market export: %d crops (%d from video frames, %d from thumbnails) in %s",
        len(crops),
        from_video,
        len(crops) - from_video,
        out,
    )
    return out


def _write_crops(crops: list[_Crop], out: Path, video_reader: VideoReader | None) -> int:
    """Every crop as a JPEG in ``out``, cut from its video frame when readable; returns how many were."""
    by_video: dict[str, list[_Crop]] = {}
    for c in crops:
        by_video.setdefault(c.video, []).append(c)
    from_video = 0
    for video, items in by_video.items():
        images: dict[int, np.ndarray] = {}
        if video_reader is not None:
            images = video_reader(video, sorted({c.frame for c in items}))
        elif Path(video).is_file():
            images = read_frames(video, sorted({c.frame for c in items}))
        for c in items:
            crop = _cut(images[c.frame], c.box) if c.frame in images else None
            jpeg = _encode(crop) if crop is not None else None
            from_video += jpeg is not None
            (out / c.name).write_bytes(jpeg if jpeg is not None else c.thumbnail)
    return from_video
