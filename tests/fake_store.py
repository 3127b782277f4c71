"""A realistic fake store for GUI tests, ``tools/make_fake_db.py`` and benchmarks: cameras, videos, tracklets
with detections, embeddings and small JPEG thumbnails, identities linked with costs (some of them wrong), a few
reviewed and named.

Nothing here reads video: thumbnails are tiny solid-colour "person" crops (head, shirt, trousers), one JPEG
per colour pair, encoded once and shared, so 10,000 tracklets take a few seconds. Tests import it as
``fake_store`` (``tests/`` is on pytest's path); scripts put ``tests/`` on ``sys.path`` first.
"""

from __future__ import annotations

import numpy as np

from reid.store import LinkProposal, Store, TrackletRecord, VideoRecord
from reid.video.thumbnails import encode_thumbnail

FPS = 25.0
VIDEO_SECONDS = 360.0  # each camera has two 6-minute files
VIDEOS_PER_CAMERA = 2
DET_STRIDE = 5  # one detection every 5 frames, like ``reid process --stride 5``
THUMBS_PER_TRACKLET = 3
LINK_THRESHOLD = 0.6  # LinkConfig.threshold default: confidence = 1 - cost / threshold
WRONG_LINK_RATE = 0.05  # fraction of tracklets the fake linker puts in another person's group
PALETTE = np.array([[40, 40, 200], [200, 60, 40], [60, 160, 60], [30, 200, 230], [180, 60, 170], [230, 230, 230],
                    [40, 40, 40], [120, 120, 120], [20, 90, 160], [160, 150, 60], [90, 40, 110], [200, 170, 130]],
                   dtype=np.uint8)  # BGR


