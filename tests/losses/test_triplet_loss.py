"""triplet_loss against brute-force enumeration of triplets (values and gradients)."""

import itertools

import pytest
import torch

from reid.losses import MINING, TripletLoss, triplet_loss

LABELS = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4])  # identity 4 has no positive


def d(e: torch.Tensor, i: int, j: int, squared: bool) -> torch.Tensor:
    sq = ((e[i] - e[j]) ** 2).sum()
    return sq if squared else sq.sqrt()


def per_triplet(dap: torch.Tensor, dan: torch.Tensor, margin: float | None) -> torch.Tensor:
    x = dap - dan
    return torch.log1p(torch.exp(x)) if margin is None else torch.clamp(x + margin, min=0)


def brute_triplet(e: torch.Tensor, labels: torch.Tensor, margin: float | None, mining: str,
                  squared: bool) -> torch.Tensor:
    """Reference: nested loops over anchors, positives and negatives."""
    n = len(labels)
    lab = labels.tolist()
    terms = []
    for a in range(n):
        pos = [p for p in range(n) if p != a and lab[p] == lab[a]]
        neg = [q for q in range(n) if lab[q] != lab[a]]
        if not pos or not neg:
            continue
        if mining == "batch_hard":
            dap = torch.stack([d(e, a, p, squared) for p in pos]).max()
            dan = torch.stack([d(e, a, q, squared) for q in neg]).min()
            terms.append(per_triplet(dap, dan, margin))
            continue
        for p in pos:
            dap = d(e, a, p, squared)
            if mining == "batch_all":
                terms += [per_triplet(dap, d(e, a, q, squared), margin) for q in neg]
            else:  # semi_hard: nearest negative farther than the positive, else the farthest one
                dans = [d(e, a, q, squared) for q in neg]
                farther = [x for x in dans if x > dap]
                dan = torch.stack(farther).min() if farther else torch.stack(dans).max()
                terms.append(per_triplet(dap, dan, margin))
    if not terms:
        return e.sum() * 0
    t = torch.stack(terms)
    if mining == "batch_all" and margin is not None:
        count = int((t > 0).sum())
        return t.sum() / count if count else t.sum() * 0
    return t.mean()


@pytest.mark.parametrize("mining,margin,squared",
                         list(itertools.product(MINING, [0.3, None], [False, True])))
def test_value_and_gradient_match_brute_force(mining: str, margin: float | None, squared: bool) -> None:
    g = torch.Generator().manual_seed(7)
    scale = 0.5 if squared else 1.0
    e = (scale * torch.randn(len(LABELS), 6, generator=g, dtype=torch.float64)).requires_grad_()
    got = triplet_loss(e, LABELS, margin=margin, mining=mining, squared=squared)
    (g_got,) = torch.autograd.grad(got, e)
    expect = brute_triplet(e, LABELS, margin, mining, squared)
    (g_exp,) = torch.autograd.grad(expect, e)
    assert got.item() > 0
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(g_got, g_exp)


@pytest.mark.parametrize("mining", MINING)
def test_large_margin_batch_all_semi_hard_cases(mining: str) -> None:
    """A margin of 2 makes most triplets active; also compares against brute force."""
    g = torch.Generator().manual_seed(3)
    e = torch.randn(len(LABELS), 3, generator=g, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(triplet_loss(e, LABELS, 2.0, mining), brute_triplet(e, LABELS, 2.0, mining, False))


@pytest.mark.parametrize("mining", MINING)
@pytest.mark.parametrize("margin", [0.3, None])
def test_one_identity_gives_zero_loss_and_zero_gradient(mining: str, margin: float | None) -> None:
    e = torch.randn(5, 4, requires_grad=True)
    loss = triplet_loss(e, torch.zeros(5, dtype=torch.long), margin, mining)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(e.grad, torch.zeros_like(e))


def test_batch_all_without_violations_is_zero_not_nan() -> None:
    # two tight, far-apart clusters: every triplet satisfies the margin
    e = torch.tensor([[0.0, 0.0], [0.01, 0.0], [10.0, 0.0], [10.0, 0.01]], requires_grad=True)
    loss = triplet_loss(e, torch.tensor([0, 0, 1, 1]), 0.3, "batch_all")
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(e.grad).all()


@pytest.mark.parametrize("mining", MINING)
@pytest.mark.parametrize("margin", [0.3, None])
@pytest.mark.parametrize("squared", [False, True])
def test_identical_embeddings_have_finite_gradient(mining: str, margin: float | None, squared: bool) -> None:
    e = torch.ones(6, 4, requires_grad=True)
    loss = triplet_loss(e, torch.tensor([0, 0, 1, 1, 2, 2]), margin, mining, squared)
    loss.backward()
    expect = 0.3 if margin is not None else float(torch.log(torch.tensor(2.0)))  # all distances 0
    assert loss.item() == pytest.approx(expect)
    assert torch.isfinite(e.grad).all()


def test_unknown_mining_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="batch_hard, batch_all, semi_hard"):
        triplet_loss(torch.randn(4, 2), torch.tensor([0, 0, 1, 1]), mining="hardest")
    with pytest.raises(ValueError, match="unknown miner 'nope'; known: batch_hard"):
        TripletLoss(mining="nope")


def test_module_matches_function_and_reports_stats() -> None:
    g = torch.Generator().manual_seed(5)
    e = torch.randn(len(LABELS), 4, generator=g, dtype=torch.float64)
    module = TripletLoss(margin=0.3, mining="batch_hard")
    loss = module(e, LABELS)
    torch.testing.assert_close(loss, triplet_loss(e, LABELS, 0.3, "batch_hard"))
    # brute-force batch-hard statistics over the 11 anchors that have a positive
    daps, dans = [], []
    for a in range(len(LABELS)):
        pos = [p for p in range(len(LABELS)) if p != a and LABELS[p] == LABELS[a]]
        neg = [q for q in range(len(LABELS)) if LABELS[q] != LABELS[a]]
        if pos:
            daps.append(max(float(d(e, a, p, False)) for p in pos))
            dans.append(min(float(d(e, a, q, False)) for q in neg))
    stats = module.last_stats
    assert set(stats) >= {"active", "d_ap", "d_an"}
    assert stats["d_ap"] == pytest.approx(sum(daps) / len(daps), rel=1e-6)
    assert stats["d_an"] == pytest.approx(sum(dans) / len(dans), rel=1e-6)
    active = sum(dn < dp + 0.3 for dp, dn in zip(daps, dans, strict=True)) / len(daps)
    assert stats["active"] == pytest.approx(active)
    assert stats["triplets"] == len(daps) == 11
    assert all(isinstance(v, float) for v in stats.values())


def test_soft_margin_active_uses_zero_margin() -> None:
    e = torch.tensor([[0.0], [1.0], [0.5], [3.0]])  # anchor 0: d_ap 1, nearest negative 0.5
    module = TripletLoss(margin=None, mining="batch_hard")
    module(e, torch.tensor([0, 0, 1, 1]))
    # anchors: 0 (1 vs 0.5 active), 1 (1 vs 0.5 active), 2 (2.5 vs 0.5 active), 3 (2.5 vs 2 active)
    assert module.last_stats["active"] == 1.0
