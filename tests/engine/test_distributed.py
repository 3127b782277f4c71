"""Multi-process training on the CPU (gloo, 2 processes): torchrun through the CLI, and spawned workers.

Spawned workers join a process group through a file, then call the library as torchrun's workers would
(``train()`` uses a group that already exists); each dumps what the test compares into ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import reid.engine.trainer as trainer_module
from reid.cli import main
from reid.config import ConfigError, DistributedConfig, LossConfig, OptimConfig, TrainConfig
from reid.data import PKSampler
from reid.engine import builders
from reid.engine.checkpoint import load_checkpoint, load_embedder
from reid.engine.distributed import (
    from_main,
    gather_batch,
    init_distributed,
    mean_across_ranks,
    scaled_lr,
)
from reid.engine.recipe import resolve
from reid.engine.reproducibility import augment_seed
from reid.engine.schedule import lr_factor
from reid.engine.trainer import train
from reid.errors import DatasetError, TrainingError
from reid.losses import ReIDLoss

REPO = Path(__file__).resolve().parents[2]
WORLD = 2
RUN_FILES = {"last.pt", "best.pt", "metrics.csv", "metrics.json", "curves.png"}
VOLATILE = ("img_per_s", "time_s")


def _join(rank: int, init_file: Path, timeout: float = 90) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD,
                            timeout=timedelta(seconds=timeout))  # a rank left waiting fails the test, not hangs it


def _spawn(fn, tmp_path: Path, *args) -> None:
    mp.spawn(fn, args=(tmp_path / "pg-init", *args), nprocs=WORLD, join=True)


# ------------------------------------------------------------------------------------------ pure functions


def test_lr_scaling_rules() -> None:
    assert scaled_lr(1e-3, 4, "none") == 1e-3
    assert scaled_lr(1e-3, 4, "linear") == pytest.approx(4e-3)
    assert scaled_lr(1e-3, 4, "sqrt") == pytest.approx(2e-3)
    assert all(scaled_lr(3.5e-4, 1, rule) == 3.5e-4 for rule in ("none", "linear", "sqrt"))
    with pytest.raises(ConfigError, match="must be one of none, linear, sqrt, got 'cubic'"):
        scaled_lr(1e-3, 2, "cubic")


def test_config_rejects_an_unknown_rule_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^distributed.lr_scaling must be one of none, linear, sqrt, got 'x'$"):
        dataclasses.replace(TrainConfig(), distributed=DistributedConfig(lr_scaling="x"))


def test_ranks_augment_differently_and_rank_0_keeps_the_single_process_stream() -> None:
    seeds = {augment_seed(7, epoch, rank) for epoch in range(100) for rank in range(8)}
    assert len(seeds) == 800 and augment_seed(7, 3, 0) == augment_seed(7, 3)


def test_without_torchrun_everything_is_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed("cpu")
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed, ctx.owns_group) == (0, 1, True, False, False)
    x = torch.arange(6.0).reshape(3, 2)
    f, logits, labels = gather_batch(x, None, torch.tensor([0, 0, 1]))
    assert f is x and logits is None and labels.tolist() == [0, 0, 1]
    assert mean_across_ranks(x) is x and from_main("a") == "a"


# ------------------------------------------------------------------------------------------ all-gather loss

LOSS = LossConfig(margin=0.3, mining="batch_hard", id_weight=1.0)
IDS, K, DIM_IN, DIM = 4, 2, 6, 5  # global batch: 4 identities x 2 images; each rank gets 2 identities


class _Toy(nn.Module):
    """``x (B, 6) -> (features (B, 5), logits (B, 4))``, like ReIDModel in training mode."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed, self.classifier = nn.Linear(DIM_IN, DIM), nn.Linear(DIM, IDS, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.embed(x)
        return f, self.classifier(f)


def _toy_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(IDS * K, DIM_IN, generator=g), torch.arange(IDS).repeat_interleave(K)


