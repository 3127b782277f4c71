"""The loss registry: every term ``ReIDLoss`` sums is a registered name with a ``LossConfig`` weight and a
``reid train`` flag; proxy-anchor and quadruplet join the sum like the others."""

import pytest
import torch

from reid.config import ConfigError, LossConfig
from reid.losses import LOSSES, ProxyAnchorLoss, ReIDLoss, quadruplet_loss, triplet_loss
from reid.registry import UnknownNameError

LABELS = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])


def test_every_registered_loss_has_a_weight_a_flag_and_a_yaml_key() -> None:
    from reid.cli import build_parser

    assert LOSSES.names() == ("triplet", "contrastive", "center", "circle", "proxy_anchor", "quadruplet", "id")
    train = next(a for a in build_parser()._subparsers._actions if a.choices and "train" in a.choices)
    options = {o for a in train.choices["train"]._actions for o in a.option_strings}
    for name in LOSSES.names():
        assert hasattr(LossConfig(), f"{name}_weight"), name
        assert f"--{name.replace('_', '-')}-weight" in options, name
    with pytest.raises(UnknownNameError, match="unknown loss 'arcface'; known: triplet, contrastive"):
        LOSSES.get("arcface")


def test_proxy_anchor_and_quadruplet_are_weighted_terms_of_the_sum() -> None:
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(8, 6, generator=g, requires_grad=True)
    cfg = LossConfig(id_weight=0.0, proxy_anchor_weight=0.5, proxy_anchor_margin=0.2, proxy_anchor_alpha=16.0,
                     quadruplet_weight=2.0, quadruplet_margin=0.4, quadruplet_margin2=0.1)
    criterion = ReIDLoss(cfg, num_classes=4, feat_dim=6, seed=5)
    loss, stats = criterion(feats, None, LABELS)
    proxy = ProxyAnchorLoss(4, 6, margin=0.2, alpha=16.0, seed=5)(feats, LABELS)
    quad = quadruplet_loss(feats, LABELS, margin=0.4, margin2=0.1)
    torch.testing.assert_close(loss, triplet_loss(feats, LABELS) + 0.5 * proxy + 2.0 * quad)
    assert stats["proxy_anchor"] == pytest.approx(0.5 * proxy.item())
    assert stats["quadruplet"] == pytest.approx(2.0 * quad.item())
    assert "proxy_anchor_loss.proxies" in criterion.state_dict()  # saved and resumed with the criterion
    loss.backward()
    assert criterion.term("proxy_anchor").proxies.grad.abs().sum() > 0  # type: ignore[union-attr]


def test_term_settings_are_checked_with_the_key_named() -> None:
    with pytest.raises(ConfigError, match="loss.proxy_anchor_weight=1.0 needs the number of identities"):
        ReIDLoss(LossConfig(proxy_anchor_weight=1.0), num_classes=4)
    with pytest.raises(ConfigError, match="loss.proxy_anchor_alpha must be > 0"):
        ReIDLoss(LossConfig(proxy_anchor_weight=1.0, proxy_anchor_alpha=0.0), num_classes=4, feat_dim=6)
    with pytest.raises(ConfigError, match="loss.quadruplet_margin and loss.quadruplet_margin2 must be >= 0"):
        ReIDLoss(LossConfig(quadruplet_weight=1.0, quadruplet_margin2=-0.1), num_classes=4)
    with pytest.raises(ConfigError, match="^loss: unknown miner 'hardest'; known: batch_hard"):
        ReIDLoss(LossConfig(mining="hardest"), num_classes=4)  # a config built in code: the registry's error
