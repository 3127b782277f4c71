"""Reference identities for the two-camera sample (``examples/``), made on the *uncut* frame.

The sample's cameras are the left and right halves of OpenCV's ``vtest.avi``. On the whole 768-px frame one
track follows a person across the cut, so the identities of the halves come from tracking the whole frame:

1. detect people on every frame of ``vtest.avi`` (10 fps) with the strongest detector at hand (YOLO, large
   input size, low confidence) and track them with BoT-SORT (``reid.video.track``), long lost-track buffer;
2. keep every second frame (the clips are 5 fps), cut each box at x = 384 into a left and a right box (right
   boxes shifted by -384); a part narrower than ``--min-visible`` of the box is written with the MOT
   "consider" flag 0 (scored neither as hit nor miss);
3. apply the hand-checked fixes in ``examples/reference/fixes.yaml`` (``drop``: not people; ``split``:
   ``[track, frame, into]`` moves the track's boxes from that source frame on to track ``into`` (an identity
   switch); ``merge``: track ids that are one person);
4. write ``gt/left.txt`` and ``gt/right.txt`` (MOTChallenge, global person ids) and, with ``--sheets``, one
   contact sheet per person (crops over time from both halves) to check the result by eye.

    python tools/make_reference.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi \
        --sheets /tmp/reference-sheets
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import yaml

from reid.config import TrackerConfig
from reid.data.motio import write_mot
from reid.video.detect import YoloDetector
from reid.video.track import TrackletBuilder
from reid.video.types import Detections, Frame

CUT = 384


def detect_all(video: Path, weights: Path, cache: Path, imgsz: int, conf: float) -> tuple[list[np.ndarray], list]:
    """Frames and detections of every frame (detections cached in ``cache``: YOLO on 795 frames is slow)."""
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    if cache.is_file():
        data = json.loads(cache.read_text())
        return frames, [Detections(np.asarray(b, np.float32).reshape(-1, 4), np.asarray(s, np.float32))
                        for b, s in data]
    det = YoloDetector(weights, conf=conf, imgsz=imgsz, batch=4)
    dets = []
    for s in range(0, len(frames), 4):
        dets += det.detect(frames[s:s + 4])
        print(f"\rdetect {min(s + 4, len(frames))}/{len(frames)}", end="", flush=True)
    print()
    cache.write_text(json.dumps([[d.boxes.tolist(), d.scores.tolist()] for d in dets]))
    return frames, dets


def track_all(frames: list[np.ndarray], dets: list, fps: float) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Track id -> [(source frame, xyxy box)] over the whole video."""
    cfg = TrackerConfig(kind="botsort", settings={"track_buffer": 90, "new_track_thresh": 0.3},
                        min_length=3, min_box_height=0, best_k=0, split_switches=False)
    builder = TrackletBuilder("full", "vtest", cfg, fps)
    for i, (image, d) in enumerate(zip(frames, dets, strict=True)):
        builder.update(Frame("full", "vtest", i, i / fps, image), d)
    return {t.track_id: list(zip(t.frames.tolist(), t.boxes, strict=True)) for t in builder.finish()}


def apply_fixes(tracks: dict[int, list], fixes: dict) -> dict[int, list]:
    """Person id -> [(source frame, box)] after dropping, splitting and merging tracks."""
    tracks = {k: v for k, v in tracks.items() if k not in set(fixes.get("drop", []))}
    tails = []
    for track, frame, into in fixes.get("split", []):  # cut all first: a swap cuts two tracks at once
        rows = tracks[track]
        tracks[track] = [r for r in rows if r[0] < frame]
        tails.append((into, [r for r in rows if r[0] >= frame]))
    for into, rows in tails:
        tracks[into] = sorted(tracks[into] + rows, key=lambda r: r[0])
    for group in fixes.get("merge", []):
        head = group[0]
        for other in group[1:]:
            tracks[head] = sorted(tracks[head] + tracks.pop(other), key=lambda r: r[0])
    return tracks


