"""reid.engine.schedule: warm-up then step or cosine decay as a LambdaLR, stretched to the run; device choices."""

from __future__ import annotations

import io

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

from reid.config import ConfigError, OptimConfig
from reid.engine.device import resolve_device
from reid.engine.schedule import COSINE_FLOOR, build_scheduler, describe, lr_factor

AS_WRITTEN = {"schedule_epochs": 0, "warmup_factor": 0.01}


def test_warmup_then_cosine() -> None:
    cfg = OptimConfig(warmup_epochs=2, schedule="cosine", **AS_WRITTEN)
    assert lr_factor(0, cfg, 10) == pytest.approx(0.01)
    assert lr_factor(1, cfg, 10) == pytest.approx((1 + 0.01) / 2)
    assert lr_factor(2, cfg, 10) == pytest.approx(1.0)
    assert lr_factor(6, cfg, 10) == pytest.approx((1 + COSINE_FLOOR) / 2)  # half-way through the cosine
    assert lr_factor(10, cfg, 10) == pytest.approx(COSINE_FLOOR)
    values = [lr_factor(e / 4, cfg, 10) for e in range(41)]
    assert values[:9] == sorted(values[:9]) and values[8:] == sorted(values[8:], reverse=True)


def test_cosine_after_a_delay_as_fast_reid() -> None:
    cfg = OptimConfig(warmup_epochs=2, schedule="cosine", delay_epochs=6, **AS_WRITTEN)
    assert [lr_factor(e, cfg, 10) for e in (2, 4, 6)] == [1.0, 1.0, 1.0]  # full rate until the delay ends
    assert lr_factor(8, cfg, 10) == pytest.approx((1 + COSINE_FLOOR) / 2)
    assert lr_factor(10, cfg, 10) == pytest.approx(COSINE_FLOOR)


def test_warmup_then_step() -> None:
    cfg = OptimConfig(warmup_epochs=1, schedule="step", milestones=(3, 5), gamma=0.1, **AS_WRITTEN)
    assert lr_factor(0.5, cfg, 8) == pytest.approx(0.01 + 0.99 * 0.5)
    assert [lr_factor(e, cfg, 8) for e in (1, 2.9, 3, 4.5, 5, 7)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    with pytest.raises(ConfigError, match="schedule must be one of step, cosine, got 'linear'"):
        lr_factor(0, OptimConfig(schedule="linear"), 3)


def test_default_is_bag_of_tricks_at_120_epochs_and_keeps_its_shape_at_8() -> None:
    """Luo et al. 2019: warm-up 10 epochs from x0.01, x0.1 at 40 and 70 of 120 epochs (the defaults when
    fine-tuning ImageNet weights, ``reid.engine.recipe``)."""
    cfg = OptimConfig(schedule="step")
    bot = {0: 0.01, 5: 0.01 + 0.99 * 0.5, 10: 1, 39.9: 1, 40: 0.1, 69.9: 0.1, 70: 0.01, 119.9: 0.01}
    assert [lr_factor(e, cfg, 120) for e in bot] == pytest.approx(list(bot.values()))
    assert [lr_factor(e * 8 / 120, cfg, 8) for e in bot] == pytest.approx(list(bot.values()))
    assert describe(cfg, 8) == ("step: warm-up 0.667 epochs from x0.01, x0.1 at epochs 2.67, 4.67 "
                                "(written for 120 epochs, stretched to 8)")
    assert describe(cfg, 120) == "step: warm-up 10 epochs from x0.01, x0.1 at epochs 40, 70"


def test_scheduler_is_a_lambda_lr_stepped_every_iteration_and_resumes() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    cfg = OptimConfig(warmup_epochs=1, schedule="cosine", **AS_WRITTEN)
    sched = build_scheduler(opt, cfg, total_epochs=3, iters_per_epoch=4)
    assert isinstance(sched, LambdaLR) and opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.01)
    for _ in range(6):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * lr_factor(1.5, cfg, 3))

    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)  # what a checkpoint holds must load with weights_only=True
    state = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    other_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    other = build_scheduler(other_opt, cfg, 3, 4)
    other.load_state_dict(state)
    other_opt.step()
    other.step()
    opt.step()
    sched.step()
    assert other.last_epoch == 7 and other.get_last_lr() == pytest.approx(sched.get_last_lr())
    assert other_opt.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    with pytest.raises(ConfigError, match="iters_per_epoch must be >= 1"):
        build_scheduler(opt, cfg, 3, 0)


def test_device_choices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' requested but CUDA is not available"):
            resolve_device("cuda")
