"""Render the two-camera splits of ``examples/splits.yaml`` from OpenCV's ``vtest.avi``, with their references.

Each split is two views cut from the 768-px frame (adjacent, overlapping or with a blind strip between
them), a frame range and a frame step, and optionally another camera response on one view, applied to the
real pixels (blur, resolution, white balance, gamma, saturation, JPEG compression). Its reference comes from
the one identity labelling of the uncut frame (``examples/reference/uncut.txt``, ``tools/make_reference.py``)
by geometry (``make_reference.view_rows``): same crop, scale and frame step, the same "consider = 0 for a
sliver under 35 % of its box" rule. Output, deterministic::

    data/splits/<name>/camA.mp4, camB.mp4, cameras.yaml, gt/camA.txt, gt/camB.txt

    apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
    python tools/make_splits.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi --out data/splits

Videos are MPEG-4 Part 2 (``mp4v``) as the sample's: this opencv-python cannot write H.264 (its only H.264
encoder, ``h264_v4l2m2m``, needs a hardware device), so "strong compression" is a JPEG round trip of every
frame at a low quality (``jpeg: 12``) before the mp4v encoder.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reid.data.motio import write_mot  # noqa: E402
from tools.make_reference import View, load_uncut, view_rows  # noqa: E402

SOURCE_FPS = 10.0  # vtest.avi


@dataclass(frozen=True)
class Camera:
    """One view of a split and its response (identity values: the source's own pixels)."""

    name: str
    x: tuple[int, int]
    blur: float = 0.0  # Gaussian sigma in source pixels (optics / focus)
    scale: float = 1.0  # resolution factor
    wb: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel gains, B G R (white balance)
    gamma: float = 1.0  # out = in ** gamma on [0, 1]
    saturation: float = 1.0  # HSV saturation factor
    jpeg: int = 0  # JPEG round trip at this quality (0: none)

    @property
    def view(self) -> View:
        return View(self.x[0], self.x[1], self.scale)


@dataclass(frozen=True)
class Split:
    name: str
    role: str  # tuning | held-out
    frames: tuple[int, int]  # first, last source frame (0-based, inclusive)
    every: int
    cameras: tuple[Camera, ...]
    transit: dict[str, list[float]]

    @property
    def keep(self) -> range:
        return range(self.frames[0], self.frames[1] + 1, self.every)


def load_splits(path: Path) -> list[Split]:
    """The splits of a spec file; unknown keys and roles are refused with the split's name."""
    doc = yaml.safe_load(path.read_text())
    known = {f.name for f in fields(Camera)} - {"name"}
    out = []
    for name, entry in doc["splits"].items():
        extra = set(entry) - {"role", "frames", "every", "cameras", "transit"}
        if extra or entry.get("role") not in ("tuning", "held-out"):
            raise SystemExit(
                f"{path}: split {name}: unknown keys {sorted(extra)} or role not tuning/held-out"
            )
        cams = []
        for cam, spec in entry["cameras"].items():
            if set(spec) - known:
                raise SystemExit(
                    f"{path}: split {name}, camera {cam}: unknown keys {sorted(set(spec) - known)}"
                )
            values = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
            cams.append(Camera(cam, **values))
        out.append(Split(name, entry["role"], tuple(entry["frames"]), int(entry["every"]), tuple(cams),
                         dict(entry.get("transit") or {})))  # fmt: skip
    return out


def respond(image: np.ndarray, cam: Camera) -> np.ndarray:
    """The camera's view of a BGR source frame: crop, blur, resize, white balance, gamma, saturation, JPEG."""
    out = np.ascontiguousarray(image[:, cam.x[0] : cam.x[1]])
    if cam.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), cam.blur)
    if cam.scale != 1.0:
        out = cv2.resize(out, cam.view.size(image.shape[0]), interpolation=cv2.INTER_AREA)
    if cam.wb != (1.0, 1.0, 1.0) or cam.gamma != 1.0:
        x = out.astype(np.float32) / 255.0 * np.asarray(cam.wb, np.float32)
        out = (np.clip(x, 0, 1) ** cam.gamma * 255.0 + 0.5).astype(np.uint8)
    if cam.saturation != 1.0:
        hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 1] = np.clip(hsv[..., 1] * cam.saturation, 0, 255)
        out = cv2.cvtColor((hsv + 0.5).astype(np.uint8), cv2.COLOR_HSV2BGR)
    if cam.jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def manifest(split: Split) -> dict[str, Any]:
    """``cameras.yaml`` of a split: every camera starts at the split's first source frame on one clock."""
    start = round(split.frames[0] / SOURCE_FPS, 3)
    doc: dict[str, Any] = {"cameras": {c.name: {"files": [f"{c.name}.mp4"], "start_time": start}
                                       for c in split.cameras}}  # fmt: skip
    if split.transit:
        doc["transit"] = {k: [float(v) for v in w] for k, w in split.transit.items()}
    return doc


def render(
    source: Path, split: Split, out: Path, tracks: dict | None, min_visible: float, videos: bool = True
) -> None:
    """Write the split's videos (unless ``videos`` is false), ``cameras.yaml`` and (given the uncut tracks)
    ``gt/``."""
    out.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(source))
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    code = cv2.VideoWriter_fourcc(*"mp4v")
    writers = [cv2.VideoWriter(str(out / f"{c.name}.mp4"), code, SOURCE_FPS / split.every, c.view.size(height))
               for c in split.cameras if videos]  # fmt: skip
    keep, index = split.keep, 0
    while videos and index <= split.frames[1]:
        ok, image = cap.read()
        if not ok:
            break
        if index in keep:
            for cam, writer in zip(split.cameras, writers, strict=True):
                writer.write(respond(image, cam))
        index += 1
    for writer in writers:
        writer.release()
    cap.release()
    (out / "cameras.yaml").write_text(f"# {split.name} ({split.role}): tools/make_splits.py\n"
                                      + yaml.safe_dump(manifest(split), sort_keys=False))  # fmt: skip
    if tracks is not None:
        (out / "gt").mkdir(exist_ok=True)
        for cam in split.cameras:
            write_mot(out / "gt" / f"{cam.name}.txt", view_rows(tracks, cam.view, height, keep, min_visible))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="OpenCV's samples/data/vtest.avi")
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "splits.yaml")
    parser.add_argument("--uncut", type=Path, default=ROOT / "examples" / "reference" / "uncut.txt")
    parser.add_argument("--out", type=Path, default=Path("data/splits"))
    parser.add_argument("--only", nargs="*", default=[], help="render only these splits")
    parser.add_argument(
        "--gt-only", action="store_true", help="only cameras.yaml and gt/ (videos as they are)"
    )
    parser.add_argument(
        "--min-visible", type=float, default=0.35, help="visible part of a cut box to be scored"
    )
    args = parser.parse_args()
    tracks = load_uncut(args.uncut) if args.uncut.is_file() else None
    if tracks is None:
        print(f"{args.uncut} not found: videos only, no gt/")
    for split in load_splits(args.spec):
        if args.only and split.name not in args.only:
            continue
        render(args.source, split, args.out / split.name, tracks, args.min_visible, not args.gt_only)
        print(f"{split.name} ({split.role}): {len(split.keep)} frames at {SOURCE_FPS / split.every:g} fps")


if __name__ == "__main__":
    main()