def _gather_worker(rank: int, init_file: Path, out: Path) -> None:
    _join(rank, init_file)
    model, (x, labels) = _Toy(), _toy_batch()
    net = nn.parallel.DistributedDataParallel(model)
    rows = slice(rank * len(x) // WORLD, (rank + 1) * len(x) // WORLD)
    features, logits = net(x[rows])
    local_loss, _ = ReIDLoss(LOSS, IDS)(features, logits, labels[rows])
    loss, _ = ReIDLoss(LOSS, IDS)(*gather_batch(features, logits, labels[rows]))
    loss.backward()
    torch.save({"loss": loss.detach(), "local_loss": local_loss.detach(),
                "grads": [p.grad.clone() for p in model.parameters()],
                "mean": mean_across_ranks(torch.tensor([float(rank), 2.0 * rank])),
                "from_main": from_main(f"rank {rank}")}, out / f"rank{rank}.pt")
    dist.destroy_process_group()


def test_all_gather_loss_and_gradient_equal_the_single_process_step(tmp_path: Path) -> None:
    _spawn(_gather_worker, tmp_path, tmp_path)
    model, (x, labels) = _Toy(), _toy_batch()
    features, logits = model(x)
    loss, _ = ReIDLoss(LOSS, IDS)(features, logits, labels)
    loss.backward()
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert got["loss"].item() == pytest.approx(loss.item(), abs=1e-6)
        assert not math.isclose(got["local_loss"].item(), loss.item(), abs_tol=1e-3)  # mining saw other ranks
        for g, p in zip(got["grads"], model.parameters(), strict=True):
            torch.testing.assert_close(g, p.grad, atol=1e-6, rtol=1e-5)  # W-fold gather backward / W in DDP
        assert got["mean"].tolist() == [0.5, 1.0] and got["from_main"] == "rank 0"


# ------------------------------------------------------------------------------------------ training


def _train_worker(rank: int, init_file: Path, runs: list[tuple[TrainConfig, bool]], dump: Path) -> None:
    """Train ``runs`` in order; after each, save this rank's model as ``dump/<out>-e<epochs>-rank<r>.pt``.
    Then train the first run again with a loss that diverges on rank 1; save each rank's error message."""
    _join(rank, init_file)
    original = trainer_module.Trainer.run

    def run_and_dump(self):
        result = original(self)
        torch.save(self.model.state_dict(), dump / f"{Path(self.cfg.out).name}-e{self.cfg.epochs}-rank{rank}.pt")
        return result

    trainer_module.Trainer.run = run_and_dump
    for cfg, resume in runs:
        train(cfg, resume=resume, progress=False)

    class NaNOnRank1(ReIDLoss):  # the loss diverges on rank 1 only, at its second step
        calls = 0

        def forward(self, features, logits, labels):
            loss, stats = super().forward(features, logits, labels)
            NaNOnRank1.calls += 1
            return (loss * float("nan"), stats) if rank == 1 and NaNOnRank1.calls == 2 else (loss, stats)

    builders.ReIDLoss = NaNOnRank1
    try:
        train(dataclasses.replace(runs[0][0], out=str(dump / "nan")), progress=False)
    except TrainingError as exc:
        (dump / f"nan-rank{rank}.txt").write_text(str(exc))
    dist.destroy_process_group()


def _stable(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in history]


def test_ranks_agree_rank_0_writes_and_resume_is_exact(tiny_cfg, tmp_path: Path) -> None:
    optim = OptimConfig(lr=1e-3, warmup_epochs=1, schedule="step", milestones=(1,), gamma=0.5, schedule_epochs=0)
    common = {"optim": optim, "max_iters_per_epoch": 2, "distributed": DistributedConfig(all_gather=True),
              "loss": LossConfig(id_weight=1.0)}
    straight = tiny_cfg("straight", epochs=2, **common)
    cut = tiny_cfg("cut", epochs=1, **common)
    resumed = dataclasses.replace(cut, epochs=2)
    _spawn(_train_worker, tmp_path, [(straight, False), (cut, False), (resumed, True)], tmp_path)

    for name in ("straight-e2", "cut-e1", "cut-e2"):  # every rank ends with the same weights and buffers
        a, b = (torch.load(tmp_path / f"{name}-rank{r}.pt") for r in range(WORLD))
        assert all(torch.equal(v, b[k]) for k, v in a.items()), name
    out = Path(straight.out)
    assert {p.name for p in out.iterdir()} == RUN_FILES  # rank 0's files only, no temporary leftovers
    a, b = load_checkpoint(out / "last.pt"), load_checkpoint(Path(resumed.out) / "last.pt")
    assert a["world_size"] == 2 and not [k for k in a["model"] if k.startswith("module.")]
    assert all(torch.equal(v, torch.load(tmp_path / "straight-e2-rank1.pt")[k]) for k, v in a["model"].items())
    assert _stable(b["history"]) == _stable(a["history"])
    assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])
    for rank in range(WORLD):  # a NaN on one rank stops every rank at the same step (none is left waiting)
        assert (tmp_path / f"nan-rank{rank}.txt").read_text().startswith("loss became nan at epoch 1 iter 2;")


