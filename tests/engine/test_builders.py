"""The trainer in parts: each build_* callable alone or overridden, center loss with its own SGD, frozen start."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

from reid.config import LossConfig, ModelConfig, OptimConfig
from reid.engine import builders
from reid.engine.checkpoint import load_checkpoint
from reid.engine.distributed import DistContext
from reid.engine.trainer import Trainer, train
from reid.losses import ReIDLoss
from reid.registry import UnknownNameError


def _first_batch(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return trainer._batch(next(iter(trainer.sampler)), gen)


def test_each_part_builds_alone(tiny_cfg) -> None:
    cfg = tiny_cfg(loss=LossConfig(center_weight=5e-4, center_lr=0.5))
    data = builders.build_data(cfg, DistContext(), progress=False)
    assert data.num_ids == 12 and data.images.dtype == torch.uint8 and len(data.labels) == len(data.images)
    assert data.labels.unique().tolist() == list(range(12)) and len(data.sampler) > 0
    model = builders.build_model(cfg.model, data.num_ids, torch.device("cpu"))
    loss = builders.build_loss(cfg.loss, data.num_ids, model.embedding_dim, torch.device("cpu"))
    opt = builders.build_optimizer(model, loss, cfg.optim, cfg.loss)
    (centers,) = loss.center_parameters()
    assert centers.shape == (12, 512) and opt.centers == (centers,)
    assert isinstance(opt.center, torch.optim.SGD) and opt.center.param_groups[0]["lr"] == 0.5
    assert isinstance(opt.main, torch.optim.Adam) and all(p is not centers for p in opt.params)
    assert len(opt.params) == sum(p.requires_grad for p in model.parameters())
    without = builders.build_optimizer(model, builders.build_loss(LossConfig(), 12, 512, torch.device("cpu")),
                                       cfg.optim, LossConfig())
    assert without.center is None and without.centers == ()


def test_a_subclass_replaces_one_part(tiny_cfg) -> None:
    class ConstantRate(Trainer):
        def build_scheduler(self) -> LambdaLR:
            return LambdaLR(self.optimizer, lambda iteration: 1.0)

    cfg = tiny_cfg(epochs=1, eval_every=0, max_iters_per_epoch=2)
    result = ConstantRate(cfg, progress=False).run()
    assert result.history[0]["lr"] == cfg.optim.lr  # the default would still be warming up (factor < 1)


def test_center_loss_steps_the_centers_with_their_own_sgd(tiny_cfg) -> None:
    """reid-strong-baseline: centers move by ``center_lr`` times the gradient of the *unweighted* center loss,
    and the main optimiser never sees them."""
    cfg = tiny_cfg(loss=LossConfig(center_weight=5e-4, center_lr=0.5), optim=OptimConfig(lr=1e-3))
    trainer = Trainer(cfg, progress=False)
    trainer.net.train()
    x, labels = _first_batch(trainer)
    (centers,) = trainer.criterion.center_parameters()
    before = centers.detach().clone()
    model = copy.deepcopy(trainer.model)  # the same forward pass as the step's (BatchNorm in training mode)
    with torch.no_grad():
        features, _ = model(x)
    reference = before.clone().requires_grad_(True)
    unweighted = ((features - reference[labels]) ** 2).sum(1).mean()
    (grad,) = torch.autograd.grad(unweighted, reference)

    loss, stats = trainer._step(x, labels)
    assert torch.allclose(centers.detach(), before - 0.5 * grad, atol=1e-6)
    assert float(stats["center"]) == pytest.approx(5e-4 * unweighted.item(), rel=1e-5)
    assert all(p is not centers for group in trainer.optimizer.param_groups for p in group["params"])


def test_center_loss_run_resumes_exactly(tiny_cfg) -> None:
    loss = LossConfig(center_weight=5e-4)
    straight = train(tiny_cfg("straight", epochs=2, eval_every=0, max_iters_per_epoch=2, loss=loss), progress=False)
    cut = tiny_cfg("cut", epochs=2, eval_every=0, max_iters_per_epoch=2, loss=loss)
    train(tiny_cfg("cut", epochs=1, eval_every=0, max_iters_per_epoch=2, loss=loss), progress=False)
    resumed = train(cut, resume=True, progress=False)
    a, b = load_checkpoint(straight.last), load_checkpoint(resumed.last)
    assert "center_optimizer" in a and {"triplet", "id", "center"} <= set(a["history"][-1])
    for key, value in a["criterion"].items():
        assert torch.equal(value, b["criterion"][key]), key
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


def test_frozen_backbone_start_trains_only_the_head(tiny_cfg) -> None:
    """fast-reid's FREEZE_ITERS: for the first iterations the backbone neither steps nor updates its BatchNorm
    statistics; the BNNeck and classifier train. ``freeze_epochs`` 0.5 of a 2-iteration epoch: 1 iteration."""
    optim = OptimConfig(lr=1e-3, warmup_epochs=0, freeze_epochs=0.5, schedule_epochs=0)
    trainer = Trainer(tiny_cfg(optim=optim, max_iters_per_epoch=2), progress=False)
    assert trainer.freeze_iters == 1
    trainer.net.train()
    backbone = copy.deepcopy(trainer.model.backbone.state_dict())
    head = trainer.model.classifier.weight.detach().clone()
    x, labels = _first_batch(trainer)
    trainer._step(x, labels)
    assert all(torch.equal(v, trainer.model.backbone.state_dict()[k]) for k, v in backbone.items())
    assert not torch.equal(head, trainer.model.classifier.weight)
    trainer._step(x, labels)  # the second iteration trains everything
    after = trainer.model.backbone.state_dict()
    assert not torch.equal(backbone["conv1.weight"], after["conv1.weight"])
    assert not torch.equal(backbone["bn1.running_mean"], after["bn1.running_mean"])
    assert trainer.model.backbone.training


def test_model_settings_reach_the_model(tiny_cfg) -> None:
    cfg = tiny_cfg(model=ModelConfig(arch="resnet18", last_stride=1, pooling="gem", embedding_dim=64))
    model = builders.build_model(cfg.model, 12, torch.device("cpu"))
    assert model.embedding_dim == 64 and model.classifier is not None and model.classifier.out_features == 12


@pytest.mark.parametrize("loss", [LossConfig(id_weight=0.0, proxy_anchor_weight=1.0),
                                  LossConfig(id_weight=0.0, quadruplet_weight=1.0)],
                         ids=["proxy_anchor", "quadruplet"])
def test_proxy_anchor_and_quadruplet_train(tiny_cfg, loss: LossConfig) -> None:
    """A few iterations with each loss reachable from the config: finite, reported apart, its state saved."""
    name = "proxy_anchor" if loss.proxy_anchor_weight else "quadruplet"
    cfg = tiny_cfg(epochs=1, eval_every=0, max_iters_per_epoch=3, loss=loss)
    result = train(cfg, progress=False)
    row = result.history[0]
    assert row[name] > 0 and torch.isfinite(torch.tensor(row["loss"]))
    saved = load_checkpoint(result.last)
    if name == "proxy_anchor":  # the proxies trained with the network's optimiser
        start = ReIDLoss(loss, 12, feat_dim=512, seed=cfg.seed).state_dict()["proxy_anchor_loss.proxies"]
        assert not torch.equal(saved["criterion"]["proxy_anchor_loss.proxies"], start)


def test_a_name_no_registry_knows_fails_before_the_data_is_read(tiny_cfg, monkeypatch) -> None:
    def no_data(*args, **kwargs):
        raise AssertionError("decoded the data first")

    monkeypatch.setattr(builders, "build_data", no_data)
    with pytest.raises(UnknownNameError, match="unknown backbone 'resnet99'; known: resnet18"):
        Trainer(tiny_cfg(model=ModelConfig(arch="resnet99")), progress=False)
