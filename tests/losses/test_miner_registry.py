"""The miner registry: a new miner is one registered function that the unchanged losses use by name."""

from collections.abc import Iterator

import pytest
import torch

import reid.config
from reid.losses import (
    MINERS,
    MINING,
    ContrastiveLoss,
    Pairs,
    TripletLoss,
    Triplets,
    circle_loss,
    contrastive_loss,
    get_miner,
    mine_batch_hard,
    pairwise_distance,
    register_miner,
    triplet_loss,
)
from reid.losses.miners import label_masks
from reid.registry import UnknownNameError

LABELS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3])  # identity 3 has no positive


@pytest.fixture
def easy_positive() -> Iterator[str]:
    """Easy-positive mining (Xuan, Stylianou and Pless, WACV 2020): per anchor its *nearest* positive and
    nearest negative, registered under a new name and removed again after the test."""
    calls: list[bool] = []

    @register_miner("easy_positive")
    def mine_easy_positive(dist: torch.Tensor, labels: torch.Tensor) -> Triplets:
        calls.append(torch.is_grad_enabled())
        pos, neg = label_masks(labels)
        anchor = (pos.any(1) & neg.any(1)).nonzero().squeeze(1)
        near_pos = dist.masked_fill(~pos, float("inf")).argmin(1)
        near_neg = dist.masked_fill(~neg, float("inf")).argmin(1)
        return Triplets(anchor, near_pos[anchor], near_neg[anchor])

    yield "easy_positive"
    MINERS.remove("easy_positive")
    assert calls and not any(calls), "a registered miner runs under no_grad"


def brute_easy_positive(e: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    terms = []
    for a in range(len(labels)):
        dists = [((e[a] - e[j]) ** 2).sum().sqrt() for j in range(len(labels))]
        pos = [dists[j] for j in range(len(labels)) if j != a and labels[j] == labels[a]]
        neg = [dists[j] for j in range(len(labels)) if labels[j] != labels[a]]
        if pos and neg:
            terms.append(torch.clamp(torch.stack(pos).min() - torch.stack(neg).min() + margin, min=0))
    return torch.stack(terms).mean()


def test_new_miner_works_through_the_unchanged_loss(easy_positive: str) -> None:
    g = torch.Generator().manual_seed(0)
    e = torch.randn(len(LABELS), 5, generator=g, dtype=torch.float64, requires_grad=True)
    got = triplet_loss(e, LABELS, margin=0.5, mining=easy_positive)
    expect = brute_easy_positive(e, LABELS, 0.5)
    assert got.item() > 0
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(torch.autograd.grad(got, e)[0], torch.autograd.grad(expect, e)[0])
    assert easy_positive in MINERS and easy_positive not in MINING  # MINING keeps the built-in names


def test_new_miner_trains_an_embedding(easy_positive: str) -> None:
    """A few SGD steps with the new miner separate two identities: the loss goes to 0."""
    g = torch.Generator().manual_seed(1)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    e = torch.nn.Parameter(torch.randn(6, 2, generator=g))
    criterion = TripletLoss(margin=0.3, mining=easy_positive)
    optimizer = torch.optim.SGD([e], lr=0.1)
    first = criterion(e, labels).item()
    for _ in range(200):
        optimizer.zero_grad()
        criterion(e, labels).backward()
        optimizer.step()
    assert first > 0.1 and criterion(e, labels).item() == 0.0
    assert criterion.last_stats["active"] == 0.0 and criterion.last_stats["triplets"] == 6


def test_registry_names_and_errors() -> None:
    assert MINING == ("batch_hard", "batch_all", "semi_hard") == MINERS.names()[:3]
    assert reid.config.MINING.where == "reid.losses.miners:MINERS"  # the config's choice list is the registry
    assert get_miner("batch_hard") is MINERS.get("batch_hard")
    with pytest.raises(UnknownNameError, match="unknown miner 'hardest'; known: batch_hard, batch_all, semi_hard"):
        get_miner("hardest")
    with pytest.raises(ValueError, match="registered twice"):
        register_miner("batch_hard")(mine_batch_hard)


def test_a_registered_miner_is_a_choice_of_the_command_line(easy_positive: str) -> None:
    """``--mining`` and the config check read the registry: a miner registered before the parser is built is
    offered, an unknown name is refused naming the registered ones."""
    from reid.cli import build_parser
    from reid.cli.options import check_registered
    from reid.config import LossConfig, TrainConfig

    args = build_parser().parse_args(["train", "--mining", easy_positive])
    assert vars(args)["cfg:loss.mining"] == easy_positive
    check_registered(TrainConfig(loss=LossConfig(mining=easy_positive)))
    assert triplet_loss(torch.randn(len(LABELS), 3), LABELS, mining=easy_positive).item() >= 0
    with pytest.raises(reid.config.ConfigError, match="^loss.mining must be one of batch_hard, batch_all, semi_hard, "
                                                      "easy_positive, got 'hardest'$"):
        check_registered(TrainConfig(loss=LossConfig(mining="hardest")))


def test_losses_take_mined_indices() -> None:
    """Passing a miner's indices gives what the loss mines by itself; other tuples change the loss."""
    g = torch.Generator().manual_seed(2)
    e = torch.randn(len(LABELS), 4, generator=g, dtype=torch.float64)
    dist = pairwise_distance(e)
    hard = mine_batch_hard(dist, LABELS)
    torch.testing.assert_close(triplet_loss(e, LABELS, indices=hard), triplet_loss(e, LABELS))
    torch.testing.assert_close(TripletLoss()(e, LABELS, hard), triplet_loss(e, LABELS))
    one = Triplets(*(t[:1] for t in hard))  # a single triplet: its own hinge
    d_ap, d_an = dist[hard.anchor[0], hard.positive[0]], dist[hard.anchor[0], hard.negative[0]]
    torch.testing.assert_close(triplet_loss(e, LABELS, indices=one), torch.clamp(d_ap - d_an + 0.3, min=0))

    pos, neg = label_masks(LABELS)
    every = Pairs(*pos.nonzero(as_tuple=True), *neg.nonzero(as_tuple=True))
    torch.testing.assert_close(circle_loss(e, LABELS, indices=every), circle_loss(e, LABELS))
    # contrastive over mined pairs: positives d^2, negatives relu(m - d)^2, mean over the pairs given
    expect = torch.cat([dist[hard.anchor, hard.positive] ** 2,
                        torch.clamp(0.5 - dist[hard.anchor, hard.negative], min=0) ** 2]).mean()
    torch.testing.assert_close(contrastive_loss(e, LABELS, 0.5, hard), expect)
    torch.testing.assert_close(ContrastiveLoss(0.5)(e, LABELS, hard), expect)
