"""Render a synthetic multi-camera scene (videos, MOT ground truth, manifest) for trying ``reid process``.

    python tools/make_synthetic_scene.py data/scene --people 8 --cameras 3 --seconds 30 --seed 0
    python tools/make_synthetic_scene.py data/hard --hard   # like the real sample: two halves of one forecourt

``--hard`` renders ``reid.data.scenes.forecourt``: two adjacent 384x576 views at 5 fps cut from one forecourt,
30 people in 80 s (~6 in view at a time), mostly in dark look-alike clothes, crossing the cut, occluding each other, entering at the
borders, the two cameras with different colour response and resolution (``--same-cameras`` turns that off).
"""

from __future__ import annotations

import argparse
import logging

from reid.data.scenes.forecourt import render_forecourt
from reid.data.scenes.scene import render_scene

EASY = {"people": 8, "cameras": 3, "seconds": 30.0, "fps": 10.0, "size": "320x240"}
HARD = {"people": 30, "cameras": 2, "seconds": 80.0, "fps": 5.0, "size": "384x576"}  # the shipped sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder (created)")
    parser.add_argument("--hard", action="store_true", help="the hard two-camera forecourt scene (sample-like)")
    parser.add_argument("--same-cameras", action="store_true", help="--hard with one colour response for both")
    parser.add_argument("--people", type=int, help="default 8 (--hard: 30)")
    parser.add_argument("--cameras", type=int, help="default 3 (--hard: 2, the only choice)")
    parser.add_argument("--seconds", type=float, help="default 30 (--hard: 80)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, help="default 10 (--hard: 5)")
    parser.add_argument("--size", help="frame WIDTHxHEIGHT of one camera; default 320x240 (--hard: 384x576)")
    args = parser.parse_args()
    for key, value in (HARD if args.hard else EASY).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.same_cameras and not args.hard:
        parser.error("--same-cameras goes with --hard")
    if args.hard and args.cameras != 2:
        parser.error(f"--hard renders two cameras (left and right halves of one view), not {args.cameras}")
    width, height = (int(v) for v in args.size.lower().split("x"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.hard:
        scene = render_forecourt(args.out, people=args.people, seconds=args.seconds, seed=args.seed, fps=args.fps,
                                 width=width, height=height, camera_shift=not args.same_cameras)
    else:
        scene = render_scene(args.out, people=args.people, cameras=args.cameras, seconds=args.seconds,
                             seed=args.seed, fps=args.fps, width=width, height=height)
    print(f"manifest: {scene.manifest}")
    for camera, video in scene.videos.items():
        print(f"  {camera}: {video}  (ground truth {scene.gt[camera]})")
    db = scene.manifest.parent / "scene.db"
    dets = " ".join(f"--detections {c}={p}" for c, p in scene.gt.items())
    print(f"process:  reid process --manifest {scene.manifest} --db {db}")
    print(f"  (or with the true boxes as detections, to test tracking + linking alone: add {dets})")
    if scene.detections:
        noisy = " ".join(f"--detections {c}={p}" for c, p in scene.detections.items())
        print(f"  (or with detector-like boxes: jittered, some missed: add {noisy})")
    print(f"evaluate: reid evaluate-tracks --gt {scene.manifest.parent / 'gt'} --db {db}")


if __name__ == "__main__":
    main()
