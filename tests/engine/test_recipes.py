"""The shipped recipes against their published sources, and the defaults as Bag of Tricks trains."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reid.config import ConfigError, ModelConfig, OptimConfig, TrainConfig, load_yaml, to_dict
from reid.engine.recipe import resolve, settled
from reid.engine.schedule import lr_factor

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

# reid-strong-baseline, configs/softmax_triplet_with_center.yml (and config/defaults.py for the keys it leaves
# at their defaults), as published: https://github.com/michuanhaohao/reid-strong-baseline
BOT = {
    "data.height": 256, "data.width": 128,  # INPUT.SIZE_TRAIN
    "data.p": 64 // 4, "data.k": 4,  # SOLVER.IMS_PER_BATCH 64, DATALOADER.NUM_INSTANCE 4
    "augment.flip_prob": 0.5, "augment.pad": 10, "augment.erase_prob": 0.5,  # INPUT.PROB, PADDING, RE_PROB
    "augment.mean": [0.485, 0.456, 0.406], "augment.std": [0.229, 0.224, 0.225],  # INPUT.PIXEL_MEAN/STD
    "model.arch": "resnet50", "model.last_stride": 1, "model.bnneck": True,  # MODEL.NAME, LAST_STRIDE, NECK
    "model.pooling": "avg", "model.embedding_dim": 0,
    "loss.triplet_weight": 1.0, "loss.margin": 0.3, "loss.mining": "batch_hard",  # SOLVER.MARGIN, hard mining
    "loss.squared": False, "loss.id_weight": 1.0, "loss.label_smoothing": 0.1,  # IF_LABELSMOOTH on
    "loss.center_weight": 0.0005, "loss.center_lr": 0.5,  # SOLVER.CENTER_LOSS_WEIGHT, CENTER_LR
    "loss.contrastive_weight": 0.0, "loss.circle_weight": 0.0,
    "optim.optimizer": "adam", "optim.lr": 0.00035, "optim.weight_decay": 0.0005,  # OPTIMIZER_NAME, BASE_LR
    "optim.warmup_epochs": 10, "optim.warmup_factor": 0.01,  # WARMUP_ITERS (epochs), WARMUP_FACTOR
    "optim.schedule": "step", "optim.milestones": [40, 70], "optim.gamma": 0.1,  # STEPS, GAMMA
    "optim.grad_clip": 0.0, "optim.freeze_epochs": 0.0,
    "epochs": 120,  # SOLVER.MAX_EPOCHS
}


def _flat(values: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def test_bot_r50_is_the_published_recipe() -> None:
    cfg = _flat(to_dict(load_yaml(TrainConfig, CONFIGS / "bot_r50.yaml")))
    assert {k: cfg[k] for k in BOT} == BOT
    assert cfg["model.pretrained"] == "models/resnet50-0676ba61.pth"  # MODEL.PRETRAIN_CHOICE imagenet


def test_bot_r50_schedule_is_bots_exactly() -> None:
    """reid-strong-baseline's WarmupMultiStepLR over 120 epochs: linear from x0.01 to x1 over 10 epochs,
    x0.1 from epoch 40, x0.01 from epoch 70 (no stretching at its own length)."""
    cfg = load_yaml(TrainConfig, CONFIGS / "bot_r50.yaml")
    factors = {e: lr_factor(e, cfg.optim, cfg.epochs) for e in (0, 5, 10, 39, 40, 69, 70, 119)}
    assert factors == pytest.approx({0: 0.01, 5: 0.505, 10: 1, 39: 1, 40: 0.1, 69: 0.1, 70: 0.01, 119: 0.01})


def test_defaults_train_what_bag_of_tricks_trains() -> None:
    """``reid train`` with no loss flags: BoT's losses, and its optimiser and schedule when fine-tuning ImageNet
    weights as BoT does; center loss available but off, and the input at Market-1501's own 128x64
    (CPU-friendly; bot_r50.yaml sets BoT's 256x128)."""
    fine_tune, why = resolve(TrainConfig(model=ModelConfig(pretrained="models/resnet50-0676ba61.pth")))
    cfg = _flat(to_dict(fine_tune))
    differs = {k: (cfg[k], v) for k, v in BOT.items() if cfg[k] != v}
    assert differs == {"loss.center_weight": (0.0, 0.0005), "data.height": (128, 256), "data.width": (64, 128)}
    assert why is not None and why.startswith("fine-tuning model.pretrained: lr 0.00035, step schedule, grad_clip 0")


def test_from_scratch_the_open_optimiser_settings_train_a_random_network_and_explicit_ones_win() -> None:
    scratch, why = resolve(TrainConfig())
    o = scratch.optim
    assert (o.lr, o.schedule, o.grad_clip) == (1e-3, "cosine", 5.0)
    assert why is not None and why.startswith("from random weights (no model.pretrained): lr 0.001, cosine")
    # the warm-up stays BoT's (10 of 120 epochs, from x0.01), then cosine over the rest of the run
    assert lr_factor(0, o, 8) == pytest.approx(0.01) and lr_factor(8 * 10 / 120, o, 8) == pytest.approx(1.0)
    assert lr_factor(4.33, o, 8) == pytest.approx(0.505, abs=0.01)
    mine, why = resolve(TrainConfig(optim=OptimConfig(lr=2e-4, schedule="step", grad_clip=0.0)))
    assert (mine.optim.lr, mine.optim.schedule, mine.optim.grad_clip, why) == (2e-4, "step", 0.0, None)
    with pytest.raises(ConfigError, match="resolve first"):
        settled(TrainConfig().optim)


def test_sbs_r50_takes_what_fast_reid_sbs_adds() -> None:
    cfg = load_yaml(TrainConfig, CONFIGS / "sbs_r50.yaml")
    assert (cfg.data.height, cfg.data.width, cfg.data.p, cfg.data.k) == (384, 128, 4, 16)
    assert cfg.model.pooling == "gem" and cfg.loss.margin is None and cfg.loss.id_weight == 1.0
    o = cfg.optim
    assert (o.schedule, o.delay_epochs, o.freeze_epochs, o.warmup_factor, cfg.epochs) == ("cosine", 30, 5, 0.1, 60)
    assert lr_factor(20, o, 60) == 1.0 and lr_factor(45, o, 60) == pytest.approx(0.505)  # hold, then cosine



def test_the_readme_market_command_reads_bot_r50() -> None:
    from reid.cli import build_parser
    from reid.cli.train import config_from_args

    args = build_parser().parse_args(["train", "--config", str(CONFIGS / "bot_r50.yaml"), "--data", "market"])
    bot = load_yaml(TrainConfig, CONFIGS / "bot_r50.yaml")
    assert config_from_args(args) == dataclasses.replace(bot, data=dataclasses.replace(bot.data, root="market"))
