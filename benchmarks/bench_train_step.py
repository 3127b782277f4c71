"""Training step: images/s of the data path, of the model step alone, and of both together, as ``reid train`` runs them.

Three timings of the trainer's step (``reid/engine/trainer.py``, ``_Run._train_epoch``) on P x K batches of a
uint8 image cache shaped like Market-1501's training set (751 identities, 12,936 images; random pixels):
(i)   data path: the batch read out of the cache by ``BatchAugment(images, gen, index)`` (flip, pad + crop, erasing);
(ii)  model step on one fixed, pre-made batch: forward, ``ReIDLoss`` (batch-hard triplet), backward,
      gradient clipping, Adam step (AMP and channels_last on CUDA, deterministic kernels on the CPU, as the
      trainer sets them);
(iii) the full step: (i) then (ii) on the next batch of the sampler.
Baseline: (ii) in the same run, alternated with (iii). Target: (iii) / (ii) <= 1.10 (the data path costs at
most 10% on top of the model). Also the time to embed 23,100 images (Market's query + gallery) with
``extract_features``; on the CPU from a subset, scaled up.

Sizes: CPU resnet18 at 128x64, P=8, K=4; with CUDA also the issue's size, resnet50 at 256x128, P=18, K=4,
with seconds per Market-size epoch (12,936 images).

    python benchmarks/bench_train_step.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import torch

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import write_result  # noqa: E402
from reid.config import AugmentConfig, LossConfig, ModelConfig, OptimConfig  # noqa: E402
from reid.data import BatchAugment, PKSampler  # noqa: E402
from reid.engine.features import extract_features  # noqa: E402
from reid.engine.trainer import make_optimizer, trainer_flags  # noqa: E402
from reid.losses import ReIDLoss  # noqa: E402
from reid.models import build_model  # noqa: E402

MARKET_IDS, MARKET_TRAIN, MARKET_EVAL = 751, 12_936, 23_100  # train images; query 3,368 + gallery 19,732
TARGET = 1.10


@dataclass(frozen=True)
class Size:
    arch: str
    height: int
    width: int
    p: int
    k: int


CPU_SIZE = Size("resnet18", 128, 64, 8, 4)
CUDA_SIZE = Size("resnet50", 256, 128, 18, 4)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Step:
    """The trainer's model, loss, optimiser and augmentation for one size on one device."""

    def __init__(self, size: Size, device: torch.device, sync_stats: bool = True) -> None:
        self.device, self.cuda = device, device.type == "cuda"
        self.model = build_model(ModelConfig(arch=size.arch), 0).to(device)
        if self.cuda:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.criterion = ReIDLoss(LossConfig(), 0, sync_stats=sync_stats).to(device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optim_cfg = OptimConfig()
        self.optimizer = make_optimizer(self.params, self.optim_cfg)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.cuda)
        self.augment = BatchAugment(AugmentConfig())
        self.gen = torch.Generator(device=device).manual_seed(0)
        self.model.train()

    def data(self, images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        x = self.augment(images, self.gen, index)  # as the trainer: windows read straight out of the cache
        return x.contiguous(memory_format=torch.channels_last) if self.cuda else x

    def model_step(self, x: torch.Tensor, labels: torch.Tensor) -> None:
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.cuda):
            features, logits = self.model(x)
        loss, _ = self.criterion(features.float(), None, labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.optim_cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.optim_cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()


def timed(fn: Callable[[], None], device: torch.device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def bench_size(size: Size, device: torch.device, steps: int, rounds: int, embed_n: int) -> dict[str, Any]:
    """(i), (ii), (iii) for one size, ``rounds`` passes over ``steps`` sampler batches. (ii) and (iii) alternate in
    blocks (CPU: every step, so both see the same load on a shared machine; CUDA: ``steps`` steps, so the
    host can run ahead of the GPU as in training); ratios are of the median block times."""
    per_id = -(-MARKET_TRAIN // MARKET_IDS)
    labels = torch.arange(MARKET_IDS).repeat_interleave(per_id)[:MARKET_TRAIN]
    images = torch.randint(0, 256, (MARKET_TRAIN, 3, size.height, size.width), dtype=torch.uint8, device=device)
    labels_dev = labels.to(device)
    step = Step(size, device)
    batches = [torch.as_tensor(b, device=device) for b in PKSampler(labels.tolist(), size.p, size.k, seed=0)]
    batches = batches[1: steps + 1]
    batch = size.p * size.k
    block = 1 if device.type == "cpu" else steps
    with trainer_flags(device):
        x0, y0 = step.data(images, batches[0]), labels_dev.index_select(0, batches[0])
        step.model_step(x0, y0)  # warm-up (allocations, cuDNN autotuning)
        step.model_step(step.data(images, batches[1]), labels_dev.index_select(0, batches[1]))

        def data_only(part: list[torch.Tensor]) -> None:
            for b in part:
                step.data(images, b)

        def model_only(part: list[torch.Tensor]) -> None:
            for _ in part:
                step.model_step(x0, y0)

        def full(part: list[torch.Tensor]) -> None:
            for b in part:
                step.model_step(step.data(images, b), labels_dev.index_select(0, b))

        t_data = [timed(lambda: data_only(batches), device) for _ in range(3)]
        t_model, t_full = [], []
        for _ in range(rounds):
            for j in range(0, steps, block):
                part = batches[j: j + block]
                t_model.append(timed(lambda p=part: model_only(p), device) / len(part))
                t_full.append(timed(lambda p=part: full(p), device) / len(part))
        data_s, model_s, full_s = min(t_data) / steps, median(t_model), median(t_full)
        figures: dict[str, Any] = {
            "arch": size.arch, "input": f"{size.height}x{size.width}", "p": size.p, "k": size.k,
            "device": str(device), "threads": torch.get_num_threads() if device.type == "cpu" else None,
            "steps_timed": len(t_model) * block,
            "data_images_per_s": batch / data_s, "model_images_per_s": batch / model_s,
            "full_images_per_s": batch / full_s,
            "full_over_model": full_s / model_s,
            "full_over_model_mean": sum(t_full) / sum(t_model),
            "data_over_model": data_s / model_s,
            "model_step_s": {"median": model_s, "min": min(t_model), "max": max(t_model)},
            "full_step_s": {"median": full_s, "min": min(t_full), "max": max(t_full)},
        }
        figures["market_epoch_s"] = MARKET_TRAIN / figures["full_images_per_s"]
        if device.type == "cuda":  # the trainer's ReIDLoss syncs the host every step (sync_stats=True)
            nosync = Step(size, device, sync_stats=False)
            nosync.model_step(x0, y0)
            t_nosync = min(timed(lambda: [nosync.model_step(nosync.data(images, b), labels_dev.index_select(0, b))
                                          for b in batches], device) for _ in range(rounds))
            figures["full_images_per_s_sync_stats_off"] = steps * batch / t_nosync
    eval_images = torch.randint(0, 256, (embed_n, 3, size.height, size.width), dtype=torch.uint8)
    mean, std = AugmentConfig().mean, AugmentConfig().std
    extract_features(step.model, eval_images[:32], mean, std, device)  # warm-up
    t_embed = timed(lambda: extract_features(step.model, eval_images, mean, std, device), device)
    figures["embed_images_per_s"] = embed_n / t_embed
    figures["embed_23100_s"] = MARKET_EVAL / figures["embed_images_per_s"]
    figures["embed_measured_on"] = embed_n
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 steps x 1 round instead of 10 x 2")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for the CPU size (default 1: on a shared machine intra-op threads "
                             "lose much time waiting for each other)")
    args = parser.parse_args()
    steps, rounds = (3, 1) if args.quick else (10, 2)
    cuda = torch.cuda.is_available()
    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    results = {"cpu": bench_size(CPU_SIZE, torch.device("cpu"), steps, rounds, 256 if args.quick else 2048)}
    torch.set_num_threads(default_threads)
    if cuda:
        results["cuda"] = bench_size(CUDA_SIZE, torch.device("cuda"), 4 * steps, rounds + 1, MARKET_EVAL)
    print(f"CPU size on {args.threads} torch thread(s) of {default_threads}; GPU: {torch.cuda.get_device_name(0) if cuda else 'none'}")
    for name, r in results.items():
        print(f"\n{name}: {r['arch']} {r['input']}, P={r['p']} K={r['k']} ({r['p'] * r['k']} images/step)")
        print(f"  (i)   data path alone     {r['data_images_per_s']:9.0f} images/s")
        print(f"  (ii)  model step alone    {r['model_images_per_s']:9.1f} images/s")
        print(f"  (iii) full step           {r['full_images_per_s']:9.1f} images/s")
        print(f"  (iii)/(ii) = {r['full_over_model']:.3f} of median steps ({r['full_over_model_mean']:.3f} of means; "
              f"target <= {TARGET:.2f}); data / model time {r['data_over_model']:.1%}")
        print(f"  Market-size epoch ({MARKET_TRAIN} images): {r['market_epoch_s']:.0f} s; embedding {MARKET_EVAL} "
              f"images: {r['embed_23100_s']:.1f} s (measured on {r['embed_measured_on']})")
        if "full_images_per_s_sync_stats_off" in r:
            print(f"  full step with ReIDLoss(sync_stats=False): {r['full_images_per_s_sync_stats_off']:.0f} images/s")
    if not cuda:
        print("\nno GPU on this machine: the resnet50 256x128 P=18 K=4 figures (epoch time, embedding 23,100 images "
              "on CUDA) are not measured")
    figures: dict[str, Any] = {**results, "target_full_over_model": TARGET, "gpu": cuda,
                               "note": "CUDA size not measured: no GPU" if not cuda else "CUDA size measured"}
    print(f"wrote {write_result('train_step', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
