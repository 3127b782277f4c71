"""Reference identities of the uncut ``vtest.avi`` frame, and of any camera view cut from it.

The sample's cameras (``examples/``) and every split of ``examples/splits.yaml`` are views cut from OpenCV's
``vtest.avi``. On the whole 768-px frame one track follows a person across every cut, so the identities of
all views come from tracking the whole frame once:

1. detect people on every frame of ``vtest.avi`` (10 fps) with the strongest detector at hand (YOLO, large
   input size, low confidence) and track them with BoT-SORT (``reid.video.track``), long lost-track buffer;
2. apply the hand-checked fixes in ``examples/reference/fixes.yaml`` (``drop``: not people; ``split``:
   ``[track, frame, into]`` moves the track's boxes from that source frame on to track ``into`` (an identity
   switch); ``merge``: track ids that are one person);
3. write the result once as ``uncut.txt`` (MOTChallenge, 10 fps, the 768-px frame, global person ids);
4. derive each view's ground truth from it by geometry (``view_rows``): keep every n-th source frame of a
   frame range, cut each box to the view's columns, shift and scale it with the view; a part narrower than
   ``--min-visible`` of its box is written with the MOT "consider" flag 0 (scored neither as hit nor miss).
   For the sample: the left and right halves, every second frame: ``gt/left.txt`` and ``gt/right.txt``;
5. with ``--sheets``, one contact sheet per person (crops over time from both halves) to check by eye.

    python tools/make_reference.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi \
        --sheets /tmp/reference-sheets
    python tools/make_reference.py --from-uncut     # gt/ again from uncut.txt, no detector needed
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from reid.config import TrackerConfig
from reid.data.motio import MotRow, read_mot, write_mot
from reid.video.detect import YoloDetector
from reid.video.track import TrackletBuilder
from reid.video.types import Detections, Frame

CUT = 384


def detect_all(
    video: Path, weights: Path, cache: Path, imgsz: int, conf: float
) -> tuple[list[np.ndarray], list]:
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
        return frames, [
            Detections(np.asarray(b, np.float32).reshape(-1, 4), np.asarray(s, np.float32)) for b, s in data
        ]
    det = YoloDetector(weights, conf=conf, imgsz=imgsz, batch=4)
    dets = []
    for s in range(0, len(frames), 4):
        dets += det.detect(frames[s : s + 4])
        print(f"\rdetect {min(s + 4, len(frames))}/{len(frames)}", end="", flush=True)
    print()
    cache.write_text(json.dumps([[d.boxes.tolist(), d.scores.tolist()] for d in dets]))
    return frames, dets


def track_all(frames: list[np.ndarray], dets: list, fps: float) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Track id -> [(source frame, xyxy box)] over the whole video."""
    cfg = TrackerConfig(
        kind="botsort",
        settings={"track_buffer": 90, "new_track_thresh": 0.3},
        min_length=3,
        min_box_height=0,
        best_k=0,
        split_switches=False,
    )
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


@dataclass(frozen=True)
class View:
    """One camera cut from the uncut frame: source columns ``[x0, x1)`` of the full height, resized by
    ``scale`` (output size rounded to whole pixels; boxes follow the rounded size)."""

    x0: int
    x1: int
    scale: float = 1.0

    def size(self, height: int) -> tuple[int, int]:
        """(width, height) of the view's images for a source frame ``height`` pixels high."""
        return max(round((self.x1 - self.x0) * self.scale), 1), max(round(height * self.scale), 1)


def view_rows(
    tracks: dict[int, list], view: View, height: int, frames: range, min_visible: float
) -> list[MotRow]:
    """MOT rows ``(clip frame 1-based, person, xyxy box, consider)`` of one view.

    ``tracks``: person -> ``[(source frame 0-based, xyxy box on the uncut frame)]``; ``frames``: the source
    frames the clip keeps, in order (clip frame ``k + 1`` is ``frames[k]``). A box is cut to the view's
    columns (nothing is written for a part 1 px wide or less), shifted by ``-x0`` and scaled to the view's
    size; ``consider`` is 0 when the part left is narrower than ``min_visible`` of the box.
    """
    width, out_h = view.size(height)
    sx, sy = width / (view.x1 - view.x0), out_h / height
    out: list[MotRow] = []
    for pid, rows in tracks.items():
        for frame, box in rows:
            if frame not in frames:
                continue
            x1, y1, x2, y2 = (float(v) for v in box)
            a, b = max(x1, view.x0), min(x2, view.x1)
            if b - a <= 1:
                continue
            consider = 1.0 if (b - a) / max(x2 - x1, 1.0) >= min_visible else 0.0
            clip = frames.index(frame) + 1
            out.append((clip, pid, [(a - view.x0) * sx, y1 * sy, (b - view.x0) * sx, y2 * sy], consider))
    return out


def halves(tracks: dict[int, list], every: int, min_visible: float, frames: int = 795) -> dict[str, list]:
    """The sample's views: MOT rows of the left and right half, every ``every``-th of ``frames`` frames."""
    keep = range(0, frames, every)
    return {
        cam: view_rows(tracks, View(lo, lo + CUT), 576, keep, min_visible)
        for cam, lo in (("left", 0), ("right", CUT))
    }


