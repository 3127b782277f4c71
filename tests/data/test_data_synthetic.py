from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from reid.data import market1501
from reid.data.synthetic import generate, render_crop, render_person, sample_appearance


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("synth"), num_ids=12, cams=3, seed=5, height=64, width=32,
                    images_per_id=6)


def test_render_person_shapes_mask_and_speed() -> None:
    rng = np.random.default_rng(0)
    app = sample_appearance(rng)
    img, mask = render_person(app, 256, 128, rng, phase=0.25)
    assert img.shape == (256, 128, 3) and img.dtype == np.uint8
    assert mask.shape == (256, 128) and mask.dtype == bool
    assert 0.15 < mask.mean() < 0.7 and not img[~mask].any()
    assert mask[:8].any() and mask[-8:].any()  # head at the top, feet at the bottom
    a, _ = render_person(app, 128, 64, np.random.default_rng(1), phase=0.25)
    b, _ = render_person(app, 128, 64, np.random.default_rng(1), phase=0.75)
    assert not np.array_equal(a, b)  # the walk is animated
    t0 = time.perf_counter()
    for _ in range(50):
        render_person(app, 256, 128, rng, phase=0.1)
    assert (time.perf_counter() - t0) / 50 < 0.01  # ~0.5 ms here; generous for a busy machine


def test_render_crop() -> None:
    rng = np.random.default_rng(0)
    crop = render_crop(sample_appearance(rng), 2, rng, height=128, width=64)
    assert crop.shape == (128, 64, 3) and crop.dtype == np.uint8


def test_generated_folder_is_market_format(synth: Path) -> None:
    ds = market1501.load(synth)
    assert ds.num_train_pids == 6 and len(ds.train) == 36
    assert {s.pid for s in ds.query} <= {s.pid for s in ds.gallery}
    assert 0 in {s.pid for s in ds.gallery}  # distractors
    assert any(p.name.startswith("-1_") for p in (synth / "bounding_box_test").iterdir())  # junk
    pairs = [(s.pid, s.camid) for s in ds.query]
    assert len(pairs) == len(set(pairs))


def test_same_seed_same_bytes(synth: Path, tmp_path: Path) -> None:
    again = generate(tmp_path, num_ids=12, cams=3, seed=5, height=64, width=32, images_per_id=6)
    files = sorted(p.relative_to(synth) for p in synth.rglob("*.jpg"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.jpg"))
    assert all((synth / f).read_bytes() == (again / f).read_bytes() for f in files)
    other = generate(tmp_path / "other", num_ids=12, cams=3, seed=6, height=64, width=32, images_per_id=6)
    assert sorted(p.relative_to(other) for p in other.rglob("*.jpg")) != files


def _hist(path: str) -> np.ndarray:
    """4x4x4 colour histogram of the crop's centre, where the person is (the border is background)."""
    import cv2

    img = cv2.imread(path)
    h, w = img.shape[:2]
    img = img[h // 6: h - h // 10, w // 4: w - w // 4]
    h = cv2.calcHist([img], [0, 1, 2], None, [4, 4, 4], [0, 256] * 3).ravel()
    return h / h.sum()


def test_identity_lives_in_appearance(synth: Path) -> None:
    ds = market1501.load(synth)
    feats = np.stack([_hist(s.path) for s in ds.train])
    pids = np.array([s.pid for s in ds.train])
    d = np.abs(feats[:, None] - feats[None]).sum(-1)  # L1 histogram distance
    same = pids[:, None] == pids[None]
    off_diag = ~np.eye(len(pids), dtype=bool)
    assert d[same & off_diag].mean() < 0.9 * d[~same].mean()  # 0.81 measured; background is camera noise
