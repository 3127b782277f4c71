"""reid.engine.schedule: warm-up then cosine or step decay; reid.engine.device choices."""

from __future__ import annotations

import pytest
import torch

from reid.config import ConfigError, OptimConfig
from reid.engine.device import resolve_device
from reid.engine.schedule import COSINE_FLOOR, WARMUP_START, LRSchedule, lr_factor


def test_warmup_then_cosine() -> None:
    cfg = OptimConfig(warmup_epochs=2, schedule="cosine")
    assert lr_factor(0, cfg, 10) == pytest.approx(WARMUP_START)
    assert lr_factor(1, cfg, 10) == pytest.approx((1 + WARMUP_START) / 2)
    assert lr_factor(2, cfg, 10) == pytest.approx(1.0)
    assert lr_factor(6, cfg, 10) == pytest.approx((1 + COSINE_FLOOR) / 2)  # half-way through the cosine
    assert lr_factor(10, cfg, 10) == pytest.approx(COSINE_FLOOR)
    values = [lr_factor(e / 4, cfg, 10) for e in range(41)]
    assert values[:9] == sorted(values[:9]) and values[8:] == sorted(values[8:], reverse=True)


def test_warmup_then_step() -> None:
    cfg = OptimConfig(warmup_epochs=1, schedule="step", milestones=(3, 5), gamma=0.1)
    assert lr_factor(0.5, cfg, 8) == pytest.approx(WARMUP_START + (1 - WARMUP_START) * 0.5)
    assert [lr_factor(e, cfg, 8) for e in (1, 2.9, 3, 4.5, 5, 7)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_schedule_sets_the_rate_every_iteration_and_resumes() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    cfg = OptimConfig(warmup_epochs=1, schedule="cosine")
    sched = LRSchedule(opt, cfg, total_epochs=3, iters_per_epoch=4)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * WARMUP_START)
    for _ in range(6):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * lr_factor(1.5, cfg, 3))
    other = LRSchedule(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), cfg, 3, 4)
    other.load_state_dict(sched.state_dict())
    assert other.get_last_lr() == pytest.approx(sched.get_last_lr())
    with pytest.raises(ConfigError, match="schedule"):
        lr_factor(0, OptimConfig(schedule="linear"), 3)


def test_device_choices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' requested but CUDA is not available"):
            resolve_device("cuda")
