"""Reading the site's training set: crops, classes (confirmed identities merged), known-different pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reid.adapt import CoOccurrencePKSampler, load_site_crops, site_score
from reid.adapt.site import SiteCrops
from reid.config import LinkConfig
from reid.errors import ReidError
from reid.link.database import link_database
from reid.store import Store


def test_site_crops_merge_confirmed_identities_and_add_rejections(site_db) -> None:
    with Store(site_db) as store:
        link_database(store, LinkConfig())
        iid = store.tracklet(1).identity_id
        assert {t.id for t in store.identity_tracklets(iid)} == {1, 7}  # person 0 seen by both cameras
        store.confirm(1)
        store.confirm(7)
        store.reject(8)  # person 1 on the right "is not" person 1 on the left
        site = load_site_crops(store, 32, 16, max_crops=2)
    assert site.images.shape == (24, 3, 32, 16) and site.images.dtype == torch.uint8
    ids = site.tracklet_ids.tolist()
    cls = dict(zip(ids, site.tracklet_class.tolist(), strict=True))
    assert cls[1] == cls[7] and len(set(cls.values())) == 11
    pairs = {tuple(site.tracklet_ids[p].tolist()) for p in site.different}
    assert (2, 8) in pairs  # the rejection
    assert {(1, 2), (1, 3), (2, 3), (4, 5), (7, 8), (10, 12)} <= pairs  # in view together in one camera
    assert (1, 7) not in pairs and len(pairs) == 13
    assert site.tracklet_ids[site.same].tolist() == [[1, 7]]


def test_a_database_without_crops_is_refused(tmp_path) -> None:
    with Store(tmp_path / "empty.db") as store, pytest.raises(ReidError, match=r"empty.db: 0 tracklet\(s\)"):
        load_site_crops(store, 32, 16)


def test_sampler_puts_known_different_identities_in_one_batch() -> None:
    labels = np.repeat(np.arange(12), 3)
    different = np.array([[0, 1], [0, 2], [1, 2], [6, 7]])
    sampler = CoOccurrencePKSampler(labels, different, p=3, k=2, seed=1)
    batches = list(sampler)
    seen = [set(labels[b].tolist()) for b in batches]
    assert all(len(b) == 6 and len(s) == 3 for b, s in zip(batches, seen, strict=True))
    assert set().union(*seen) == set(range(12))  # every identity every epoch
    assert any({0, 1, 2} <= s for s in seen)
    assert all({6, 7} <= s for s in seen if s & {6, 7})
    assert list(CoOccurrencePKSampler(labels, different, p=3, k=2, seed=1)) == batches  # seeded
    assert list(sampler) != batches  # next epoch, another order
    with pytest.raises(ValueError, match="p=13 identities per batch but the data has only 12"):
        CoOccurrencePKSampler(labels, different, p=13, k=2)


def test_site_score_on_hand_made_features() -> None:
    """Two tracklets, two crops each; halves of each tracklet agree, the pair is known different."""
    site = SiteCrops(images=None, crop_tracklet=np.array([0, 0, 1, 1]), labels=np.array([0, 0, 1, 1]),  # type: ignore[arg-type]
                     tracklet_ids=np.array([5, 6]), tracklet_class=np.array([0, 1]), different=np.array([[0, 1]]),
                     same=np.zeros((0, 2), np.int64))
    far_apart = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float32)
    score = site_score(site, far_apart)
    assert score is not None and score.val == 1.0 and score.auc == 1.0
    assert score.threshold == pytest.approx(np.sqrt(2)) and (score.n_positive, score.n_negative) == (2, 1)
    same = np.array([[1, 0], [0.8, 0.6], [1, 0], [0.8, 0.6]], np.float32)  # halves differ more than people
    assert site_score(site, same).val == 0.0
