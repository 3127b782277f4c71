"""``train(TrainConfig)``: metric learning with PK batches, on-device augmentation, AMP, checkpoints, resume.

The training images are decoded once into a uint8 tensor on the training device; every PK batch is gathered
by index and augmented there, so no data-loader workers are needed. Learning rate: linear warm-up, then
cosine or step decay, updated every iteration (``reid.engine.schedule``). Each epoch ends with
``metrics.csv``/``metrics.json``/``curves.png`` and an atomic ``last.pt``; evaluation runs every
``eval_every`` epochs and after the last one, and the best mAP is kept as ``best.pt``.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from reid.config import ConfigError, OptimConfig, TrainConfig, to_dict
from reid.data import BatchAugment, PKSampler, load_dataset, load_images
from reid.data.cache import place_images, read_batch
from reid.data.distributed import DistributedPKSampler
from reid.engine import distributed as ddp
from reid.engine.checkpoint import EmbedderMeta, rng_state, save_checkpoint, set_rng_state
from reid.engine.device import describe
from reid.engine.features import evaluate_model, load_eval_images
from reid.engine.reproducibility import augment_seed, seed_everything, trainer_flags
from reid.engine.resume import resume_payload
from reid.engine.run_log import EpochStats, write_metrics
from reid.engine.schedule import LRSchedule
from reid.errors import CheckpointError, DatasetError, TrainingError
from reid.losses import ReIDLoss
from reid.models import ReIDModel, build_model

__all__ = ["TrainResult", "make_optimizer", "train", "trainer_flags", "write_metrics"]

log = logging.getLogger(__name__)

# Iterations between host syncs on an accelerator: the losses stay on the device in between, so the loop
# never waits for the GPU; on the CPU there is nothing to wait for and every loss is checked at once.
GPU_SYNC_EVERY = 10


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


def make_optimizer(params: list[torch.nn.Parameter], cfg: OptimConfig) -> torch.optim.Optimizer:
    """Adam (L2 weight decay, as in reid-strong-baseline) or AdamW (decoupled weight decay)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"optimizer must be adam or adamw, got {cfg.optimizer!r}")


