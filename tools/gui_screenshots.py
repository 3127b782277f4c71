"""Screenshots of the review app for docs/: main window, nearest, compare, overview and the help overlay.

Builds a database with ``populate`` of ``tests/fake_store.py``, renders small stand-in videos for the identity
shown (the synthetic persons pasted at their boxes, so the frame viewer has real frames to decode), then
drives the window offscreen and saves ``docs/gui-*.png``.

    QT_QPA_PLATFORM=offscreen python tools/gui_screenshots.py [--out docs] [--tracklets 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

SCALE = 0.25  # stand-in videos are 480x270 for the synthetic 1920x1080 boxes


def render_videos(store, folder: Path, video_ids: set[int]) -> None:
    """Write ``folder/<camera>/<file>`` for the given videos, up to the last frame any of their tracklets
    needs: a plain floor with every tracklet's best crop pasted at its (interpolated) box."""
    videos = {v.id: v for v in store.videos() if v.id in video_ids}
    by_video: dict[int, list] = {vid: [] for vid in videos}
    for summary in store.identity_summaries():
        for t in store.identity_tracklets(summary.id):
            if t.video_id in by_video:
                by_video[t.video_id].append(t)
    for vid, video in videos.items():
        tracks = []
        for t in by_video[vid]:
            thumbs = store.thumbnails(t.id, limit=1)
            crop = cv2.imdecode(np.frombuffer(thumbs[0][1], np.uint8), cv2.IMREAD_COLOR) if thumbs else None
            dets = store.detections(t.id)
            tracks.append((np.array([d.frame for d in dets]), np.array([d.box for d in dets]) * SCALE, crop))
        last = max(int(f[-1]) for f, _, _ in tracks) + 1
        w, h = int(video.width * SCALE), int(video.height * SCALE)
        out = folder.joinpath(*Path(video.path).parts[-2:])
        out.parent.mkdir(parents=True, exist_ok=True)
        floor = np.zeros((h, w, 3), np.uint8)
        floor[:] = (70, 80, 85)
        floor[h // 3:] = (120, 125, 118)
        cv2.line(floor, (0, h // 3), (w, h // 3), (60, 60, 60), 2)
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), video.fps, (w, h))
        for f in range(last):
            frame = floor.copy()
            for frames, boxes, crop in tracks:
                if crop is None or f < frames[0] or f > frames[-1]:
                    continue
                x1, y1, x2, y2 = (np.interp(f, frames, boxes[:, k]) for k in range(4))
                x1, y1 = max(0, int(x1)), max(0, int(y1))
                x2, y2 = min(w, max(x1 + 2, int(x2))), min(h, max(y1 + 2, int(y2)))
                frame[y1:y2, x1:x2] = cv2.resize(crop, (x2 - x1, y2 - y1))
            writer.write(frame)
        writer.release()


def pick_identity(store) -> int:
    """A multi-camera identity with proposed links (the interesting case to show)."""
    rows = store.identity_summaries()
    good = [r for r in rows if len(r.cameras) >= 3 and r.status == "unreviewed" and r.n_tracklets >= 3]
    return (good or rows)[0].id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for gui-*.png")
    parser.add_argument("--tracklets", type=int, default=600)
    parser.add_argument("--cameras", type=int, default=4)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from fake_store import populate  # tests/fake_store.py
    from PySide6.QtCore import QSettings

    from gui.app import create_app
    from gui.main_window import COMPARE, NEAREST, OVERVIEW, REVIEW, MainWindow
    from reid.store import Store

    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "review.db"
        with Store(db) as store:
            populate(store, n_tracklets=args.tracklets, n_cameras=args.cameras, seed=0)
            identity = pick_identity(store)
            members = store.identity_tracklets(identity)
            render_videos(store, Path(tmp), {t.video_id for t in members})

        window = MainWindow(settings=QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(1400, 860)
        window.show()
        window.open_database(db)
        window.wait_idle(10_000)
        window.identity_list.select_identity(identity)
        window.wait_idle(10_000)

        def shot(name: str) -> None:
            window.wait_idle(10_000)
            app.processEvents()
            path = out / f"gui-{name}.png"
            window.grab().save(str(path))
            print(f"wrote {path}")

        window.show_tab(REVIEW)
        shot("main")
        window.show_tab(NEAREST)
        shot("nearest")
        window.show_tab(COMPARE)
        window.wait_idle(10_000)
        window.compare_view.slider.setValue(400)
        shot("compare")
        window.show_tab(OVERVIEW)
        shot("overview")
        window.show_tab(REVIEW)
        window.help_overlay.toggle()
        shot("help")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