def _fail_on_rank_0_worker(rank: int, init_file: Path, cfg: TrainConfig, dump: Path) -> None:
    """Train ``cfg`` twice, with rank 0's evaluation failing, then its saving; save each rank's error."""
    _join(rank, init_file, timeout=30)  # without the error hand-over rank 1 would fail here after 30 s

    def bad_image(self):
        raise DatasetError("gallery/0001_c1s1_000151_01.jpg: cannot decode")

    def disk_full(self, epoch, is_best):
        raise OSError(28, "No space left on device")

    for name, method, broken in (("evaluate", "_evaluate", bad_image), ("save", "_save", disk_full)):
        original = getattr(trainer_module.Trainer, method)
        if rank == 0:
            setattr(trainer_module.Trainer, method, broken)
        try:
            train(dataclasses.replace(cfg, out=str(dump / name)), progress=False)
        except Exception as exc:
            (dump / f"{name}-rank{rank}.txt").write_text(f"{type(exc).__name__}: {exc}")
        setattr(trainer_module.Trainer, method, original)
    dist.destroy_process_group()


def test_a_failure_on_rank_0_stops_every_rank_at_once(tiny_cfg, tmp_path: Path) -> None:
    cfg = tiny_cfg("fail", epochs=1, max_iters_per_epoch=1)
    _spawn(_fail_on_rank_0_worker, tmp_path, cfg, tmp_path)
    errors = {p.stem: p.read_text() for p in tmp_path.glob("*-rank*.txt")}
    image, disk = "DatasetError: gallery/0001_c1s1_000151_01.jpg: cannot decode", \
        "OSError: [Errno 28] No space left on device"
    assert errors == {"evaluate-rank0": image,
                      "evaluate-rank1": f"TrainingError: evaluation after epoch 1 failed on rank 0: {image}",
                      "save-rank0": disk, "save-rank1": f"TrainingError: saving epoch 1 failed on rank 0: {disk}"}


def _train_only_worker(rank: int, init_file: Path, cfg: TrainConfig) -> None:
    _join(rank, init_file)
    train(cfg, progress=False)
    dist.destroy_process_group()


