"""The fast hand-crafted descriptor gives the features of its direct reference implementation (issue 23)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from reid.data.synthetic import render_crop, sample_appearance
from reid.video.handcrafted import HandcraftedEmbedder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_handcrafted import ReferenceHandcraftedEmbedder  # noqa: E402


def video_crops(rng: np.random.Generator, per_video: int = 6) -> list[np.ndarray]:
    """Person-sized boxes of the sample videos' first frames: real camera noise, where the LBP comparisons
    ``neighbour >= centre + 2`` hit float32 near-ties (a blur summed in another order changes ~1e-3)."""
    crops = []
    for name in ("left", "right"):
        cap = cv2.VideoCapture(str(ROOT / "examples" / f"{name}.mp4"))
        ok, frame = cap.read()
        cap.release()
        assert ok, name
        for _ in range(per_video):
            h = int(rng.integers(60, 300))
            w = int(h * 0.45)
            y, x = int(rng.integers(0, frame.shape[0] - h)), int(rng.integers(0, frame.shape[1] - w))
            crops.append(frame[y : y + h, x : x + w])
    return crops


def seeded_crops(seed: int = 0) -> list[np.ndarray]:
    """Real video crops, synthetic people, noise of odd sizes (down to 1x1), flat and banded images."""
    rng = np.random.default_rng(seed)
    people = [
        render_crop(sample_appearance(rng), cam, rng, int(h), int(h) // 2)[:, :, ::-1].copy()
        for cam, h in zip(range(4), rng.integers(60, 200, 4), strict=True)
    ]
    sizes = [(1, 1), (3, 200), (300, 2), (128, 64), (57, 23), (250, 130)]
    noise = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]
    flat = [np.full((128, 64, 3), (30, 200, 90), np.uint8), np.zeros((40, 20, 3), np.uint8)]
    bands = np.repeat(np.repeat((np.arange(16) * 2 + 100).astype(np.uint8), 4)[None, :, None], 128, 0)
    steps = np.repeat(bands, 3, axis=2)  # grey columns two levels apart
    return video_crops(rng) + people + noise + flat + [steps, steps.transpose(1, 0, 2).copy()]


def test_matches_the_reference_implementation() -> None:
    crops = seeded_crops()
    new = HandcraftedEmbedder().embed(crops)
    ref = ReferenceHandcraftedEmbedder().embed(crops)
    assert new.shape == ref.shape and new.dtype == np.float32
    np.testing.assert_allclose(new, ref, rtol=0, atol=1e-5)


def test_matches_the_reference_one_crop_at_a_time() -> None:
    crops = seeded_crops(seed=1)[:4]
    new = np.concatenate([HandcraftedEmbedder().embed([c]) for c in crops])
    np.testing.assert_allclose(new, ReferenceHandcraftedEmbedder().embed(crops), rtol=0, atol=1e-5)
