"""Contrastive loss, label-smoothed cross-entropy and the combined ReIDLoss."""

import pytest
import torch
import torch.nn.functional as F

from reid.config import ConfigError, LossConfig
from reid.losses import ContrastiveLoss, CrossEntropyLabelSmooth, ReIDLoss, contrastive_loss, triplet_loss


def brute_contrastive(e: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    terms = []
    for i in range(len(e)):
        for j in range(i + 1, len(e)):
            dist = ((e[i] - e[j]) ** 2).sum().sqrt()
            terms.append(dist**2 if labels[i] == labels[j] else torch.clamp(margin - dist, min=0) ** 2)
    return torch.stack(terms).mean()


def test_contrastive_matches_brute_force() -> None:
    g = torch.Generator().manual_seed(0)
    e = (0.3 * torch.randn(9, 4, generator=g, dtype=torch.float64)).requires_grad_()
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3])
    got = contrastive_loss(e, labels, margin=0.5)
    expect = brute_contrastive(e, labels, 0.5)
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(torch.autograd.grad(got, e)[0], torch.autograd.grad(expect, e)[0])
    torch.testing.assert_close(ContrastiveLoss(0.5)(e, labels), expect)


def test_contrastive_edge_cases() -> None:
    e = torch.ones(4, 3, requires_grad=True)  # identical embeddings: negatives cost margin^2
    loss = contrastive_loss(e, torch.tensor([0, 0, 1, 1]), margin=0.5)
    loss.backward()
    assert loss.item() == pytest.approx(4 / 6 * 0.25)  # 4 of 6 pairs are negative
    assert torch.isfinite(e.grad).all()
    assert contrastive_loss(torch.randn(1, 3), torch.tensor([0])).item() == 0.0


def test_label_smoothing_formula() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 4, generator=g, dtype=torch.float64)
    labels = torch.tensor([0, 3, 1, 1, 2])
    got = CrossEntropyLabelSmooth(4, epsilon=0.1)(logits, labels)
    # by hand: target (1 - eps) one-hot + eps / C, loss = mean over samples of -sum_c target_c log p_c
    logp = torch.log_softmax(logits, 1)
    expect = sum(-(0.9 * logp[i, labels[i]] + 0.1 / 4 * logp[i].sum()) for i in range(5)) / 5
    torch.testing.assert_close(got, expect)
    torch.testing.assert_close(got, F.cross_entropy(logits, labels, label_smoothing=0.1))
    torch.testing.assert_close(CrossEntropyLabelSmooth(4, 0.0)(logits, labels), F.cross_entropy(logits, labels))
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        CrossEntropyLabelSmooth(4)(torch.randn(5, 3), labels)


def test_reid_loss_is_the_weighted_sum() -> None:
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(8, 6, generator=g, requires_grad=True)
    logits = torch.randn(8, 4, generator=g)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    cfg = LossConfig(triplet_weight=1.0, margin=None, mining="batch_all", contrastive_weight=0.5,
                     contrastive_margin=0.7, id_weight=2.0, label_smoothing=0.1)
    loss, stats = ReIDLoss(cfg, num_classes=4)(feats, logits, labels)
    t = triplet_loss(feats, labels, None, "batch_all")
    c = contrastive_loss(feats, labels, 0.7)
    i = CrossEntropyLabelSmooth(4, 0.1)(logits, labels)
    torch.testing.assert_close(loss, t + 0.5 * c + 2.0 * i)
    assert stats["triplet"] == pytest.approx(t.item())
    assert stats["contrastive"] == pytest.approx(0.5 * c.item())
    assert stats["id"] == pytest.approx(2.0 * i.item())
    assert stats["loss"] == pytest.approx(loss.item())
    assert {"active", "d_ap", "d_an"} <= set(stats)
    assert all(isinstance(v, float) for v in stats.values())
    loss.backward()
    assert torch.isfinite(feats.grad).all()


def test_reid_loss_skips_zero_weights_and_checks_logits() -> None:
    feats, labels = torch.randn(4, 3), torch.tensor([0, 0, 1, 1])
    triplet_only = LossConfig(id_weight=0.0)
    loss, stats = ReIDLoss(triplet_only, num_classes=2)(feats, None, labels)
    assert set(stats) == {"loss", "triplet", "active", "d_ap", "d_an"}
    torch.testing.assert_close(loss, triplet_loss(feats, labels))
    with pytest.raises(ValueError, match="logits"):
        ReIDLoss(LossConfig(id_weight=1.0), num_classes=2)(feats, None, labels)
    _, lazy = ReIDLoss(triplet_only, num_classes=2, sync_stats=False)(feats, None, labels)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in lazy.values())


def test_reid_loss_rejects_unusable_configs() -> None:
    with pytest.raises(ConfigError, match="all loss weights are 0"):
        ReIDLoss(LossConfig(triplet_weight=0.0, id_weight=0.0), num_classes=2)
    with pytest.raises(ValueError, match="batch_hard, batch_all, semi_hard"):
        ReIDLoss(LossConfig(mining="hard"), num_classes=2)
    with pytest.raises(ValueError, match=">= 0"):
        ReIDLoss(LossConfig(id_weight=-1.0), num_classes=2)
