"""Render a synthetic multi-camera scene (videos, MOT ground truth, manifest) for trying ``reid process``.

    python tools/make_synthetic_scene.py data/scene --people 8 --cameras 3 --seconds 30 --seed 0
"""

from __future__ import annotations

import argparse
import logging

from reid.video.scene import render_scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder (created)")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--size", default="320x240", help="frame WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    scene = render_scene(args.out, people=args.people, cameras=args.cameras, seconds=args.seconds, seed=args.seed,
                         fps=args.fps, width=width, height=height)
    print(f"manifest: {scene.manifest}")
    for camera, video in scene.videos.items():
        print(f"  {camera}: {video}  (ground truth {scene.gt[camera]})")
    db = scene.manifest.parent / "scene.db"
    dets = " ".join(f"--detections {c}={p}" for c, p in scene.gt.items())
    print(f"process:  reid process --manifest {scene.manifest} --db {db}")
    print(f"  (or with the true boxes as detections, to test tracking + linking alone: add {dets})")
    print(f"evaluate: reid evaluate-tracks --gt {scene.manifest.parent / 'gt'} --db {db}")


if __name__ == "__main__":
    main()
