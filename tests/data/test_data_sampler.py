from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from reid.data import PKSampler

# 12 identities with 1..12 images each (ids 100, 101, ...), shuffled order in the data set
LABELS = np.random.default_rng(0).permutation(np.repeat(np.arange(100, 112), np.arange(1, 13))).tolist()


def test_batches_are_p_distinct_ids_times_k() -> None:
    sampler = PKSampler(LABELS, p=4, k=3, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) > 0
    for batch in batches:
        ids = [LABELS[i] for i in batch]
        assert len(batch) == 12
        assert sorted(Counter(ids).values()) == [3, 3, 3, 3]  # 4 distinct ids, 3 images each


def test_every_identity_every_epoch() -> None:
    sampler = PKSampler(LABELS, p=5, k=4, seed=1)
    for epoch in range(5):
        sampler.set_epoch(epoch)
        seen = {LABELS[i] for batch in sampler for i in batch}
        assert seen == set(LABELS)


def test_covers_all_images_of_identities_with_k_multiples() -> None:
    labels = np.repeat(np.arange(6), 4).tolist()  # every id has exactly K = 4 images
    batches = list(PKSampler(labels, p=2, k=4, seed=0))
    assert sorted(i for b in batches for i in b) == list(range(24))


def test_replacement_when_fewer_than_k() -> None:
    sampler = PKSampler(LABELS, p=3, k=4, seed=2)
    one_image_index = LABELS.index(100)  # id 100 has a single image
    for batch in sampler:
        if one_image_index in batch:
            assert batch.count(one_image_index) == 4


def test_deterministic_by_seed_and_epoch() -> None:
    a, b = PKSampler(LABELS, 4, 2, seed=7), PKSampler(LABELS, 4, 2, seed=7)
    assert list(a) == list(b)  # epoch 0 (both advance to epoch 1)
    assert list(a) == list(b)  # epoch 1
    a.set_epoch(0)
    first = list(a)
    assert list(a) != first  # epoch 1 differs from epoch 0
    a.set_epoch(0)
    assert list(a) == first
    assert list(PKSampler(LABELS, 4, 2, seed=8)) != first


def test_does_not_touch_global_random_state() -> None:
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    list(PKSampler(LABELS, 4, 2, seed=3))
    assert np.random.rand() == expected


def test_state_round_trip_resumes_mid_epoch() -> None:
    a = PKSampler(LABELS, 4, 2, seed=5)
    a.set_epoch(3)
    full = list(a)
    a.set_epoch(3)
    it = iter(a)
    head = [next(it), next(it)]
    state = a.state_dict()
    b = PKSampler(LABELS, 4, 2, seed=0)
    b.load_state_dict(state)
    assert head + list(b) == full
    assert b.epoch == 4 and b.state_dict()["position"] == 0
    c = PKSampler(LABELS, 4, 2)
    c.load_state_dict(state)
    c.set_epoch(3)  # a trainer's usual set_epoch after restoring keeps the position
    assert head + list(c) == full
    c.set_epoch(3)
    assert list(c) == full


def test_state_of_another_sampler_is_refused() -> None:
    with pytest.raises(ValueError, match="p, k, samples"):
        PKSampler(LABELS, 4, 2).load_state_dict(PKSampler(LABELS, 4, 3).state_dict())


def test_validation_messages_give_the_numbers() -> None:
    with pytest.raises(ValueError, match="p=16 identities per batch but the data has only 12"):
        PKSampler(LABELS, p=16, k=4)
    with pytest.raises(ValueError, match="p=1 identities and k=4"):
        PKSampler(LABELS, p=1, k=4)
    with pytest.raises(ValueError, match="k=1 images"):
        PKSampler(LABELS, p=4, k=1)
