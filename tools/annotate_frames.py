"""Draw each camera's frame at one moment with its boxes labelled by global identity (docs picture).

    python tools/annotate_frames.py out/demo/site.db --time 30 --out docs/pipeline-frame.png
"""

from __future__ import annotations

import argparse
import colorsys

import cv2
import numpy as np

from reid.store import Store


def colour(identity: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((identity * 0.618) % 1.0, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def annotate(store: Store, at: float) -> np.ndarray:
    """Frames of every camera nearest to time ``at`` side by side, boxes labelled ``#identity``."""
    panels = []
    for video in sorted(store.videos(), key=lambda v: v.camera):
        cam_start = next(c.start_time for c in store.cameras() if c.name == video.camera)
        frame = int(round((at - cam_start - video.offset_s) * video.fps))
        frame = min(max(frame, 0), video.frames - 1)
        cap = cv2.VideoCapture(video.path)
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = cap.read()
        cap.release()
        if not ok:
            raise SystemExit(f"{video.path}: cannot read frame {frame}")
        for feat in store.tracklet_features():
            row = store.tracklet(feat.id)
            if row.video_id != video.id or not row.first_frame <= frame <= row.last_frame:
                continue
            dets = [d for d in store.detections(feat.id) if d.frame == frame]
            for d in dets:
                x1, y1, x2, y2 = (int(v) for v in d.box)
                c = colour(row.identity_id or 0)
                cv2.rectangle(image, (x1, y1), (x2, y2), c, 2)
                cv2.putText(image, f"#{row.identity_id}", (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, c, 2)
        cv2.putText(image, f"{video.camera}  t={at:.1f}s", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        panels.append(image)
    height = max(p.shape[0] for p in panels)
    panels = [cv2.copyMakeBorder(p, 0, height - p.shape[0], 0, 6, cv2.BORDER_CONSTANT) for p in panels]
    return np.hstack(panels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--time", type=float, default=30.0, help="seconds on the common clock")
    parser.add_argument("--out", default="docs/pipeline-frame.png")
    args = parser.parse_args()
    with Store(args.db, readonly=True) as store:
        cv2.imwrite(args.out, annotate(store, args.time))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
