"""``train(TrainConfig)``: metric learning with PK batches, on-device augmentation, AMP, checkpoints, resume.

``Trainer`` has fast-reid's ``DefaultTrainer`` shape: ``build_data``, ``build_model``, ``build_loss``,
``build_optimizer`` and ``build_scheduler`` each build one part from the config (``reid.engine.builders``,
``reid.engine.schedule``: callable alone), and a subclass overrides the one it wants to change; a variant of the
run overrides the epoch hooks too (``_epoch_batches``, ``_evaluate``, ``_is_best``, ``_save``, ``_payload``):
``reid.adapt.train.AdaptTrainer`` fine-tunes on a site's tracklets that way, with this loop and schedule.

The training images are decoded once into a uint8 tensor on the training device; every PK batch is gathered
by index and augmented there, so no data-loader workers are needed. Learning rate: a ``LambdaLR`` stepped every
iteration (warm-up, then step or cosine decay). Each epoch ends with ``metrics.csv``/``metrics.json``/
``curves.png`` and an atomic ``last.pt``; evaluation runs every ``eval_every`` epochs and after the last one,
and the best mAP is kept as ``best.pt``.

Under ``torchrun`` (``reid.engine.distributed``) every process trains its share of each global P x K batch
in ``DistributedDataParallel``; rank 0 alone logs, shows progress, evaluates and writes files (when that
fails, every rank stops with an error), and every rank resumes from the same ``last.pt``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR
from tqdm import tqdm

from reid.config import ConfigError, TrainConfig
from reid.data import BatchAugment
from reid.data.cache import read_batch
from reid.engine import builders
from reid.engine import distributed as ddp
from reid.engine.builders import BatchSampler, Optimizers, TrainData, make_optimizer
from reid.engine.checkpoint import EmbedderMeta, model_payload, save_checkpoint
from reid.engine.device import describe, resolve_device
from reid.engine.features import evaluate_model, load_eval_images
from reid.engine.monitor import first_non_finite, progress_bar, sync_every
from reid.engine.recipe import resolve as resolve_recipe
from reid.engine.recipe import settled
from reid.engine.reproducibility import augment_seed, seed_everything, trainer_flags
from reid.engine.resume import resume_payload
from reid.engine.run_log import EpochStats, write_metrics
from reid.engine.schedule import build_scheduler, stretch
from reid.engine.schedule import describe as describe_schedule
from reid.engine.state import load_training_state, training_state
from reid.errors import TrainingError
from reid.losses import ReIDLoss
from reid.models import ReIDModel

__all__ = ["TrainResult", "Trainer", "make_optimizer", "train", "trainer_flags", "write_metrics"]

log = logging.getLogger(__name__)

EVAL_KEYS = ("mAP", "rank1", "rank5", "rank10")


@dataclass(frozen=True)
class TrainResult:
    """Where the run is and how it ended. ``metrics``: the last evaluation (mAP, rank1 ... as fractions)."""

    out: Path
    last: Path
    best: Path | None
    epochs: int
    best_map: float
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


class Trainer:
    """One training run of ``cfg``; ``run()`` trains, evaluates and saves. ``train()`` below is the usual entry.

    ``resume=True`` continues ``cfg.out/last.pt`` exactly; ``ctx`` is this process's place in a ``torchrun``
    job (default: a single process on ``cfg.device``).
    """

    def __init__(self, cfg: TrainConfig, resume: bool = False, progress: bool = True,
                 ctx: ddp.DistContext | None = None):
        if cfg.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {cfg.epochs}")
        cfg, recipe_line = resolve_recipe(cfg)  # open lr / schedule / clipping follow the start (saved resolved)
        self.cfg, self.ctx = cfg, ctx if ctx is not None else ddp.DistContext(device=resolve_device(cfg.device))
        if recipe_line:
            self._info("%s", recipe_line)
        self.progress, self.device = progress and self.ctx.is_main, self.ctx.device
        self.out = Path(cfg.out)
        self.last_path, self.best_path = self.out / "last.pt", self.out / "best.pt"
        payload = self._resume_payload(resume)
        cuda = self.device.type == "cuda"
        self.amp, self.channels_last = cfg.amp and cuda, cfg.channels_last and cuda
        self._info("device: %s, AMP %s, channels_last %s%s", describe(self.device), "on" if self.amp else "off",
                   "on" if self.channels_last else "off",
                   f", {self.ctx.world_size} processes" if self.ctx.distributed else "")
        seed_everything(cfg.seed)
        builders.check_names(cfg)  # a name no registry knows fails before the data is decoded
        self.data = self.build_data()
        self.num_classes = self.data.num_ids if cfg.loss.id_weight > 0 else 0
        self.model = self.build_model()
        self.criterion = self.build_loss()  # its center loss needs the model's feature width
        self.optimizers = self.build_optimizer(log_scaling=payload is None)
        n = len(self.sampler)
        self.iters = min(n, cfg.max_iters_per_epoch) if cfg.max_iters_per_epoch > 0 else n  # epoch 0's count
        self.scheduler = self.build_scheduler()
        self._info("schedule %s", describe_schedule(cfg.optim, cfg.epochs))
        self.freeze_iters = round(cfg.optim.freeze_epochs * stretch(cfg.optim, cfg.epochs) * self.iters)
        self.sync_every = sync_every(self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.augment = BatchAugment(cfg.augment)
        self.meta = EmbedderMeta(cfg.model.arch, cfg.data.height, cfg.data.width, cfg.augment.mean,
                                 cfg.augment.std, self.model.embedding_dim)
        self.start_epoch, self.best_map = 0, -1.0
        self.history: list[dict[str, Any]] = []
        self.eval_images: tuple[torch.Tensor, torch.Tensor] | None = None
        if payload is not None:
            self._restore(payload)
        self.net = self._wrap()

    def _info(self, msg: str, *args: Any) -> None:
        if self.ctx.is_main:
            log.info(msg, *args)

    # ------------------------------------------------------------------------------------------ parts

    def build_data(self) -> TrainData:
        return builders.build_data(self.cfg, self.ctx, progress=self.progress)

    def build_model(self) -> ReIDModel:
        return builders.build_model(self.cfg.model, self.num_classes, self.device, self.channels_last)

    def build_loss(self) -> ReIDLoss:
        return builders.build_loss(self.cfg.loss, self.data.num_ids, self.model.embedding_dim, self.device,
                                   seed=self.cfg.seed)

    def build_optimizer(self, log_scaling: bool = True) -> Optimizers:
        """The optimisers at ``optim.lr`` scaled for the number of processes (``distributed.lr_scaling``)."""
        cfg, world = self.cfg, self.ctx.world_size
        lr = settled(cfg.optim)[0]
        optim = dataclasses.replace(cfg.optim, lr=ddp.scaled_lr(lr, world, cfg.distributed.lr_scaling))
        if optim.lr != lr and log_scaling:  # a resumed run keeps the checkpoint's rate
            self._info("learning rate %.3g x %s scaling for %d processes = %.3g", lr,
                       cfg.distributed.lr_scaling, world, optim.lr)
        return builders.build_optimizer(self.model, self.criterion, optim, cfg.loss)

    def build_scheduler(self) -> LambdaLR:
        return build_scheduler(self.optimizer, self.cfg.optim, self.cfg.epochs, self.iters)

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.optimizers.main

    @property
    def sampler(self) -> BatchSampler:
        return self.data.sampler

    def _wrap(self) -> torch.nn.Module:
        """The module the loop calls: ``self.model`` in DDP under ``torchrun``, compiled with ``cfg.compile``."""
        # Without a classifier the BNNeck's scale gets no gradient (the triplet loss sees pre-BNNeck features);
        # DDP must be told, or its next step fails waiting for that gradient.
        net = ddp.wrap_model(self.model, self.ctx,
                             find_unused_parameters=not self.num_classes and self.cfg.model.bnneck)
        backend = self.cfg.compile
        if not backend:
            return net
        known = torch._dynamo.list_backends(exclude_tags=())
        if backend not in known:
            raise ConfigError(f"compile backend {backend!r} unknown; known: {', '.join(known)}")
        self._info("torch.compile backend %s: the first steps compile and are slow", backend)
        return torch.compile(net, backend=backend)  # type: ignore[return-value]  # after DDP, as PyTorch advises

    # ------------------------------------------------------------------------------------------ resume

    def _resume_payload(self, resume: bool) -> dict[str, Any] | None:
        payload = resume_payload(self.last_path, self.cfg) if resume else None
        if payload is None and self.last_path.exists():
            raise TrainingError(f"{self.last_path} exists; add --resume to continue that run or choose another --out")
        return payload

    def _restore(self, payload: dict[str, Any]) -> None:
        planned = self.scheduler.base_lrs[0]
        load_training_state(payload, self.last_path, self.model, self.criterion, self.optimizers,
                            self.scaler if self.amp else None, self.scheduler, self.sampler)
        self.start_epoch = int(payload["epoch"])
        self.best_map = float(payload.get("best_map", -1.0))
        self.history = list(payload.get("history", []))
        lr = self.scheduler.base_lrs[0]  # the checkpoint's (scaled) rate: the global batch --p is the same
        self._info("resuming %s after epoch %d of %d (trained on %d process(es), now %d) with the checkpoint's "
                   "learning rate %.3g%s", self.last_path, self.start_epoch, self.cfg.epochs,
                   int(payload.get("world_size", 1)), self.ctx.world_size, lr, "" if math.isclose(lr, planned)
                   else f" (not {planned:.3g}: the global batch --p is unchanged, so its rate still fits)")

    def _payload(self, epoch: int, full: bool) -> dict[str, Any]:
        """A self-describing checkpoint; ``full`` adds the training state a resume needs (``last.pt``)."""
        payload = model_payload(self.cfg, self.model, self.num_classes)
        payload.update(epoch=epoch, best_map=self.best_map, history=self.history, world_size=self.ctx.world_size)
        if full:
            payload.update(training_state(self.criterion, self.optimizers, self.scaler, self.scheduler, self.sampler))
        return payload

    # ------------------------------------------------------------------------------------------ steps

    def _batch(self, batch: list[int], gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented images ``(B, 3, H, W)`` float on the device and their labels ``(B,)``."""
        index = torch.as_tensor(batch, dtype=torch.long, device=self.device)
        if self.data.images.device.type == self.device.type:
            x = self.augment(self.data.images, gen, index)
        else:  # a set too large for the GPU stays in pinned host memory: gather there, copy the uint8 batch
            x = self.augment(read_batch(self.data.images, batch, self.device), gen)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.data.labels.index_select(0, index)

    def _step(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """One optimiser step on one batch; the loss and its statistics stay on the device."""
        frozen = self.scheduler.last_epoch < self.freeze_iters
        if self.freeze_iters:
            self.model.backbone.train(not frozen)  # fast-reid's frozen start: backbone BatchNorm statistics too
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            features, logits = self.net(x)
        features, logits = features.float(), None if logits is None else logits.float()
        if self.cfg.distributed.all_gather:
            features, logits, labels = ddp.gather_batch(features, logits, labels)
        loss, stats = self.criterion(features, logits, labels)
        opt = self.optimizers
        for o in (opt.main, opt.center):
            if o is not None:
                o.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if frozen:
            for p in self.model.backbone.parameters():
                p.grad = None  # Adam skips a parameter without gradient: no update, no weight decay
        clip = settled(self.cfg.optim)[2]
        if clip > 0:
            self.scaler.unscale_(opt.main)
            torch.nn.utils.clip_grad_norm_(opt.params, clip)
        self.scaler.step(opt.main)
        if opt.center is not None:
            self._center_grads()
            self.scaler.step(opt.center)
        self.scaler.update()
        self.scheduler.step()
        return loss, stats

    def _center_grads(self) -> None:
        """Center-loss centers move by ``center_lr`` whatever ``center_weight`` scales their loss by
        (reid-strong-baseline divides their gradient by the weight); averaged over the processes, as DDP does
        for the model's gradients."""
        for p in self.optimizers.centers:
            if p.grad is not None:
                p.grad = ddp.mean_across_ranks(p.grad)
        self.criterion.rescale_center_grads()

    def _epoch_batches(self) -> Iterable[list[int]]:
        """This epoch's batches: the sampler's, at most ``self.iters`` (epoch 0's count, or the cap)."""
        return itertools.islice(iter(self.sampler), self.iters)

    def _train_epoch(self, epoch: int) -> dict[str, Any]:
        cfg = self.cfg
        self.net.train()
        self.sampler.set_epoch(epoch)
        gen = torch.Generator(device=self.device)
        gen.manual_seed(augment_seed(cfg.seed, epoch, self.ctx.rank))
        meter = EpochStats(self.device)
        seen, done, start = 0, 0, time.perf_counter()
        bar = progress_bar(min(len(self.sampler), self.iters), f"epoch {epoch + 1}/{cfg.epochs}", self.progress)
        for batch in self._epoch_batches():
            loss, stats = self._step(*self._batch(batch, gen))
            meter.add(loss, stats)
            seen, done = seen + len(batch) * self.ctx.world_size, done + 1
            if done % self.sync_every == 0:
                self._check(meter, epoch, done, bar, seen / max(time.perf_counter() - start, 1e-9))
        # The epoch may end between two syncs: its number of PK batches varies, and self.iters is epoch 0's.
        self._check(meter, epoch, done, bar, seen / max(time.perf_counter() - start, 1e-9))
        bar.close()
        elapsed = time.perf_counter() - start
        row: dict[str, Any] = {"epoch": epoch + 1}
        row.update({k: round(v, 6) for k, v in meter.means().items()})
        row.update(lr=float(self.scheduler.get_last_lr()[0]), img_per_s=round(seen / elapsed, 2), time_s=round(elapsed, 2))
        return row

    def _check(self, meter: EpochStats, epoch: int, done: int, bar: tqdm, rate: float) -> None:
        """Host sync: bring the losses still on the device to the host (mean over ranks) into the epoch's
        means, raise ``TrainingError`` at the first NaN/inf, advance the bar. ``done``: iterations so far."""
        if not meter.pending:
            return
        values = meter.flush(ddp.mean_across_ranks)  # the same on every rank: all stop at a NaN together
        bad = first_non_finite(values)
        if bad is not None:
            bar.close()
            self._diverged(float(values[bad, 0]), epoch, done - len(values) + bad + 1)
        bar.set_postfix(meter.postfix(float(self.scheduler.get_last_lr()[0]), rate))
        bar.update(len(values))

    def _diverged(self, value: float, epoch: int, iteration: int) -> None:
        kept = f"last good checkpoint kept at {self.last_path}" if self.last_path.exists() \
            else "no checkpoint was written yet"
        raise TrainingError(f"loss became {value} at epoch {epoch + 1} iter {iteration}; {kept}; "
                            "try a lower --lr or --grad-clip")

    # ------------------------------------------------------------------------------------------ epochs

    def _evaluate(self) -> dict[str, Any]:
        """Query/gallery scores (rank 0 only: ``run`` hands them to the other ranks)."""
        dataset = self.data.dataset
        if dataset is None or not dataset.query or not dataset.gallery:
            log.warning("no query/gallery images: skipping evaluation")
            return {}
        if self.eval_images is None:
            self.eval_images = load_eval_images(dataset, self.cfg.data.height, self.cfg.data.width,
                                                progress=self.progress)
        result = evaluate_model(self.model, dataset, self.meta, self.device, images=self.eval_images,
                                progress=self.progress)
        return {k: round(float(result[k]), 6) for k in EVAL_KEYS}

    def _is_best(self, row: dict[str, Any]) -> bool:
        """Is the epoch of ``row`` the best so far (its checkpoint becomes ``best.pt``)? By mAP here."""
        if "mAP" in row and row["mAP"] > self.best_map:
            self.best_map = row["mAP"]
            return True
        return False

    def _save(self, epoch: int, is_best: bool) -> None:
        """``last.pt`` (``best.pt``) and the metrics files (rank 0 only)."""
        save_checkpoint(self.last_path, self._payload(epoch + 1, full=True))
        if is_best:
            save_checkpoint(self.best_path, self._payload(epoch + 1, full=False))
        write_metrics(self.out, self.history)

    def run(self) -> TrainResult:
        cfg = self.cfg
        # Work on rank 0 alone goes through ddp.on_main: if it fails there, every rank stops at once.
        ddp.on_main(lambda: self.out.mkdir(parents=True, exist_ok=True), f"creating {self.out}")
        for epoch in range(self.start_epoch, cfg.epochs):
            row = self._train_epoch(epoch)
            ddp.broadcast_buffers(self.model)  # BatchNorm statistics: every rank holds rank 0's model
            last = epoch + 1 == cfg.epochs
            if last or (cfg.eval_every > 0 and (epoch + 1) % cfg.eval_every == 0):
                row.update(ddp.on_main(self._evaluate, f"evaluation after epoch {epoch + 1}"))
            self.history.append(row)
            is_best = self._is_best(row)
            # every rank goes on (and finally returns) once rank 0's files are complete
            ddp.on_main(functools.partial(self._save, epoch, is_best), f"saving epoch {epoch + 1}")
            self._info("epoch %d/%d  %s", epoch + 1, cfg.epochs,
                       "  ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch" and isinstance(v, float | int)))
        evaluated = [r for r in self.history if "mAP" in r]
        final = {k: v for k, v in evaluated[-1].items() if k in EVAL_KEYS} if evaluated else {}
        return TrainResult(out=self.out, last=self.last_path,
                           best=self.best_path if self.best_path.exists() else None, epochs=cfg.epochs,
                           best_map=max(self.best_map, 0.0), metrics=final, history=list(self.history))


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> TrainResult:
    """Train the model ``cfg`` describes; ``resume=True`` continues ``cfg.out/last.pt`` exactly.

    Under ``torchrun`` this joins the job (``reid.engine.distributed.init_distributed``) and leaves it again.
    Raises ``TrainingError`` when the loss becomes NaN/inf (``last.pt`` keeps the last finished epoch),
    ``DatasetError``/``ConfigError``/``CheckpointError`` for unusable inputs.
    """
    ctx = ddp.init_distributed(cfg.device)
    try:
        with trainer_flags(ctx.device):
            return Trainer(cfg, resume, progress, ctx).run()
    finally:
        ddp.cleanup(ctx)
