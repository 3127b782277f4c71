"""ReIDLoss with the center and circle terms: weighted sum, per-term stats, the centers' own optimizer."""

import pytest
import torch

from reid.config import ConfigError, LossConfig
from reid.losses import CenterLoss, CrossEntropyLabelSmooth, ReIDLoss, circle_loss, triplet_loss

LABELS = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])


def test_all_terms_are_the_weighted_sum_and_reported_apart() -> None:
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(8, 6, generator=g, requires_grad=True)
    logits = torch.randn(8, 4, generator=g)
    cfg = LossConfig(triplet_weight=1.0, id_weight=1.0, center_weight=5e-4, circle_weight=0.5,
                     circle_margin=0.25, circle_gamma=64.0)
    criterion = ReIDLoss(cfg, num_classes=4, feat_dim=6, seed=3)
    loss, stats = criterion(feats, logits, LABELS)
    t = triplet_loss(feats, LABELS)
    c = CenterLoss(4, 6, seed=3)(feats, LABELS)
    r = circle_loss(feats, LABELS, 0.25, 64.0)
    i = CrossEntropyLabelSmooth(4, 0.1)(logits, LABELS)
    torch.testing.assert_close(loss, t + 5e-4 * c + 0.5 * r + i)
    assert stats["center"] == pytest.approx(5e-4 * c.item())
    assert stats["circle"] == pytest.approx(0.5 * r.item())
    assert {"loss", "triplet", "center", "circle", "id", "active", "d_ap", "d_an"} == set(stats)
    _, lazy = ReIDLoss(cfg, 4, sync_stats=False, feat_dim=6)(feats, logits, LABELS)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in lazy.values())


def test_center_parameters_and_checks() -> None:
    assert ReIDLoss(LossConfig(), num_classes=4).center_parameters() == []
    criterion = ReIDLoss(LossConfig(center_weight=5e-4), num_classes=4, feat_dim=6)
    (centers,) = criterion.center_parameters()
    assert centers.shape == (4, 6) and "center_loss.centers" in criterion.state_dict()
    with pytest.raises(ConfigError, match="feat_dim"):
        ReIDLoss(LossConfig(center_weight=5e-4), num_classes=4)
    with pytest.raises(ConfigError, match="center_lr"):
        ReIDLoss(LossConfig(center_weight=5e-4, center_lr=0.0), num_classes=4, feat_dim=6)
    with pytest.raises(ConfigError, match="circle_gamma"):
        ReIDLoss(LossConfig(circle_weight=1.0, circle_gamma=0.0), num_classes=4)
    with pytest.raises(ConfigError, match="loss.center_weight"):  # every weight named when all are 0
        ReIDLoss(LossConfig(triplet_weight=0.0, id_weight=0.0), num_classes=4)
    assert ReIDLoss(LossConfig(triplet_weight=0.0, id_weight=0.0, circle_weight=1.0), 4)(
        torch.randn(8, 3), None, LABELS)[1].keys() == {"loss", "circle"}


def test_centers_train_with_their_own_sgd_as_reid_strong_baseline() -> None:
    """The recipe of ReIDLoss's docstring: main optimizer without the centers, SGD(lr=center_lr) on them
    after rescaling their gradients by 1 / center_weight. The centers move towards their class means."""
    weight, lr = 5e-4, 0.5
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 4, generator=g)
    net = torch.nn.Linear(4, 6)
    criterion = ReIDLoss(LossConfig(center_weight=weight, center_lr=lr, id_weight=0.0), num_classes=4, feat_dim=6)
    main = torch.optim.Adam(net.parameters(), lr=1e-3)
    center_opt = torch.optim.SGD(criterion.center_parameters(), lr=lr)
    (centers,) = criterion.center_parameters()

    feats = net(x)
    loss, _ = criterion(feats, None, LABELS)
    main.zero_grad()
    center_opt.zero_grad()
    loss.backward()
    # gradient of weight * mean_i ||f_i - c_{y_i}||^2 w.r.t. c_k: -2 weight / B * sum_{y_i = k} (f_i - c_k)
    f = feats.detach()
    expect = torch.stack([-2 / 8 * (f[LABELS == k] - centers[k].detach()).sum(0) for k in range(4)])
    torch.testing.assert_close(centers.grad, weight * expect)
    criterion.rescale_center_grads()
    torch.testing.assert_close(centers.grad, expect)
    main.step()
    before = centers.detach().clone()
    center_opt.step()
    torch.testing.assert_close(centers.detach(), before - lr * expect)

    def gap() -> float:
        return sum((net(x)[LABELS == k].mean(0) - centers[k]).norm().item() for k in range(4))

    start = gap()
    for _ in range(30):
        loss, _ = criterion(net(x), None, LABELS)
        main.zero_grad()
        center_opt.zero_grad()
        loss.backward()
        main.step()
        criterion.rescale_center_grads()
        center_opt.step()
    assert gap() < 0.1 * start
