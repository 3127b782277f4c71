"""Helpers of the adapt tests (a module of their own: ``conftest`` cannot be imported by name once several
test folders have one).

A small site database built from generated person crops: 2 cameras, 6 people seen once by each camera.

In each camera people 0-2 are in view together (frames 0-19 on camera ``left``, 25-44 on ``right``), then
people 3-5 (frames 40-59, 65-84): every pair inside a trio overlaps in time in one camera, so it is known to
be different. Tracklet ids: ``left`` 1-6 (person 0-5), ``right`` 7-12. Each person wears their own shirt and
trouser colours; crops vary in brightness and noise. Embeddings are the hand-crafted descriptor's.
"""

from __future__ import annotations

import numpy as np

from reid.store import Store, VideoRecord
from reid.video.embed import HandcraftedEmbedder, embed_tracklets
from reid.video.types import Crop, Tracklet

FPS = 10.0
COLOURS = [((40, 40, 200), (60, 60, 60)), ((200, 60, 40), (230, 230, 230)), ((60, 160, 60), (20, 20, 20)),
           ((30, 200, 230), (120, 40, 40)), ((180, 60, 170), (200, 200, 90)), ((230, 230, 230), (40, 120, 40))]
START = {"left": (0, 40), "right": (25, 65)}  # first frame of people 0-2 and of people 3-5


def person_crop(person: int, rng: np.random.Generator, height: int = 128) -> np.ndarray:
    """(height, height // 2, 3) uint8 BGR: grey background, head, the person's shirt and trousers, noise."""
    w = height // 2
    img = np.full((height, w, 3), 110, np.float32)
    u = height // 16
    shirt, trousers = COLOURS[person]
    img[u:4 * u, w // 3:w - w // 3] = (140, 170, 220)
    img[4 * u:9 * u, w // 6:w - w // 6] = shirt
    img[9 * u:15 * u, w // 4:w - w // 4] = trousers
    img = img * rng.uniform(0.8, 1.2) + rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_site(path, n_crops: int = 4, seed: int = 0) -> None:
    """Write the site database described in the module docstring to ``path`` (no links yet)."""
    rng = np.random.default_rng(seed)
    with Store(path) as store:
        for camera in ("left", "right"):
            tracklets = []
            for person in range(len(COLOURS)):
                first = START[camera][person // 3]
                frames = np.arange(first, first + 20)
                boxes = np.array([[10 + 30 * (person % 3), 20, 74 + 30 * (person % 3), 148]] * 20, np.float32)
                crops = [Crop(int(frames[2 * k]), person_crop(person, rng), 1.0 - 0.1 * k) for k in range(n_crops)]
                tracklets.append(Tracklet(camera, f"{camera}.mp4", person + 1, frames, frames / FPS, boxes,
                                          np.full(20, 0.9, np.float32), crops))
            embed_tracklets(tracklets, HandcraftedEmbedder())
            store.set_meta("embedder", HandcraftedEmbedder().name)
            store.commit_video(VideoRecord(camera, f"{camera}.mp4", FPS, 100, 384, 576), tracklets)