def halves(tracks: dict[int, list], every: int, min_visible: float) -> dict[str, list]:
    """MOT rows ``(clip frame 1-based, person, box, consider)`` of the left and right camera."""
    out: dict[str, list] = {"left": [], "right": []}
    for pid, rows in tracks.items():
        for frame, box in rows:
            if frame % every:
                continue
            x1, y1, x2, y2 = (float(v) for v in box)
            width = max(x2 - x1, 1.0)
            for cam, lo, hi in (("left", 0, CUT), ("right", CUT, 2 * CUT)):
                a, b = max(x1, lo), min(x2, hi)
                if b - a <= 1:
                    continue
                consider = 1.0 if (b - a) / width >= min_visible else 0.0
                out[cam].append((frame // every + 1, pid, [a - lo, y1, b - lo, y2], consider))
    return out


def contact_sheets(frames: list[np.ndarray], tracks: dict[int, list], out: Path, per_side: int = 6) -> None:
    """One image per person: crops over time, left half on top, right half below (red: crossing the cut)."""
    out.mkdir(parents=True, exist_ok=True)
    for pid, rows in sorted(tracks.items()):
        strips = []
        for side in (lambda c: c < CUT, lambda c: c >= CUT):
            sel = [(f, b) for f, b in rows if side((b[0] + b[2]) / 2)]
            pick = [sel[int(k)] for k in np.linspace(0, len(sel) - 1, min(per_side, len(sel)))] if sel else []
            tiles = []
            for f, b in pick:
                x1, y1, x2, y2 = (int(round(float(v))) for v in b)
                crop = frames[f][max(y1, 0):y2, max(x1, 0):x2]
                tile = cv2.resize(crop, (48, 112)) if crop.size else np.zeros((112, 48, 3), np.uint8)
                cv2.putText(tile, str(f), (1, 108), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 255, 255), 1)
                tiles.append(tile)
            tiles += [np.zeros((112, 48, 3), np.uint8)] * (per_side - len(tiles))
            strips.append(np.hstack(tiles))
        sheet = np.vstack(strips)
        cv2.putText(sheet, f"{pid}", (2, 12), cv2.FONT_HERSHEY_PLAIN, 1.0, (0, 0, 255), 1)
        cv2.imwrite(str(out / f"person_{pid:04d}.png"), sheet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, help="OpenCV's samples/data/vtest.avi")
    parser.add_argument("--weights", type=Path, default=Path("models/yolov8s-fall.pt"))
    parser.add_argument("--imgsz", type=int, default=960)
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--every", type=int, default=2, help="the clips keep every n-th source frame")
    parser.add_argument("--min-visible", type=float, default=0.35, help="visible part of a cut box to be scored")
    parser.add_argument("--out", type=Path, default=Path("examples/reference"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/vtest-detections.json"))
    parser.add_argument("--sheets", type=Path, default=None, help="write per-person contact sheets here")
    args = parser.parse_args()
    frames, dets = detect_all(args.video, args.weights, args.cache, args.imgsz, args.conf)
    tracks = track_all(frames, dets, fps=10.0)
    fixes_path = args.out / "fixes.yaml"
    fixes = yaml.safe_load(fixes_path.read_text()) or {} if fixes_path.is_file() else {}
    tracks = apply_fixes(tracks, fixes)
    rows = halves(tracks, args.every, args.min_visible)
    (args.out / "gt").mkdir(parents=True, exist_ok=True)
    for cam, cam_rows in rows.items():
        write_mot(args.out / "gt" / f"{cam}.txt", cam_rows)
        print(f"{cam}: {len(cam_rows)} boxes, {len({r[1] for r in cam_rows})} people")
    both = {r[1] for r in rows["left"] if r[3]} & {r[1] for r in rows["right"] if r[3]}
    print(f"{len(tracks)} people, {len(both)} seen in both cameras")
    if args.sheets:
        contact_sheets(frames, tracks, args.sheets)
        print(f"contact sheets in {args.sheets}")


if __name__ == "__main__":
    main()