def person_crop(shirt: np.ndarray, trousers: np.ndarray, height: int = 128) -> np.ndarray:
    """(height, height // 2, 3) uint8 BGR: grey background, skin-coloured head, shirt and trouser blocks."""
    w = height // 2
    img = np.full((height, w, 3), 110, np.uint8)
    u = height // 16
    img[u:4 * u, w // 3:w - w // 3] = (140, 170, 220)  # head
    img[4 * u:9 * u, w // 6:w - w // 6] = shirt
    img[9 * u:15 * u, w // 4:w - w // 4] = trousers
    return img


class _Thumbs:
    """Encodes each (shirt, trousers) colour pair once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], bytes] = {}

    def __call__(self, shirt: int, trousers: int) -> bytes:
        key = (shirt, trousers)
        if key not in self._cache:
            self._cache[key] = encode_thumbnail(person_crop(PALETTE[shirt], PALETTE[trousers]))
        return self._cache[key]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _box_track(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    """(n, 4) float32 xyxy boxes of a person walking across the frame."""
    h = rng.uniform(0.2, 0.4) * height
    w = 0.4 * h
    x0 = rng.uniform(0, width - w)
    y0 = rng.uniform(0.3 * height, height - h)
    vx = rng.uniform(-12, 12)
    steps = np.arange(n, dtype=np.float32)
    x = np.clip(x0 + vx * steps, 0, width - w)
    y = np.full(n, y0, np.float32) + rng.normal(0, 2, n).astype(np.float32)
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.float32)


def populate(store: Store, n_tracklets: int = 10_000, n_cameras: int = 4, seed: int = 0,
             embedding_dim: int = 64, hours: float | None = None) -> dict:
    """Fill ``store`` with a fake multi-camera recording; returns ``store.counts()``.

    Each camera records ``VIDEOS_PER_CAMERA`` files of ``VIDEO_SECONDS`` (12 minutes), or as many as ``hours``
    take when given (``tools/make_fake_db.py --hours 1``: 16 cameras x 1 hour); people arrive evenly over it.

    About three tracklets per person over random cameras; embeddings are the person's unit vector plus noise
    (same person ~0.15-0.6 apart, different people ~1.4); the fake linker groups by person with
    ``WRONG_LINK_RATE`` mistakes. Then 2% of identities are confirmed, 1% named and one link rejected.
    """
    rng = np.random.default_rng(seed)
    thumbs = _Thumbs()
    n_videos = VIDEOS_PER_CAMERA if hours is None else max(1, int(np.ceil(hours * 3600.0 / VIDEO_SECONDS)))
    span = n_videos * VIDEO_SECONDS
    n_persons = max(1, n_tracklets // 3)
    centroids = _unit(rng.normal(size=(n_persons, embedding_dim)))
    colours = rng.integers(0, len(PALETTE), size=(n_persons, 2))
    person_start = rng.uniform(0, span - 60, n_persons)

    person = np.sort(rng.integers(0, n_persons, n_tracklets))
    camera = rng.integers(0, n_cameras, n_tracklets)
    start = np.clip(person_start[person] + rng.uniform(0, 40, n_tracklets), 0, span - 30)
    n_det = rng.integers(8, 41, n_tracklets)
    scale = rng.uniform(0.1, 0.45, (n_tracklets, 1))  # some tracklets are sharp, some blurred or occluded
    noise = rng.normal(size=(n_tracklets, embedding_dim)) * (scale / np.sqrt(embedding_dim))
    embeddings = _unit(centroids[person] + noise)

    per_video: dict[tuple[int, int], list[int]] = {}
    for i in range(n_tracklets):
        part = min(int(start[i] // VIDEO_SECONDS), n_videos - 1)
        per_video.setdefault((int(camera[i]), part), []).append(i)

    tracklet_ids = np.zeros(n_tracklets, np.int64)
    for (cam, part), members in sorted(per_video.items()):
        video = VideoRecord(camera=f"cam{cam + 1}", path=f"/synthetic/cam{cam + 1}/part{part + 1}.mp4", fps=FPS,
                            frames=int(VIDEO_SECONDS * FPS), width=1920, height=1080,
                            offset_s=part * VIDEO_SECONDS, detector="synthetic", embedder="synthetic")
        tracklets = []
        for track_id, i in enumerate(sorted(members, key=lambda i: start[i]), start=1):
            first = int(round((start[i] - video.offset_s) * FPS))
            first = min(first, video.frames - DET_STRIDE * int(n_det[i]))
            frames = first + DET_STRIDE * np.arange(n_det[i])
            boxes = _box_track(rng, len(frames), 1920, 1080)
            scores = rng.uniform(0.4, 0.95, len(frames)).astype(np.float32)
            jpeg = thumbs(*colours[person[i]])
            picks = np.sort(rng.choice(frames, size=min(THUMBS_PER_TRACKLET, len(frames)), replace=False))
            tracklets.append(TrackletRecord(
                track_id, frames, video.offset_s + frames / FPS, boxes, scores, embeddings[i],
                thumbnails=tuple((int(f), jpeg) for f in picks)))
        vid = store.commit_video(video, tracklets)
        first_id = store.conn.execute("SELECT MIN(id) FROM tracklets WHERE video_id = ?", (vid,)).fetchone()[0]
        for k, i in enumerate(sorted(members, key=lambda i: start[i])):
            tracklet_ids[i] = first_id + k

    # the fake linker: group by person, with some tracklets sent to a neighbouring person's group
    linked_person = person.copy()
    wrong = rng.random(n_tracklets) < WRONG_LINK_RATE
    linked_person[wrong] = (person[wrong] + 1) % n_persons
    groups = []
    by_person = np.argsort(linked_person, kind="stable")  # one pass, not one scan of all tracklets per person
    bounds = np.flatnonzero(np.diff(linked_person[by_person])) + 1
    for idx in np.split(by_person, bounds):
        idx = idx[np.argsort(start[idx])]
        anchor = embeddings[idx[0]]
        group = [LinkProposal(int(tracklet_ids[idx[0]]))]
        for i in idx[1:]:
            cost = float(np.linalg.norm(embeddings[i] - anchor))
            group.append(LinkProposal(int(tracklet_ids[i]), cost, float(np.clip(1 - cost / LINK_THRESHOLD, 0, 1))))
        groups.append(group)
    store.apply_links(groups)

    summaries = store.identity_summaries()
    multi = [s.id for s in summaries if s.n_tracklets > 1]
    for iid in multi[: max(1, len(summaries) // 50)]:
        for t in store.identity_tracklets(iid):
            store.confirm(t.id)
    for k, s in enumerate(summaries[: max(1, len(summaries) // 100)]):
        store.annotate(s.id, f"Person {k + 1}", "synthetic")
    queue = store.review_queue()
    if queue:
        store.reject(queue[0])
    store.set_meta("link_threshold", str(LINK_THRESHOLD))
    store.set_meta("synthetic", f"n_tracklets={n_tracklets} n_cameras={n_cameras} seed={seed}")
    return store.counts()