def uncut_rows(tracks: dict[int, list]) -> list[MotRow]:
    """MOT rows of the uncut frame (1-based source frames, every box considered), person by person."""
    return [
        (frame + 1, pid, [float(v) for v in box], 1.0)
        for pid, rows in sorted(tracks.items())
        for frame, box in rows
    ]


def load_uncut(path: Path) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Person -> ``[(source frame 0-based, xyxy box)]`` from an ``uncut.txt`` written by ``uncut_rows``."""
    tracks: dict[int, list[tuple[int, np.ndarray]]] = {}
    for frame, mf in read_mot(path).items():
        for box, pid in zip(mf.boxes.astype(np.float64), mf.ids.tolist(), strict=True):
            tracks.setdefault(int(pid), []).append((frame - 1, box))
    return {pid: tracks[pid] for pid in sorted(tracks)}


def compare_gt(path: Path, rows: list[MotRow], tol: float = 0.02) -> str:
    """How ``rows`` differ from the MOT file at ``path``: boxes with the same frame, person and consider flag
    within ``tol`` px (MOT files keep 2 decimals), and the rest on either side (a person may have two boxes
    in one frame: each is matched once)."""
    old: dict[tuple[int, int], list[tuple[np.ndarray, float]]] = {}
    for f, mf in read_mot(path).items():
        for b, s, i in zip(mf.boxes, mf.scores, mf.ids, strict=True):
            old.setdefault((f, int(i)), []).append((np.asarray(b, np.float64), float(s)))
    same = extra = 0
    for frame, pid, box, consider in rows:
        left = old.get((int(frame), int(pid)), [])
        hit = next((k for k, (b, s) in enumerate(left)
                    if np.abs(b - np.asarray(box, np.float64)).max() <= tol and s == consider), None)  # fmt: skip
        if hit is None:
            extra += 1
        else:
            same += 1
            left.pop(hit)
    missing = sum(len(v) for v in old.values())
    return f"{path.name}: {same} boxes the same, {missing} only in the file, {extra} only derived"


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
                crop = frames[f][max(y1, 0) : y2, max(x1, 0) : x2]
                tile = cv2.resize(crop, (48, 112)) if crop.size else np.zeros((112, 48, 3), np.uint8)
                cv2.putText(tile, str(f), (1, 108), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 255, 255), 1)
                tiles.append(tile)
            tiles += [np.zeros((112, 48, 3), np.uint8)] * (per_side - len(tiles))
            strips.append(np.hstack(tiles))
        sheet = np.vstack(strips)
        cv2.putText(sheet, f"{pid}", (2, 12), cv2.FONT_HERSHEY_PLAIN, 1.0, (0, 0, 255), 1)
        cv2.imwrite(str(out / f"person_{pid:04d}.png"), sheet)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("video", type=Path, nargs="?", help="OpenCV's samples/data/vtest.avi")
    parser.add_argument("--weights", type=Path, default=Path("models/yolov8s-fall.pt"))
    parser.add_argument("--imgsz", type=int, default=960)
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--every", type=int, default=2, help="the clips keep every n-th source frame")
    parser.add_argument(
        "--min-visible", type=float, default=0.35, help="visible part of a cut box to be scored"
    )
    parser.add_argument("--out", type=Path, default=Path("examples/reference"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/vtest-detections.json"))
    parser.add_argument("--sheets", type=Path, default=None, help="write per-person contact sheets here")
    parser.add_argument(
        "--from-uncut",
        action="store_true",
        help="derive gt/ from OUT/uncut.txt (no video, detector or tracker needed)",
    )
    parser.add_argument("--check", action="store_true", help="compare with gt/ as it is, do not write it")
    args = parser.parse_args()
    uncut = args.out / "uncut.txt"
    frames: list[np.ndarray] = []
    if args.from_uncut:
        tracks = load_uncut(uncut)
    else:
        if args.video is None:
            parser.error("give the video, or --from-uncut")
        frames, dets = detect_all(args.video, args.weights, args.cache, args.imgsz, args.conf)
        tracks = track_all(frames, dets, fps=10.0)
        fixes_path = args.out / "fixes.yaml"
        fixes = yaml.safe_load(fixes_path.read_text()) or {} if fixes_path.is_file() else {}
        tracks = apply_fixes(tracks, fixes)
        print(f"{uncut}: {write_mot(uncut, uncut_rows(tracks))} boxes on the uncut frame")
    rows = halves(tracks, args.every, args.min_visible)
    (args.out / "gt").mkdir(parents=True, exist_ok=True)
    for cam, cam_rows in rows.items():
        if (args.out / "gt" / f"{cam}.txt").is_file():
            print(compare_gt(args.out / "gt" / f"{cam}.txt", cam_rows))
        if not args.check:
            write_mot(args.out / "gt" / f"{cam}.txt", cam_rows)
        print(f"{cam}: {len(cam_rows)} boxes, {len({r[1] for r in cam_rows})} people")
    both = {r[1] for r in rows["left"] if r[3]} & {r[1] for r in rows["right"] if r[3]}
    print(f"{len(tracks)} people, {len(both)} seen in both cameras")
    if args.sheets and frames:
        contact_sheets(frames, tracks, args.sheets)
        print(f"contact sheets in {args.sheets}")


if __name__ == "__main__":
    main()
