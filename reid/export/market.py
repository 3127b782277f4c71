"""Reviewed identities as Market-1501-style crops ``PPPP_cCC_fFFFFFF_NN.jpg`` (identity, camera id, frame,
index), readable by the generic training reader (``PID_cCAM_*.jpg``), so reviewed matches become training data.

Crops are cut from the source video when its file exists (one pass per video, frames read in order), else
the stored JPEG thumbnails (at most 128 rows high) are written as they are. The plan holds names, frames and
boxes only; thumbnails are read one video at a time, and only for the crops a frame could not give.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    thumbnail: tuple[int, int]  # (tracklet id, rank) of its stored thumbnail, the fallback


def iter_frames(path: str, frames: Sequence[int]) -> Iterator[tuple[int, np.ndarray]]:
    """``(frame, BGR image)`` of ``frames`` (frame numbers, 0-based) of a video file, in frame order, one
    decoded frame held at a time; frames that cannot be read are left out."""
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            return
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
            yield target, img
    finally:
        cap.release()


def read_frames(path: str, frames: Sequence[int]) -> dict[int, np.ndarray]:
    """Decode ``frames`` (frame numbers, 0-based) of a video file; frames that cannot be read are missing."""
    return dict(iter_frames(path, frames))


def market_name(pid: int, camera_id: int, frame: int, index: int) -> str:
    return f"{pid:04d}_c{camera_id:02d}_f{frame:06d}_{index:02d}.jpg"


def _plan(conn: sqlite3.Connection, reviewed_only: bool, per_tracklet: int) -> list[_Crop]:
    """One crop per stored thumbnail frame (best first, ``per_tracklet`` at most) of every exported member."""
    state = "AND m.state = 'confirmed'" if reviewed_only else ""
    rows = conn.execute(
        f"""
        SELECT m.identity_id, t.camera_id, v.path, th.frame, d.x1, d.y1, d.x2, d.y2, th.tracklet_id, th.rank
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
    for pid, cam, video, frame, x1, y1, x2, y2, tid, rank in rows:
        index = 0
        while market_name(pid, cam, frame, index) in used:
            index += 1
        name = market_name(pid, cam, frame, index)
        used.add(name)
        box = (x1, y1, x2, y2) if x1 is not None else (0.0, 0.0, 0.0, 0.0)
        crops.append(_Crop(name, video, int(frame), box, (int(tid), int(rank))))
    return crops


def _thumbnails(conn: sqlite3.Connection, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """{(tracklet id, rank): JPEG bytes} of the stored thumbnails ``keys``."""
    out: dict[tuple[int, int], bytes] = {}
    wanted = set(keys)
    tracklets = sorted({t for t, _ in wanted})
    for start in range(0, len(tracklets), 500):  # stay under SQLite's bound-variable limit
        chunk = tracklets[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT tracklet_id, rank, jpeg FROM thumbnails WHERE tracklet_id IN ({marks})", chunk
        )
        out.update(((t, r), bytes(j)) for t, r, j in rows if (t, r) in wanted)
    return out


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
        from_video = _write_crops(store, crops, tmp, video_reader)
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


def _write_crops(store: Store, crops: list[_Crop], out: Path, video_reader: VideoReader | None) -> int:
    """Every crop as a JPEG in ``out``, cut from its video frame when readable, else its stored thumbnail;
    returns how many were cut. One video at a time: the default reader holds one decoded frame, a crop is
    written as soon as it is cut, and only that video's missing thumbnails are read."""
    by_video: dict[str, list[_Crop]] = {}
    for c in crops:
        by_video.setdefault(c.video, []).append(c)
    from_video = 0
    for video, items in by_video.items():
        at_frame: dict[int, list[_Crop]] = {}
        for c in items:
            at_frame.setdefault(c.frame, []).append(c)
        frames: Iterable[tuple[int, np.ndarray]] = ()
        if video_reader is not None:
            frames = video_reader(video, sorted(at_frame)).items()
        elif Path(video).is_file():
            frames = iter_frames(video, sorted(at_frame))
        cut: set[str] = set()
        for frame, image in frames:
            for c in at_frame.get(frame, ()):
                crop = _cut(image, c.box)
                jpeg = _encode(crop) if crop is not None else None
                if jpeg is not None:
                    (out / c.name).write_bytes(jpeg)
                    cut.add(c.name)
        rest = [c for c in items if c.name not in cut]
        stored = store.read(_thumbnails, [c.thumbnail for c in rest]) if rest else {}
        for c in rest:
            (out / c.name).write_bytes(stored.get(c.thumbnail, b""))
        from_video += len(cut)
    return from_video