class _Run:
    """State of one training run; ``train()`` below is the public entry point."""

    def __init__(self, cfg: TrainConfig, resume: bool, progress: bool, ctx: ddp.DistContext):
        self.cfg, self.ctx, self.progress = cfg, ctx, progress and ctx.is_main
        self.out = Path(cfg.out)
        self.last_path, self.best_path = self.out / "last.pt", self.out / "best.pt"
        payload = resume_payload(self.last_path, cfg) if resume else None
        if payload is None and self.last_path.exists():
            raise TrainingError(f"{self.last_path} exists; add --resume to continue that run or choose another --out")
        self.device = ctx.device
        cuda = self.device.type == "cuda"
        self.amp, self.channels_last = cfg.amp and cuda, cfg.channels_last and cuda
        if cfg.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {cfg.epochs}")
        seed_everything(cfg.seed)

        if not Path(cfg.data.root).is_dir():
            raise DatasetError(f"{cfg.data.root}: data folder not found")
        try:
            self.dataset = load_dataset(cfg.data.root, format=cfg.data.format)
        except ValueError as exc:
            raise ConfigError(f"data: {exc}") from exc
        self._info("%s", self.dataset.summary())
        self._info("device: %s, AMP %s, channels_last %s%s", describe(self.device), "on" if self.amp else "off",
                   "on" if self.channels_last else "off",
                   f", {ctx.world_size} processes" if ctx.distributed else "")
        pids = sorted({s.pid for s in self.dataset.train})
        if not pids:
            raise DatasetError(f"{cfg.data.root}: no training images")
        relabel = {pid: i for i, pid in enumerate(pids)}
        labels = [relabel[s.pid] for s in self.dataset.train]
        self.labels = torch.tensor(labels, dtype=torch.long, device=self.device)
        self.images = place_images(load_images([s.path for s in self.dataset.train], cfg.data.height,
                                                cfg.data.width, progress=self.progress), self.device, cfg.data.cache_on)
        self.eval_images: tuple[torch.Tensor, torch.Tensor] | None = None

        self.num_classes = len(pids) if cfg.loss.id_weight > 0 else 0
        self.model: ReIDModel = build_model(cfg.model, self.num_classes).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.criterion = ReIDLoss(cfg.loss, self.num_classes, sync_stats=False).to(self.device)
        self.params = [p for p in itertools.chain(self.model.parameters(), self.criterion.parameters())
                       if p.requires_grad]
        optim = dataclasses.replace(cfg.optim, lr=ddp.scaled_lr(cfg.optim.lr, ctx.world_size,
                                                                 cfg.distributed.lr_scaling))
        if optim.lr != cfg.optim.lr and payload is None:  # a resumed run keeps the checkpoint's rate
            self._info("learning rate %.3g x %s scaling for %d processes = %.3g", cfg.optim.lr,
                       cfg.distributed.lr_scaling, ctx.world_size, optim.lr)
        self.optimizer = make_optimizer(self.params, optim)
        try:
            self.sampler: PKSampler | DistributedPKSampler = (
                DistributedPKSampler(labels, cfg.data.p, cfg.data.k, ctx.rank, ctx.world_size, seed=cfg.seed)
                if ctx.distributed else PKSampler(labels, cfg.data.p, cfg.data.k, seed=cfg.seed))
        except ValueError as exc:
            raise ConfigError(f"data: {exc}") from exc
        n = len(self.sampler)
        self.iters = min(n, cfg.max_iters_per_epoch) if cfg.max_iters_per_epoch > 0 else n  # epoch 0's count
        self.sync_every = 1 if self.device.type == "cpu" else GPU_SYNC_EVERY
        self.schedule = LRSchedule(self.optimizer, optim, cfg.epochs, self.iters)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.augment = BatchAugment(cfg.augment)
        self.meta = EmbedderMeta(cfg.model.arch, cfg.data.height, cfg.data.width, cfg.augment.mean,
                                 cfg.augment.std, self.model.embedding_dim)
        self.start_epoch, self.best_map = 0, -1.0
        self.history: list[dict[str, Any]] = []
        if payload is not None:
            self._restore(payload)
        # Without a classifier the BNNeck's scale gets no gradient (the triplet loss sees pre-BNNeck features);
        # DDP must be told, or its next step fails waiting for that gradient.
        self.net = ddp.wrap_model(self.model, ctx, find_unused_parameters=not self.num_classes and cfg.model.bnneck)
        if cfg.compile:  # after DDP, as PyTorch recommends; checkpoints keep saving the plain self.model
            known = torch._dynamo.list_backends(exclude_tags=())
            if cfg.compile not in known:
                raise ConfigError(f"compile backend {cfg.compile!r} unknown; known: {', '.join(known)}")
            self._info("torch.compile backend %s: the first steps compile and are slow", cfg.compile)
            self.net = torch.compile(self.net, backend=cfg.compile)  # type: ignore[assignment]  # an nn.Module

    def _info(self, msg: str, *args: Any) -> None:
        if self.ctx.is_main:
            log.info(msg, *args)

    # ------------------------------------------------------------------------------------------ resume

    def _restore(self, payload: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(payload["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0][:160]
            raise CheckpointError(f"{self.last_path}: weights do not fit this run's model ({first})") from exc
        if payload.get("criterion"):
            self.criterion.load_state_dict(payload["criterion"])
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.amp and payload["scaler"]:
            self.scaler.load_state_dict(payload["scaler"])
        planned = self.schedule.base_lrs[0]
        self.schedule.load_state_dict(payload["scheduler"])  # the checkpoint's (scaled) rate: same global batch
        self.sampler.load_state_dict(payload["sampler"])  # the global plan: any number of processes resumes it
        set_rng_state(payload["rng"])
        self.start_epoch = int(payload["epoch"])
        self.best_map = float(payload.get("best_map", -1.0))
        self.history = list(payload.get("history", []))
        lr = self.schedule.base_lrs[0]
        self._info("resuming %s after epoch %d of %d (trained on %d process(es), now %d) with the checkpoint's "
                   "learning rate %.3g%s", self.last_path, self.start_epoch, self.cfg.epochs,
                   int(payload.get("world_size", 1)), self.ctx.world_size, lr, "" if math.isclose(lr, planned)
                   else f" (not {planned:.3g}: the global batch --p is unchanged, so its rate still fits)")

    def _payload(self, epoch: int, full: bool) -> dict[str, Any]:
        cfg = self.cfg
        payload: dict[str, Any] = {
            "arch": cfg.model.arch, "input_size": [cfg.data.height, cfg.data.width],
            "embedding_dim": self.model.embedding_dim, "mean": list(cfg.augment.mean),
            "std": list(cfg.augment.std), "config": to_dict(cfg), "num_classes": self.num_classes,
            "model": self.model.state_dict(), "epoch": epoch, "best_map": self.best_map,
            "history": self.history, "world_size": self.ctx.world_size,
        }
        if full:
            payload.update(
                criterion=self.criterion.state_dict(), optimizer=self.optimizer.state_dict(),
                scaler=self.scaler.state_dict(), scheduler=self.schedule.state_dict(),
                sampler=self.sampler.state_dict(), rng=rng_state(),
            )
        return payload

    # ------------------------------------------------------------------------------------------ epochs

    def _train_epoch(self, epoch: int) -> dict[str, Any]:
        cfg, device = self.cfg, self.device
        self.net.train()
        self.sampler.set_epoch(epoch)
        gen = torch.Generator(device=device)
        gen.manual_seed(augment_seed(cfg.seed, epoch, self.ctx.rank))
        meter = EpochStats(device)
        seen, done, start = 0, 0, time.perf_counter()
        bar = tqdm(total=min(len(self.sampler), self.iters), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   disable=not self.progress, dynamic_ncols=True, leave=False)
        for batch in itertools.islice(iter(self.sampler), self.iters):
            index = torch.as_tensor(batch, dtype=torch.long, device=device)
            if self.images.device.type == device.type:
                x = self.augment(self.images, gen, index)
            else:  # a set too large for the GPU stays in pinned host memory: gather there, copy the uint8 batch
                x = self.augment(read_batch(self.images, batch, device), gen)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.float16, enabled=self.amp):
                features, logits = self.net(x)
            features, labels = features.float(), self.labels.index_select(0, index)
            logits = None if logits is None else logits.float()
            if cfg.distributed.all_gather:
                features, logits, labels = ddp.gather_batch(features, logits, labels)
            loss, stats = self.criterion(features, logits, labels)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.optim.grad_clip > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.params, cfg.optim.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.schedule.step()
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
        row.update(lr=self.schedule.get_last_lr()[0], img_per_s=round(seen / elapsed, 2), time_s=round(elapsed, 2))
        return row

    def _check(self, meter: EpochStats, epoch: int, done: int, bar: tqdm, rate: float) -> None:
        """Bring the losses still on the device to the host (mean over ranks) and count them in the epoch's
        means; raise ``TrainingError`` at the first NaN/inf. ``done``: iterations run so far this epoch."""
        if not meter.pending:
            return
        values = meter.flush(ddp.mean_across_ranks)  # the same on every rank: all stop at a NaN together
        bad = (~torch.isfinite(values[:, 0])).nonzero()
        if len(bad):
            bar.close()
            self._diverged(float(values[bad[0, 0], 0]), epoch, done - len(values) + int(bad[0, 0]) + 1)
        bar.set_postfix(meter.postfix(self.schedule.get_last_lr()[0], rate))
        bar.update(len(values))

    def _diverged(self, value: float, epoch: int, iteration: int) -> None:
        kept = f"last good checkpoint kept at {self.last_path}" if self.last_path.exists() \
            else "no checkpoint was written yet"
        raise TrainingError(f"loss became {value} at epoch {epoch + 1} iter {iteration}; {kept}; "
                            "try a lower --lr or --grad-clip")

    def _evaluate(self) -> dict[str, float]:
        """Query/gallery scores (rank 0 only: ``run`` hands them to the other ranks)."""
        if not self.dataset.query or not self.dataset.gallery:
            log.warning("no query/gallery images: skipping evaluation")
            return {}
        if self.eval_images is None:
            self.eval_images = load_eval_images(self.dataset, self.cfg.data.height, self.cfg.data.width,
                                                progress=self.progress)
        result = evaluate_model(self.model, self.dataset, self.meta, self.device, images=self.eval_images,
                                progress=self.progress)
        return {k: round(float(result[k]), 6) for k in ("mAP", "rank1", "rank5", "rank10")}

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
            is_best = "mAP" in row and row["mAP"] > self.best_map
            if is_best:
                self.best_map = row["mAP"]
            # every rank goes on (and finally returns) once rank 0's files are complete
            ddp.on_main(functools.partial(self._save, epoch, is_best), f"saving epoch {epoch + 1}")
            self._info("epoch %d/%d  %s", epoch + 1, cfg.epochs,
                       "  ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
        evaluated = [r for r in self.history if "mAP" in r]
        final = {k: v for k, v in evaluated[-1].items() if k in ("mAP", "rank1", "rank5", "rank10")} \
            if evaluated else {}
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
            return _Run(cfg, resume, progress, ctx).run()
    finally:
        ddp.cleanup(ctx)
