"""Miners return the indices a brute-force search over the batch finds."""

import torch

from reid.losses import mine_all_triplets, mine_batch_hard, mine_semi_hard, pairwise_distance


def test_batch_hard_matches_brute_force() -> None:
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3])  # 3 has no positive
    dist = pairwise_distance(torch.randn(9, 4, generator=g))
    a, p, n = mine_batch_hard(dist, labels)
    expect = []
    for i in range(9):
        pos = [j for j in range(9) if j != i and labels[j] == labels[i]]
        neg = [j for j in range(9) if labels[j] != labels[i]]
        if pos and neg:
            expect.append((i, max(pos, key=lambda j: dist[i, j]), min(neg, key=lambda j: dist[i, j])))
    assert list(zip(a.tolist(), p.tolist(), n.tolist(), strict=True)) == expect


def test_all_triplets_enumerates_every_valid_triplet() -> None:
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    got = set(zip(*(t.tolist() for t in mine_all_triplets(torch.zeros(6, 6), labels)), strict=True))
    expect = {(a, p, n) for a in range(6) for p in range(6) for n in range(6)
              if a != p and labels[a] == labels[p] and labels[n] != labels[a]}
    assert got == expect and len(got) == 2 * 4 + 6 * 3  # pairs x negatives per identity


def test_semi_hard_nearest_negative_beyond_positive() -> None:
    # 1-D points: anchor 0 at 0.0, positive 1 at 1.0; negatives at -1.5 and 2.5 (label 1)
    x = torch.tensor([[0.0], [1.0], [-1.5], [2.5]])
    labels = torch.tensor([0, 0, 1, 1])
    a, p, n = mine_semi_hard(pairwise_distance(x), labels)
    got = {(ai, pi): ni for ai, pi, ni in zip(a.tolist(), p.tolist(), n.tolist(), strict=True)}
    # from 0: d_ap=1, negatives at 1.5 (idx 2) and 2.5 (idx 3): both farther, nearest is idx 2
    # from 1: d_ap=1, negatives at 2.5 (idx 2) and 1.5 (idx 3): nearest farther is idx 3
    assert got[(0, 1)] == 2 and got[(1, 0)] == 3


def test_semi_hard_falls_back_to_farthest_negative() -> None:
    # anchor 0 at 0, positive 1 at 3; negatives at 1 and 2 are all closer than the positive
    x = torch.tensor([[0.0], [3.0], [1.0], [2.0]])
    labels = torch.tensor([0, 0, 1, 1])
    a, p, n = mine_semi_hard(pairwise_distance(x), labels)
    got = {(ai, pi): ni for ai, pi, ni in zip(a.tolist(), p.tolist(), n.tolist(), strict=True)}
    assert got[(0, 1)] == 3  # farthest negative from 0 is at 2
    assert got[(1, 0)] == 2  # farthest negative from 3 is at 1


def test_one_identity_mines_nothing() -> None:
    labels = torch.zeros(4, dtype=torch.long)
    dist = pairwise_distance(torch.randn(4, 3))
    assert all(len(t) == 0 for t in mine_batch_hard(dist, labels))
    assert all(len(t) == 0 for t in mine_all_triplets(dist, labels))
    assert all(len(t) == 0 for t in mine_semi_hard(dist, labels))
