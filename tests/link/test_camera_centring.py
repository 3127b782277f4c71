"""Camera-aware centring on tracklets whose two cameras differ by a constant colour offset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fake_store import populate
from link_features import feature

from reid.config import LinkConfig
from reid.link.calibrate import resolve_threshold
from reid.link.camera_centring import camera_means, centre_by_camera
from reid.link.database import centred_like_last_link, link_database
from reid.store import Store


def offset_cameras(n: int = 12, d: int = 24, shift: float = 1.0, seed: int = 0) -> list:
    """``n`` people near one mean appearance (as colour descriptors are), seen once by camera a and once by b,
    b's vectors all moved by one offset (its colour response), every vector L2-normalised; person k is
    tracklet k (a) and 100 + k (b)."""
    rng = np.random.default_rng(seed)
    mean, offset = np.eye(d)[0], shift * np.eye(d)[1]
    feats = []
    for k in range(n):
        p = mean + 0.15 * rng.normal(size=d)
        for fid, cam, v in ((k, "a", p), (100 + k, "b", p + offset)):
            v = v + 0.02 * rng.normal(size=d)
            feats.append(feature(fid, cam, 0.0, 10.0, (v / np.linalg.norm(v)).astype(np.float32)))
    return feats


def true_and_within(feats: list) -> tuple[np.ndarray, np.ndarray]:
    """Distances of the true cross-camera pairs and of the different people within each camera."""
    emb = {f.id: f.embedding.astype(np.float64) for f in feats}
    true = np.array([np.linalg.norm(emb[k] - emb[k + 100]) for k in emb if k < 100])
    within = np.array(
        [np.linalg.norm(emb[i] - emb[j]) for i in emb for j in emb if i < j and (i < 100) == (j < 100)]
    )
    return true, within


def test_centring_brings_the_pairs_a_camera_offset_moves_apart_back() -> None:
    feats = offset_cameras()
    true, within = true_and_within(feats)
    assert (
        true.min() > within.min()
    )  # the offset puts people seen by both cameras further apart than look-alikes
    true, within = true_and_within(centre_by_camera(feats))
    assert true.max() < within.min()  # centring undoes it: every true pair closer than any two people


def test_centred_camera_means_coincide_and_vectors_stay_unit() -> None:
    centred = centre_by_camera(offset_cameras())
    means = camera_means(centred)
    raw = camera_means(offset_cameras())
    assert np.linalg.norm(means["a"] - means["b"]) < 0.2 * np.linalg.norm(raw["a"] - raw["b"])
    assert np.allclose([np.linalg.norm(f.embedding) for f in centred], 1.0, atol=1e-5)
    assert all(f.embedding.dtype == np.float32 for f in centred)


def test_one_camera_or_no_embedding_is_left_alone() -> None:
    feats = [f for f in offset_cameras() if f.camera == "a"]
    assert centre_by_camera(feats) == feats
    mixed = [*offset_cameras()[:4], feature(999, "b", 0.0, 1.0, None)]
    assert centre_by_camera(mixed)[-1].embedding is None


def test_threshold_calibrated_after_centring_accepts_the_cross_camera_pairs() -> None:
    feats = offset_cameras(n=20)
    centred = centre_by_camera(feats)
    pairs = [(f, g) for f in centred for g in centred if f.camera == "a" and g.id == f.id + 100]
    for space, accepted in ((feats, False), (centred, True)):
        cal = resolve_threshold(space, None, LinkConfig(far=0.01))
        emb = {f.id: f.embedding for f in space}
        d = np.array([np.linalg.norm(emb[f.id] - emb[g.id]) for f, g in pairs])
        assert bool(np.all(d < cal.threshold)) is accepted


def test_link_database_records_the_space_it_calibrated_in(tmp_path: Path) -> None:
    with Store(tmp_path / "site.db") as store:
        populate(store, n_tracklets=90, n_cameras=3, seed=5)
        raw = store.tracklet_features()
        cal = link_database(store, LinkConfig()).calibration
        moved = centred_like_last_link(store, raw)
        assert cal.threshold == resolve_threshold(moved, store.link_constraints(), LinkConfig()).threshold
        assert [f.embedding.tolist() for f in moved] == [f.embedding.tolist() for f in centre_by_camera(raw)]
        link_database(store, LinkConfig(camera_centring=False))  # off: nothing recorded, vectors as stored
        assert all(a is b for a, b in zip(centred_like_last_link(store, raw), raw, strict=True))
