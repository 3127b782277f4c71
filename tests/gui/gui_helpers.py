"""Helpers of the GUI tests: scripted dialogs, a tiny database with real video files, waiting for the window."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from reid.store import LinkProposal, Store, VideoRecord
from reid.video.types import Crop, Tracklet

FPS = 10.0
W, H, N_FRAMES = 96, 64, 30
COLOURS = {1: (40, 40, 200), 2: (200, 90, 40)}  # person -> BGR shirt


class FakeDialogs:
    """Scripted answers; every question is recorded in ``asked`` as ``(kind, title, text)``."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []
        self.identity: int | None = None
        self.annotation: tuple[str, str] | None = None
        self.folder: str | None = None
        self.open_path: str | None = None
        self.pictures = None

    def errors(self) -> list[str]:
        return [text for kind, _, text in self.asked if kind == "error"]

    def error(self, parent, title, text):
        self.asked.append(("error", title, text))

    def info(self, parent, title, text):
        self.asked.append(("info", title, text))

    def open_database(self, parent, start=""):
        self.asked.append(("open", "", start))
        return self.open_path

    def choose_folder(self, parent, title, start=""):
        self.asked.append(("folder", title, start))
        return self.folder

    def choose_identity(self, parent, title, candidates, pictures=None):
        self.asked.append(("identity", title, repr([c[0] for c in candidates])))
        self.pictures = pictures  # gui.widgets.identity_picker.IdentityPictures the real dialog would show
        return self.identity

    def annotate(self, parent, identity_id, name, note):
        self.asked.append(("annotate", str(identity_id), name))
        return self.annotation


def _person_frame(boxes: list[tuple[int, tuple[float, ...]]]) -> np.ndarray:
    img = np.full((H, W, 3), 90, np.uint8)
    for person, (x1, y1, x2, y2) in boxes:
        cv2.rectangle(img, (int(x1), int(y1)), (int(x2), int(y2)), COLOURS[person], -1)
    return img


def _track(person: int, camera: str, video: str, track_id: int, x0: float, emb: np.ndarray) -> Tracklet:
    frames = np.arange(0, N_FRAMES, 3)
    boxes = np.array([[x0 + f, 10, x0 + f + 12, 50] for f in frames], np.float32)
    crop = np.full((40, 16, 3), COLOURS[person], np.uint8)
    crops = [Crop(frame=int(f), image=crop, quality=1.0 - k / 10) for k, f in enumerate(frames[:3])]
    return Tracklet(
        camera=camera,
        video=video,
        track_id=track_id,
        frames=frames,
        times=frames / FPS,
        boxes=boxes,
        scores=np.full(len(frames), 0.9, np.float32),
        crops=crops,
        embedding=emb,
    )


def _unit(*v: float) -> np.ndarray:
    a = np.asarray(v, np.float32)
    return a / np.linalg.norm(a)


def make_video_db(folder: Path) -> Path:
    """Two cameras with one real 30-frame video each; persons 1 and 2 walk through both.

    Tracklet ids: camA.mp4 -> 1 (person 1), 2 (person 2); camB.mp4 -> 3 (person 1), 4 (person 2).
    Identities: {1, 3} with cost 0.2 (confidence 0.67) and {2, 4} with cost 0.5 (confidence 0.17), so the
    work queue is [4, 3].
    """
    db = folder / "video.db"
    with Store(db) as store:
        for cam, x0s, embs in (
            ("camA", (5, 50), (_unit(1, 0, 0), _unit(0, 1, 0))),
            ("camB", (30, 10), (_unit(1, 0.2, 0), _unit(0.3, 1, 0.2))),
        ):
            path = folder / f"{cam}.mp4"
            tracks = [_track(p, cam, str(path), p, x0, e) for p, x0, e in zip((1, 2), x0s, embs, strict=True)]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
            for f in range(N_FRAMES):
                boxes = [(p + 1, tuple(t.boxes[min(f // 3, len(t.boxes) - 1)])) for p, t in enumerate(tracks)]
                writer.write(_person_frame(boxes))
            writer.release()
            store.commit_video(VideoRecord(cam, str(path), FPS, N_FRAMES, W, H), tracks)
        store.apply_links(
            [[LinkProposal(1), LinkProposal(3, 0.2, 0.67)], [LinkProposal(2), LinkProposal(4, 0.5, 0.17)]]
        )
        store.set_meta("link_threshold", "0.6")  # as `reid process` records it: the window's decisions relink
    return db


def open_db(qtbot, window, path: Path) -> None:
    """Open ``path`` and wait for the first screen (identity selected, its tracklets listed)."""
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        assert window.open_database(path)
    window.wait_idle()


def settle(qtbot, window) -> None:
    """Wait until every query and thumbnail job has answered."""
    qtbot.waitUntil(lambda: window.wait_idle(200), timeout=10_000)


# --- what the database says now (a read-only look, as a reviewer's edits are checked)
def member(db, tid):
    """``(identity, state)`` of tracklet ``tid``."""
    with Store(db, readonly=True) as s:
        t = s.tracklet(tid)
        return t.identity_id, t.state


def identity_of(db, tid):
    with Store(db, readonly=True) as s:
        return s.tracklet(tid).identity_id


def cannot_link(db):
    with Store(db, readonly=True) as s:
        return s.link_constraints().cannot_link


def log_actions(db):
    """Actions of the review log's entries in effect, oldest first."""
    with Store(db, readonly=True) as s:
        return [r.action for r in s.review_log() if not r.undone]


def dump(db):
    """Every table but the review log, rows sorted (an undo must give these back exactly)."""
    with Store(db, readonly=True) as s:
        tables = [r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            t: sorted(s.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in tables
            if t != "review_log"
        }
