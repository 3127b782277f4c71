"""Data-parallel training with ``torchrun``: process group, per-rank device, gathers and reductions.

Start one process per GPU (or CPU worker) with ``torchrun``; it sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``, which ``init_distributed`` reads. Without them (or with ``WORLD_SIZE=1``) everything here is a
no-op and training runs in one process as before.

Batches. ``data.p`` is the number of identities in the *global* step. With W processes every rank takes
P/W whole identities x K images of the same global P x K plan (``reid.data.distributed``), so a W-process
step sees exactly the images a one-process step would, and the same hyper-parameters apply; P must be a
multiple of W. Without ``distributed.all_gather`` each rank mines triplets among its own P/W identities
(fewer, easier negatives); with it, features, logits and labels of all ranks are gathered before the loss,
so batch-hard mining sees the whole P x K batch and the step computes the one-process loss and gradient
(BatchNorm statistics are still per rank).

Learning rate. ``optim.lr`` is the rate for the global batch, which does not change with W, so the default
``distributed.lr_scaling: none`` keeps it. When you grow P with W instead (e.g. ``--p 64`` on 4 GPUs to
keep 16 identities per GPU) the global batch is W times the one the rate was tuned for: ``linear``
multiplies the rate by W (Goyal et al. 2017, "Accurate, Large Minibatch SGD"; the warm-up it needs is
``optim.warmup_epochs``), ``sqrt`` by sqrt(W) (the square-root rule for Adam, Malladi et al. 2022,
"On the SDEs and Scaling Rules for Adaptive Gradient Algorithms"). ``--resume`` keeps the checkpoint's rate
whatever the number of processes now: a resumed run has the same ``data.p``, so the global batch the rate
was set for is unchanged.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from reid.config import LR_SCALING, ConfigError
from reid.engine.device import resolve_device
from reid.errors import TrainingError, first_line

T = TypeVar("T")

# Evaluation runs on rank 0 while the others wait in a collective; the first one also decodes the query and
# gallery images, which takes minutes on a large set. 30 min is torch's gloo default, stated for NCCL too.
WAIT = timedelta(minutes=30)


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job. ``world_size == 1``: a plain single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False  # init_distributed created the process group, so cleanup() destroys it

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, evaluates and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None and default is not None:
        return default
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"environment variable {name}={value!r} is not a number; start the job with "
                          "torchrun, which sets RANK, WORLD_SIZE and LOCAL_RANK") from None


def _rank_device(device: torch.device, local_rank: int) -> torch.device:
    """On CUDA every process of a node uses its own GPU, ``cuda:LOCAL_RANK``; other devices are shared."""
    if device.type != "cuda":
        return device
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise ConfigError(f"LOCAL_RANK={local_rank} but only {count} GPU(s) are visible; start at most {count} "
                          "processes per node (torchrun --nproc_per_node)")
    return torch.device("cuda", local_rank)


def init_distributed(device_arg: str = "auto") -> DistContext:
    """Join the ``torchrun`` job described by the environment, or return a single-process context.

    ``device_arg`` is ``--device`` (``auto | cpu | cuda | cuda:N``); on CUDA the index is replaced by
    ``LOCAL_RANK``. Backend: NCCL on CUDA, gloo on the CPU. A process group the caller already initialised is
    used as it is (and left to the caller to destroy).
    """
    device = resolve_device(device_arg)
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = _env_int("LOCAL_RANK", rank)
        device = _rank_device(device, local)
        if device.type == "cuda":  # NCCL collectives run on the current device, not on the tensors' one
            torch.cuda.set_device(device)
        return DistContext(rank, world, local, device)
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return DistContext(device=device)
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    rank, local = _env_int("RANK"), _env_int("LOCAL_RANK", 0)
    device = _rank_device(device, local)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world,
                            timeout=WAIT)
    return DistContext(rank, world, local, device, owns_group=True)


def cleanup(ctx: DistContext) -> None:
    """Destroy the process group if ``init_distributed`` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def scaled_lr(base_lr: float, world_size: int, rule: str) -> float:
    """The learning rate for ``world_size`` processes: ``none`` keeps ``base_lr``, ``linear`` multiplies it
    by ``world_size``, ``sqrt`` by ``sqrt(world_size)`` (see the module docstring for when to use which)."""
    if rule not in LR_SCALING:
        raise ConfigError(f"lr scaling rule must be one of {', '.join(LR_SCALING)}, got {rule!r}")
    if world_size < 1:
        raise ConfigError(f"world_size must be >= 1, got {world_size}")
    return base_lr * {"none": 1.0, "linear": float(world_size), "sqrt": math.sqrt(world_size)}[rule]


