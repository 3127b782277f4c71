import numpy as np
import pytest

from reid.data.distributed import DistributedPKSampler

LABELS = np.repeat(np.arange(12), 5)  # 12 identities x 5 images


def test_ranks_get_whole_disjoint_identities_that_cover_the_global_batch():
    world = 2
    ranks = [list(DistributedPKSampler(LABELS, p=4, k=3, rank=r, world_size=world, seed=7)) for r in range(world)]
    assert len(ranks[0]) == len(ranks[1]) > 0
    for step in zip(*ranks, strict=True):
        ids = [set(LABELS[b]) for b in step]
        assert all(len(s) == 2 for s in ids)  # P / world identities per rank
        assert not ids[0] & ids[1]  # no identity on two ranks in one step
        for b in step:  # K images of each identity on the same rank
            assert sorted(np.bincount(LABELS[b])[np.bincount(LABELS[b]) > 0]) == [3, 3]


def test_state_round_trip_resumes_mid_epoch():
    a = DistributedPKSampler(LABELS, p=4, k=2, rank=1, world_size=2, seed=3)
    it = iter(a)
    first = [next(it) for _ in range(2)]
    state = a.state_dict()
    rest = list(it)
    b = DistributedPKSampler(LABELS, p=4, k=2, rank=1, world_size=2, seed=3)
    b.load_state_dict(state)
    assert list(b) == rest and first


@pytest.mark.parametrize("p, world, rank, message", [(5, 2, 0, "divisible"), (2, 2, 0, "need >= 2"),
                                                     (4, 2, 2, "rank=2 must be in 0..1")])
def test_validation_messages_give_the_numbers(p, world, rank, message):
    with pytest.raises(ValueError, match=message):
        DistributedPKSampler(LABELS, p=p, k=2, rank=rank, world_size=world)
