"""Values and gradients against pytorch-metric-learning's own losses where it has the same one.

pml runs with Euclidean distances on the embeddings as given (``LpDistance(normalize_embeddings=False)``)
for the triplet loss and its default cosine similarity for Proxy-Anchor and circle loss.
"""

import pytest
import torch

from reid.losses import CircleLoss, ProxyAnchorLoss, Triplets, circle_loss, triplet_loss

pml_losses = pytest.importorskip("pytorch_metric_learning.losses")
pml_miners = pytest.importorskip("pytorch_metric_learning.miners")
pml_distances = pytest.importorskip("pytorch_metric_learning.distances")
pml_reducers = pytest.importorskip("pytorch_metric_learning.reducers")

LABELS = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4])  # identity 4 has no positive


def embeddings(seed: int, dim: int = 6, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(len(LABELS), dim, generator=g, dtype=torch.float64)).requires_grad_()


def value_and_grad(loss: torch.Tensor, *wrt: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return (loss.detach(), *torch.autograd.grad(loss, wrt))


def assert_same(ours: tuple[torch.Tensor, ...], theirs: tuple[torch.Tensor, ...]) -> None:
    assert ours[0].item() > 0
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("margin", [0.3, None])
def test_batch_hard_triplet_matches_pml(margin: float | None) -> None:
    """pml's TripletMarginLoss on BatchHardMiner's triplets, mean over anchors (pml's MeanReducer)."""
    e = embeddings(0)
    dist = pml_distances.LpDistance(normalize_embeddings=False)
    miner = pml_miners.BatchHardMiner(distance=dist)
    pml_loss = pml_losses.TripletMarginLoss(margin=0.0 if margin is None else margin, smooth_loss=margin is None,
                                            distance=dist, reducer=pml_reducers.MeanReducer())
    mined = miner(e, LABELS)
    theirs = value_and_grad(pml_loss(e, LABELS, mined), e)
    assert_same(value_and_grad(triplet_loss(e, LABELS, margin, "batch_hard"), e), theirs)
    # and pml's mined indices fed to our loss
    assert_same(value_and_grad(triplet_loss(e, LABELS, margin, indices=Triplets(*mined)), e), theirs)


def test_batch_all_triplet_matches_pml() -> None:
    """Every triplet, mean over the non-zero ones: pml's default (all triplets, AvgNonZeroReducer)."""
    e = embeddings(1, scale=0.3)
    dist = pml_distances.LpDistance(normalize_embeddings=False)
    theirs = value_and_grad(pml_losses.TripletMarginLoss(margin=0.3, distance=dist)(e, LABELS), e)
    assert_same(value_and_grad(triplet_loss(e, LABELS, 0.3, "batch_all"), e), theirs)


def test_proxy_anchor_matches_pml() -> None:
    e = embeddings(2)
    num_classes = 7  # two proxies without samples in the batch: only in the negative term
    ours = ProxyAnchorLoss(num_classes, e.shape[1], margin=0.1, alpha=32.0).double()
    theirs = pml_losses.ProxyAnchorLoss(num_classes, e.shape[1], margin=0.1, alpha=32).double()
    with torch.no_grad():
        theirs.proxies.copy_(ours.proxies)
    assert_same(value_and_grad(ours(e, LABELS), e, ours.proxies),
                value_and_grad(theirs(e, LABELS), e, theirs.proxies))


@pytest.mark.parametrize("margin,gamma", [(0.25, 128.0), (0.4, 80.0)])
def test_circle_matches_pml(margin: float, gamma: float) -> None:
    e = embeddings(3)
    theirs = value_and_grad(pml_losses.CircleLoss(m=margin, gamma=gamma)(e, LABELS), e)
    assert_same(value_and_grad(circle_loss(e, LABELS, margin, gamma), e), theirs)
    assert_same(value_and_grad(CircleLoss(margin, gamma)(e, LABELS), e), theirs)


def test_circle_and_proxy_anchor_edge_cases() -> None:
    e = torch.randn(4, 3, requires_grad=True)
    loss = circle_loss(e, torch.zeros(4, dtype=torch.long))  # no negatives: no anchor counts
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(e.grad, torch.zeros_like(e))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        ProxyAnchorLoss(2, 3)(torch.randn(4, 5), torch.zeros(4, dtype=torch.long))
