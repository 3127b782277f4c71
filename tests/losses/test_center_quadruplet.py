"""Center and quadruplet losses (no pytorch-metric-learning counterpart) against Python-loop references."""

import pytest
import torch

from reid.losses import (
    CenterLoss,
    QuadrupletLoss,
    Triplets,
    mine_batch_hard_quadruplets,
    pairwise_distance,
    quadruplet_loss,
)

LABELS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4])  # identity 4 has no positive


def embeddings(seed: int, dim: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(len(LABELS), dim, generator=g, dtype=torch.float64, requires_grad=True)


def test_center_loss_matches_brute_force_and_reid_strong_baseline() -> None:
    e = embeddings(0)
    loss_fn = CenterLoss(num_classes=6, feat_dim=5).double()
    c = loss_fn.centers
    got = loss_fn(e, LABELS)
    expect = sum(((e[i] - c[LABELS[i]]) ** 2).sum() for i in range(len(LABELS))) / len(LABELS)
    # reid-strong-baseline's formula: (B, C) squared distances, masked to each sample's class, clamped
    distmat = (e**2).sum(1, keepdim=True) + (c**2).sum(1) - 2 * e @ c.t()
    mask = LABELS.unsqueeze(1) == torch.arange(6)
    rsb = (distmat * mask).clamp(min=1e-12, max=1e12).sum() / len(LABELS)
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(got, rsb, rtol=0, atol=1e-9)  # rsb adds 1e-12 per masked-out entry
    g_got = torch.autograd.grad(got, (e, c))
    g_exp = torch.autograd.grad(expect, (e, c))
    for a, b in zip(g_got, g_exp, strict=True):
        torch.testing.assert_close(a, b)
    assert torch.equal(g_got[1][5], torch.zeros(5, dtype=torch.float64))  # no sample of class 5


def test_center_loss_on_mined_samples_and_checks() -> None:
    e = embeddings(1)
    loss_fn = CenterLoss(6, 5).double()
    mined = Triplets(torch.tensor([0, 3]), torch.tensor([1, 4]), torch.tensor([5, 5]))  # samples 0 1 3 4 5
    rows = [0, 1, 3, 4, 5]
    expect = sum(((e[i] - loss_fn.centers[LABELS[i]]) ** 2).sum() for i in rows) / len(rows)
    torch.testing.assert_close(loss_fn(e, LABELS, mined), expect)
    assert torch.equal(CenterLoss(6, 5, seed=3).centers, CenterLoss(6, 5, seed=3).centers)
    with pytest.raises(ValueError, match=r"\(B, 5\)"):
        loss_fn(torch.randn(3, 4), torch.zeros(3, dtype=torch.long))


def brute_quadruplet(e: torch.Tensor, labels: torch.Tensor, m1: float, m2: float) -> torch.Tensor:
    lab, n = labels.tolist(), len(labels)

    def d(i: int, j: int) -> torch.Tensor:
        return ((e[i] - e[j]) ** 2).sum().sqrt()

    terms = []
    for a in range(n):
        pos = [d(a, p) for p in range(n) if p != a and lab[p] == lab[a]]
        neg = [d(a, q) for q in range(n) if lab[q] != lab[a]]
        pairs = [d(k, j) for k in range(n) for j in range(n)
                 if lab[k] != lab[j] and lab[k] != lab[a] and lab[j] != lab[a]]
        if pos and neg and pairs:
            dap = torch.stack(pos).max()
            terms.append(torch.clamp(dap - torch.stack(neg).min() + m1, min=0)
                         + torch.clamp(dap - torch.stack(pairs).min() + m2, min=0))
    return torch.stack(terms).mean() if terms else e.sum() * 0


@pytest.mark.parametrize("m1,m2", [(0.3, 0.15), (2.0, 1.0)])
def test_quadruplet_matches_brute_force(m1: float, m2: float) -> None:
    e = embeddings(2)
    got = quadruplet_loss(e, LABELS, m1, m2)
    expect = brute_quadruplet(e, LABELS, m1, m2)
    assert got.item() > 0
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(torch.autograd.grad(got, e)[0], torch.autograd.grad(expect, e)[0])
    torch.testing.assert_close(QuadrupletLoss(m1, m2)(e, LABELS), expect)


def test_quadruplet_miner_indices() -> None:
    e = embeddings(3)
    dist = pairwise_distance(e)
    q = mine_batch_hard_quadruplets(dist, LABELS)
    assert q.anchor.tolist() == list(range(10))  # 10 has no positive
    lab = LABELS.tolist()
    for a, k, j in zip(q.anchor.tolist(), q.pair_a.tolist(), q.pair_b.tolist(), strict=True):
        allowed = [(i, j) for i in range(11) for j in range(11)
                   if lab[i] != lab[j] and lab[i] != lab[a] and lab[j] != lab[a]]
        assert (k, j) == min(allowed, key=lambda ij: (dist[ij].item(), ij))
    torch.testing.assert_close(quadruplet_loss(e, LABELS, indices=q), quadruplet_loss(e, LABELS))


def test_quadruplet_needs_three_identities() -> None:
    e = torch.randn(4, 3, requires_grad=True)
    loss = quadruplet_loss(e, torch.tensor([0, 0, 1, 1]))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(e.grad, torch.zeros_like(e))
    with pytest.raises(ValueError, match=">= 0"):
        QuadrupletLoss(margin2=-1.0)
