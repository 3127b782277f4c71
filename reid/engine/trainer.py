"""``train(TrainConfig)``: metric learning with PK batches, on-device augmentation, AMP, checkpoints, resume.

The training images are decoded once into a uint8 tensor on the training device; every PK batch is gathered
by index and augmented there, so no data-loader workers are needed. Learning rate: linear warm-up, then
cosine or step decay, updated every iteration (``reid.engine.schedule``). Each epoch ends with
``metrics.csv``/``metrics.json``/``curves.png`` and an atomic ``last.pt``; evaluation runs every
``eval_every`` epochs and after the last one, and the best mAP is kept as ``best.pt``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from reid.config import ConfigError, OptimConfig, TrainConfig, to_dict
from reid.data import BatchAugment, PKSampler, load_dataset, load_images
from reid.engine.checkpoint import EmbedderMeta, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from reid.engine.device import describe, resolve_device
from reid.engine.features import evaluate_model, load_eval_images
from reid.engine.schedule import LRSchedule
from reid.errors import CheckpointError, DatasetError, TrainingError
from reid.losses import ReIDLoss
from reid.models import ReIDModel, build_model

log = logging.getLogger(__name__)

# Settings a resumed run must share with the checkpoint (they change the model or what a batch is).
RESUME_KEYS = ("model.arch", "model.last_stride", "model.pooling", "model.embedding_dim", "model.bnneck",
               "data.height", "data.width", "data.p", "data.k")


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


def _get(cfg_dict: dict[str, Any], dotted: str) -> Any:
    value: Any = cfg_dict
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _check_resumable(payload: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    saved, wanted = payload["config"], to_dict(cfg)
    for key in RESUME_KEYS:
        if _get(saved, key) != _get(wanted, key):
            raise TrainingError(f"{path}: was trained with {key}={_get(saved, key)!r} but this run asks for "
                                f"{_get(wanted, key)!r}; resume with the same settings or use another --out")
    if (payload.get("num_classes", 0) > 0) != (cfg.loss.id_weight > 0):
        raise TrainingError(f"{path}: id_weight on/off differs from the checkpoint; resume with the same loss")


@contextlib.contextmanager
def trainer_flags(device: torch.device) -> Iterator[None]:
    """Deterministic kernels on the CPU (cheap there); cuDNN autotuning on CUDA. Restores global flags."""
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def write_metrics(out: Path, history: list[dict[str, Any]]) -> None:
    """``metrics.csv`` and ``metrics.json`` (one row per epoch) and ``curves.png`` in ``out``."""
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(history)
    _write_atomic(out / "metrics.csv", buf.getvalue())
    _write_atomic(out / "metrics.json", json.dumps(history, indent=1) + "\n")
    try:
        from reid.metrics.plots import plot_curves

        plot_curves(history, out / "curves.png")
    except Exception as exc:  # a picture must never end a long run
        log.warning("could not draw %s: %s", out / "curves.png", exc)


def _stat(stats: dict[str, Any], key: str, device: torch.device) -> torch.Tensor:
    value = stats.get(key, float("nan"))
    if isinstance(value, torch.Tensor):
        return value.detach().float().reshape(-1)[0].to(device)
    return torch.tensor(float(value), device=device)


class _Run:
    """State of one training run; ``train()`` below is the public entry point."""

    def __init__(self, cfg: TrainConfig, resume: bool, progress: bool):
        self.cfg, self.progress = cfg, progress
        self.out = Path(cfg.out)
        self.last_path, self.best_path = self.out / "last.pt", self.out / "best.pt"
        payload = self._resume_payload() if resume else None
        if payload is None and self.last_path.exists():
            raise TrainingError(f"{self.last_path} exists; add --resume to continue that run or choose another --out")
        self.device = resolve_device(cfg.device)
        cuda = self.device.type == "cuda"
        self.amp, self.channels_last = cfg.amp and cuda, cfg.channels_last and cuda
        if cfg.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {cfg.epochs}")
        _seed_everything(cfg.seed)

        if not Path(cfg.data.root).is_dir():
            raise DatasetError(f"{cfg.data.root}: data folder not found")
        try:
            self.dataset = load_dataset(cfg.data.root, format=cfg.data.format)
        except ValueError as exc:
            raise ConfigError(f"data: {exc}") from exc
        log.info("%s", self.dataset.summary())
        log.info("device: %s, AMP %s, channels_last %s", describe(self.device), "on" if self.amp else "off",
                 "on" if self.channels_last else "off")
        pids = sorted({s.pid for s in self.dataset.train})
        if not pids:
            raise DatasetError(f"{cfg.data.root}: no training images")
        relabel = {pid: i for i, pid in enumerate(pids)}
        labels = [relabel[s.pid] for s in self.dataset.train]
        self.labels = torch.tensor(labels, dtype=torch.long, device=self.device)
        self.images = load_images([s.path for s in self.dataset.train], cfg.data.height, cfg.data.width,
                                  progress=progress).to(self.device)
        self.eval_images: tuple[torch.Tensor, torch.Tensor] | None = None

        self.num_classes = len(pids) if cfg.loss.id_weight > 0 else 0
        self.model: ReIDModel = build_model(cfg.model, self.num_classes).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.criterion = ReIDLoss(cfg.loss, self.num_classes, sync_stats=False).to(self.device)
        self.params = [p for p in itertools.chain(self.model.parameters(), self.criterion.parameters())
                       if p.requires_grad]
        self.optimizer = make_optimizer(self.params, cfg.optim)
        try:
            self.sampler = PKSampler(labels, cfg.data.p, cfg.data.k, seed=cfg.seed)
        except ValueError as exc:
            raise ConfigError(f"data: {exc}") from exc
        n = len(self.sampler)
        self.iters = min(n, cfg.max_iters_per_epoch) if cfg.max_iters_per_epoch > 0 else n
        self.schedule = LRSchedule(self.optimizer, cfg.optim, cfg.epochs, self.iters)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.augment = BatchAugment(cfg.augment)
        self.meta = EmbedderMeta(cfg.model.arch, cfg.data.height, cfg.data.width, cfg.augment.mean,
                                 cfg.augment.std, self.model.embedding_dim)
        self.start_epoch, self.best_map = 0, -1.0
        self.history: list[dict[str, Any]] = []
        if payload is not None:
            self._restore(payload)

    # ------------------------------------------------------------------------------------------ resume

    def _resume_payload(self) -> dict[str, Any]:
        if not self.last_path.is_file():
            raise CheckpointError(f"{self.last_path}: not found; nothing to resume (drop --resume to start a new run)")
        payload = load_checkpoint(self.last_path)
        for key in ("optimizer", "scaler", "scheduler", "sampler", "rng", "epoch"):
            if key not in payload:
                raise CheckpointError(f"{self.last_path}: has no {key!r} state; cannot resume from it")
        _check_resumable(payload, self.cfg, self.last_path)
        return payload

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
        self.schedule.load_state_dict(payload["scheduler"])
        self.sampler.load_state_dict(payload["sampler"])
        set_rng_state(payload["rng"])
        self.start_epoch = int(payload["epoch"])
        self.best_map = float(payload.get("best_map", -1.0))
        self.history = list(payload.get("history", []))
        log.info("resuming %s after epoch %d of %d", self.last_path, self.start_epoch, self.cfg.epochs)

    def _payload(self, epoch: int, full: bool) -> dict[str, Any]:
        cfg = self.cfg
        payload: dict[str, Any] = {
            "arch": cfg.model.arch, "input_size": [cfg.data.height, cfg.data.width],
            "embedding_dim": self.model.embedding_dim, "mean": list(cfg.augment.mean),
            "std": list(cfg.augment.std), "config": to_dict(cfg), "num_classes": self.num_classes,
            "model": self.model.state_dict(), "epoch": epoch, "best_map": self.best_map,
            "history": self.history,
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
        self.model.train()
        self.sampler.set_epoch(epoch)
        gen = torch.Generator(device=device)
        gen.manual_seed(cfg.seed * 1_000_003 + epoch)  # augmentation stream: a function of (seed, epoch)
        sync_every = 1 if device.type == "cpu" else 10  # fewer host syncs on the GPU
        keys: list[str] = []
        pending: list[torch.Tensor] = []
        totals: torch.Tensor | None = None
        count, seen, start = 0, 0, time.perf_counter()
        bar = tqdm(total=self.iters, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not self.progress,
                   dynamic_ncols=True, leave=False)
        for it, batch in enumerate(itertools.islice(iter(self.sampler), self.iters)):
            index = torch.as_tensor(batch, dtype=torch.long, device=device)
            x = self.augment(self.images.index_select(0, index), gen)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.float16, enabled=self.amp):
                features, logits = self.model(x)
            loss, stats = self.criterion(features.float(), None if logits is None else logits.float(),
                                         self.labels.index_select(0, index))
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.optim.grad_clip > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.params, cfg.optim.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.schedule.step()
            if not keys:
                keys = ["loss", *[k for k in ("active", "d_ap", "d_an") if k in stats],
                        *sorted(k for k in stats if k not in ("loss", "active", "d_ap", "d_an"))]
            pending.append(torch.stack([loss.detach().float(), *[_stat(stats, k, device) for k in keys[1:]]]))
            seen += len(batch)
            if (it + 1) % sync_every and it + 1 < self.iters:
                continue
            values = torch.stack(pending).cpu()
            bad = (~torch.isfinite(values[:, 0])).nonzero()
            if len(bad):
                first = it + 1 - len(pending) + int(bad[0, 0]) + 1
                kept = f"last good checkpoint kept at {self.last_path}" if self.last_path.exists() \
                    else "no checkpoint was written yet"
                bar.close()
                raise TrainingError(f"loss became {values[bad[0, 0], 0].item()} at epoch {epoch + 1} iter {first}; "
                                    f"{kept}; try a lower --lr or --grad-clip")
            totals = values.sum(0) if totals is None else totals + values.sum(0)
            count += len(values)
            pending.clear()
            rate = seen / max(time.perf_counter() - start, 1e-9)
            means = dict(zip(keys, (totals / count).tolist(), strict=True))
            bar.set_postfix({"loss": f"{means['loss']:.3f}", "active": f"{means.get('active', math.nan):.2f}",
                             "d_ap": f"{means.get('d_ap', math.nan):.2f}", "d_an": f"{means.get('d_an', math.nan):.2f}",
                             "lr": f"{self.schedule.get_last_lr()[0]:.2e}", "img/s": f"{rate:.0f}"})
            bar.update(len(values))
        bar.close()
        elapsed = time.perf_counter() - start
        assert totals is not None
        row: dict[str, Any] = {"epoch": epoch + 1}
        row.update({k: round(v, 6) for k, v in zip(keys, (totals / count).tolist(), strict=True)})
        row.update(lr=self.schedule.get_last_lr()[0], img_per_s=round(seen / elapsed, 2), time_s=round(elapsed, 2))
        return row

    def _evaluate(self) -> dict[str, float]:
        if not self.dataset.query or not self.dataset.gallery:
            log.warning("no query/gallery images: skipping evaluation")
            return {}
        if self.eval_images is None:
            self.eval_images = load_eval_images(self.dataset, self.cfg.data.height, self.cfg.data.width,
                                                progress=self.progress)
        result = evaluate_model(self.model, self.dataset, self.meta, self.device, images=self.eval_images,
                                progress=self.progress)
        return {k: round(float(result[k]), 6) for k in ("mAP", "rank1", "rank5", "rank10")}

    def run(self) -> TrainResult:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        for epoch in range(self.start_epoch, cfg.epochs):
            row = self._train_epoch(epoch)
            last = epoch + 1 == cfg.epochs
            if last or (cfg.eval_every > 0 and (epoch + 1) % cfg.eval_every == 0):
                row.update(self._evaluate())
            self.history.append(row)
            is_best = "mAP" in row and row["mAP"] > self.best_map
            if is_best:
                self.best_map = row["mAP"]
            save_checkpoint(self.last_path, self._payload(epoch + 1, full=True))
            if is_best:
                save_checkpoint(self.best_path, self._payload(epoch + 1, full=False))
            write_metrics(self.out, self.history)
            log.info("epoch %d/%d  %s", epoch + 1, cfg.epochs,
                     "  ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
        evaluated = [r for r in self.history if "mAP" in r]
        final = {k: v for k, v in evaluated[-1].items() if k in ("mAP", "rank1", "rank5", "rank10")} \
            if evaluated else {}
        return TrainResult(out=self.out, last=self.last_path,
                           best=self.best_path if self.best_path.exists() else None, epochs=cfg.epochs,
                           best_map=max(self.best_map, 0.0), metrics=final, history=list(self.history))


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> TrainResult:
    """Train the model ``cfg`` describes; ``resume=True`` continues ``cfg.out/last.pt`` exactly.

    Raises ``TrainingError`` when the loss becomes NaN/inf (``last.pt`` keeps the last finished epoch),
    ``DatasetError``/``ConfigError``/``CheckpointError`` for unusable inputs.
    """
    device = resolve_device(cfg.device)
    with trainer_flags(device):
        return _Run(cfg, resume, progress).run()