def wrap_model(model: nn.Module, ctx: DistContext, find_unused_parameters: bool = False) -> nn.Module:
    """``DistributedDataParallel(model)`` in a multi-process run (gradients averaged over ranks), else ``model``."""
    if not ctx.distributed:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids,
                                               find_unused_parameters=find_unused_parameters)


class _GatherWithGrad(torch.autograd.Function):
    """All-gather whose backward sums every rank's gradient of the gathered tensor, then keeps this rank's rows."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        rows = grad.shape[0] // dist.get_world_size()
        return grad[dist.get_rank() * rows:(dist.get_rank() + 1) * rows]


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """``(b, ...)`` on each rank -> ``(world * b, ...)``, the ranks' tensors concatenated in rank order.

    Differentiable: the backward pass returns to each rank the gradient of *its* rows summed over all ranks.
    When every rank computes the same loss L on the gathered tensor, that is W x dL/dx_rank; DDP then averages
    the parameter gradients over the W ranks, so the update is exactly dL/dtheta of the one-process step on
    the global batch (no rescaling needed). Every rank must pass the same shape.
    """
    if not _active():
        return x
    out: torch.Tensor = _GatherWithGrad.apply(x)
    return out


def all_gather_tensor(x: torch.Tensor) -> torch.Tensor:
    """Like ``all_gather_with_grad`` but without gradients (labels, indices)."""
    if not _active():
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def gather_batch(features: torch.Tensor, logits: torch.Tensor | None, labels: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The global batch for the loss: ``features (W*b, D)``, ``logits (W*b, C)`` or None, ``labels (W*b,)``."""
    gathered = None if logits is None else all_gather_with_grad(logits)
    return all_gather_with_grad(features), gathered, all_gather_tensor(labels)


def mean_across_ranks(x: torch.Tensor) -> torch.Tensor:
    """Element-wise mean of ``x`` over the ranks (a copy; ``x`` itself in a single process). NaN anywhere
    makes the mean NaN everywhere, so every rank sees a diverged loss at the same step."""
    if not _active():
        return x
    total = x.detach().clone()
    dist.all_reduce(total)
    return total / dist.get_world_size()


def broadcast_buffers(model: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank."""
    if _active():
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def from_main(value: Any) -> Any:
    """Rank 0's ``value`` (any picklable object) on every rank; the other ranks wait for it."""
    if not _active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def on_main(work: Callable[[], T], what: str) -> T:
    """``work()`` run on rank 0 alone; its (picklable) result on every rank, the others waiting for it.

    When ``work`` raises on rank 0 (a bad gallery image, a full disk), rank 0 re-raises it and every other
    rank raises ``TrainingError("<what> failed on rank 0: ...")`` at once instead of waiting in its next
    collective until the timeout. ``what`` names the work, e.g. ``"saving epoch 3"``.
    """
    if not _active():
        return work()
    if dist.get_rank() != 0:
        news = from_main(None)
        if "error" in news:
            raise TrainingError(f"{what} failed on rank 0: {news['error']}")
        return news["value"]  # type: ignore[no-any-return]
    try:
        value = work()
    except Exception as exc:
        with contextlib.suppress(Exception):  # a rank that is gone already cannot be told; rank 0's error counts
            from_main({"error": first_line(exc)})
        raise
    from_main({"value": value})
    return value