def test_resume_on_one_process_continues_the_global_plan_and_rate(tiny_cfg, tmp_path: Path, monkeypatch,
                                                                  caplog) -> None:
    common = {"optim": OptimConfig(lr=1e-3, warmup_epochs=0, schedule="step", milestones=()),
              "max_iters_per_epoch": 3, "eval_every": 0, "distributed": DistributedConfig(lr_scaling="linear")}
    cut = tiny_cfg("cut", epochs=1, **common)
    _spawn(_train_only_worker, tmp_path, cut)  # epoch 1 on 2 processes: the linear rule doubles the rate
    first = load_checkpoint(Path(cut.out) / "last.pt")

    drawn: list[tuple[int, list[int]]] = []  # (epoch, batch) of the one-process runs below

    class Recording(PKSampler):
        def __iter__(self):
            for batch in super().__iter__():
                drawn.append((self.epoch, batch))
                yield batch

    monkeypatch.setattr(builders, "PKSampler", Recording)
    caplog.set_level(logging.INFO, logger=trainer_module.__name__)
    resumed = train(dataclasses.replace(cut, epochs=2), resume=True, progress=False)  # epoch 2 on 1 process
    resumed_batches, drawn[:] = list(drawn), []
    straight = train(tiny_cfg("straight", epochs=2, **common), progress=False)

    assert [row["epoch"] for row in resumed.history] == [1, 2]
    last = load_checkpoint(resumed.last)
    assert first["world_size"] == 2 and last["world_size"] == 1 and last["history"][0] == first["history"][0]
    assert resumed_batches == [(e, batch) for e, batch in drawn if e == 1] and len(resumed_batches) == 3
    assert last["sampler"] == load_checkpoint(straight.last)["sampler"]
    assert [row["lr"] for row in resumed.history] == pytest.approx([2e-3, 2e-3])  # the checkpoint's rate
    assert "with the checkpoint's learning rate 0.002 (not 0.001:" in caplog.text


# ------------------------------------------------------------------------------------------ torchrun + CLI


def _torchrun(*argv: str) -> subprocess.CompletedProcess[str]:
    # ``--`` ends torchrun's own options: without it torchrun >= 2.14 reads ``--p`` as its ``--print-completion``
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(WORLD),
           "-m", "reid", "--", "train", *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_torchrun_trains_and_only_rank_0_prints_and_writes(tiny_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _torchrun("--data", str(tiny_root), "--out", str(out), "--device", "cpu", "--arch", "resnet18",
                     "--height", "64", "--width", "32", "--p", "4", "--k", "4", "--epochs", "2",
                     "--max-iters-per-epoch", "2", "--lr-scaling", "linear", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("best mAP") == 1 and proc.stdout.count("final: mAP") == 1
    assert proc.stderr.count("epoch 2/2 ") == 1 and proc.stderr.count("cpu (threads=1), AMP off, channels_last off, 2 processes") == 1
    assert {p.name for p in out.iterdir()} == RUN_FILES
    last = load_checkpoint(out / "last.pt")
    optim = resolve(TrainConfig())[0].optim  # from scratch: the defaults' open rate and schedule filled in
    after_epoch_1 = WORLD * optim.lr * lr_factor(1.0, optim, 2)  # linear: lr x 2 processes
    assert last["world_size"] == 2 and last["history"][0]["lr"] == pytest.approx(after_epoch_1)
    assert not [k for k in last["model"] if k.startswith("module.")]
    model, meta = load_embedder(out / "best.pt")
    with torch.no_grad():
        f = model(torch.zeros(2, 3, meta.height, meta.width))
    assert f.shape == (2, 512) and torch.allclose(f.norm(dim=1), torch.ones(2))


def test_an_error_on_another_rank_is_one_line_naming_the_rank(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--config", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err == f"error (rank 1): {tmp_path / 'none.yaml'}: config file not found\n"


def test_torchrun_error_is_one_line_per_rank(tmp_path: Path) -> None:
    proc = _torchrun("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), "--device", "cpu")
    assert proc.returncode != 0
    message = f"{tmp_path / 'nowhere'}: data folder not found"
    lines = proc.stderr.splitlines()
    assert lines.count(f"error: {message}") == 1 and lines.count(f"error (rank 1): {message}") == 1
    assert proc.stderr.count("error: ") == 1 and proc.stderr.count("error (rank") == 1
    assert f"{REPO / 'reid'}" not in proc.stderr  # no traceback through our code (torchrun prints its own)
    assert not (tmp_path / "o").exists()
