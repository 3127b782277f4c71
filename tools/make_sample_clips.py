"""Make the two-camera sample in ``examples/`` from OpenCV's ``vtest.avi``.

``vtest.avi`` (768x576, 10 fps, 795 frames: people walking across a campus forecourt, seen from above) ships
with the OpenCV samples (``samples/data/vtest.avi``; Debian/Ubuntu package ``opencv-doc``, installed at
``/usr/share/doc/opencv-doc/examples/data/vtest.avi``). Its left and right halves become two "cameras" whose
views meet in the middle, so people walk out of one camera's view into the other's.

    apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
    python tools/make_sample_clips.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2


def make_clips(source: Path, out: Path, fourcc: str = "mp4v", every: int = 2, frames: int = 0) -> list[Path]:
    """Split ``source`` into its left and right halves, written as ``out/left.mp4`` and ``out/right.mp4``.

    Keeps every ``every``-th frame (the clip's fps is divided by it, so frame times stay real) and stops after
    ``frames`` source frames (0 = all).
    """
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        raise SystemExit(f"{source}: cannot open")
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    half = width // 2
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "left.mp4", out / "right.mp4"]
    code = cv2.VideoWriter_fourcc(*fourcc)
    writers = [cv2.VideoWriter(str(p), code, fps / every, (half, height)) for p in paths]
    for path, writer in zip(paths, writers, strict=True):
        if not writer.isOpened():
            raise SystemExit(f"{path}: this OpenCV cannot write {fourcc}")
    n = written = 0
    while frames <= 0 or n < frames:
        ok, image = cap.read()
        if not ok:
            break
        if n % every == 0:
            writers[0].write(image[:, :half])
            writers[1].write(image[:, half : 2 * half])
            written += 1
        n += 1
    for writer in writers:
        writer.release()
    cap.release()
    print(f"wrote {written} frames of {half}x{height} at {fps / every:g} fps to {', '.join(map(str, paths))}")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="path to OpenCV's samples/data/vtest.avi")
    parser.add_argument("--out", type=Path, default=Path("examples"))
    parser.add_argument("--fourcc", default="mp4v", help="codec OpenCV writes (mp4v, MJPG, ...)")
    parser.add_argument("--every", type=int, default=2, help="keep every n-th frame (10 fps -> 5 fps)")
    parser.add_argument("--frames", type=int, default=0, help="stop after this many source frames (0 = all)")
    args = parser.parse_args()
    make_clips(args.source, args.out, args.fourcc, args.every, args.frames)


if __name__ == "__main__":
    main()
