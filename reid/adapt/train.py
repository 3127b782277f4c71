"""``adapt(AdaptConfig)``: fine-tune a re-ID network on one site's own tracklets, with no labels.

Each tracklet is a class, or each reviewer-confirmed identity (its tracklets merged); PK batches put
identities known to be different (overlapping in time in one camera, rejected by a reviewer) together
(``CoOccurrencePKSampler``), and batch-hard triplet loss (Hermans et al. 2017) on the pre-BNNeck feature
pulls each class's crops together and pushes its hardest negatives away; before each scoring the BNNeck's
statistics are set from the site's crops (``reid.adapt.neck``). Confirmed identities spanning cameras
give the only cross-camera positives. After every epoch the model is scored on the site's known pairs
(``reid.adapt.score``); ``best.pt`` keeps the best-scoring weights, the starting model included (so adapting
never hands back a model that scores worse than its start), ``last.pt`` the latest, with what ``resume``
needs. Both are ordinary checkpoints: ``reid process --weights`` and ``reid relink --weights`` read them.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from reid.adapt.init import Start, build_start
from reid.adapt.neck import fit_neck
from reid.adapt.sampler import CoOccurrencePKSampler
from reid.adapt.score import SiteScore, embed_crops, site_score
from reid.adapt.site import SiteCrops, load_site_crops
from reid.config import AugmentConfig, ConfigError, DataConfig, LossConfig, OptimConfig, TrainConfig
from reid.data import BatchAugment
from reid.engine.checkpoint import load_checkpoint, model_payload, save_checkpoint
from reid.engine.device import describe, resolve_device
from reid.errors import ReidError, TrainingError
from reid.losses import TripletLoss
from reid.store import Store

log = logging.getLogger(__name__)

WARMUP_EPOCHS = 1.0  # linear warm-up from 1 % (reid-strong-baseline's factor), then cosine to 1 %
LR_FLOOR = 0.01


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of ``reid adapt``. ``init``: see ``reid.adapt.init``; ``height``/``width``: input size when
    starting from ImageNet weights (a checkpoint keeps its own); ``max_crops``: stored crops read per tracklet;
    ``far``: false-accept rate of the site score."""

    db: str
    out: str = "runs/adapt"
    init: str = "mobilenet_v2"
    models_dir: str = "models"
    epochs: int = 10
    p: int = 8
    k: int = 4
    height: int = 128  # the stored crops are at most 128 px high (reid.video.thumbnails): larger only upsamples
    width: int = 64
    lr: float = 1e-4  # a tenth of a from-ImageNet run's 3.5e-4: few images, a start worth keeping
    weight_decay: float = 5e-4
    margin: float = 0.3
    max_crops: int = 8
    far: float = 0.01
    fit_neck: bool = True  # centre the retrieval feature on the site's crops (reid.adapt.neck)
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "p", "k", "height", "width", "max_crops"):
            if getattr(self, name) < (2 if name in ("p", "k") else 1):
                raise ConfigError(f"{name} must be >= {2 if name in ('p', 'k') else 1}, got {getattr(self, name)}")
        if not 0 < self.far < 1:
            raise ConfigError(f"far must be between 0 and 1, got {self.far}")


@dataclass(frozen=True)
class AdaptResult:
    """``history``: one dict per epoch (0 = the starting model): loss, triplet stats, site score, seconds."""

    out: Path
    best: Path
    last: Path
    best_epoch: int
    start: str
    history: list[dict[str, Any]] = field(default_factory=list)


def lr_at(epoch: float, epochs: int) -> float:
    """Learning-rate factor at fractional ``epoch``: warm-up, then cosine."""
    if epoch < WARMUP_EPOCHS:
        return LR_FLOOR + (1 - LR_FLOOR) * epoch / WARMUP_EPOCHS
    t = min(1.0, (epoch - WARMUP_EPOCHS) / max(epochs - WARMUP_EPOCHS, 1e-9))
    return LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t))


def _train_config(cfg: AdaptConfig, start: Start) -> TrainConfig:
    """The ``TrainConfig`` a checkpoint records (so ``load_embedder`` rebuilds the model)."""
    return TrainConfig(
        data=DataConfig(root=cfg.db, height=start.height, width=start.width, p=cfg.p, k=cfg.k),
        augment=AugmentConfig(mean=start.mean, std=start.std), model=start.cfg,
        loss=LossConfig(triplet_weight=1.0, margin=cfg.margin, mining="batch_hard", id_weight=0.0),
        optim=OptimConfig(optimizer="adam", lr=cfg.lr, weight_decay=cfg.weight_decay),
        out=cfg.out, epochs=cfg.epochs, seed=cfg.seed, device=cfg.device)


def _score(start: Start, site: SiteCrops, device: torch.device, far: float) -> SiteScore | None:
    feats = embed_crops(start.model, site.images, start.mean, start.std, device)
    return site_score(site, feats, far)


def _score_dict(score: SiteScore | None) -> dict[str, float]:
    return {} if score is None else {k: float(v) for k, v in asdict(score).items()}


def _better(a: dict[str, float], b: dict[str, float]) -> bool:
    """Is score dict ``a`` better than ``b``? Without scores (no known pairs) the later epoch wins."""
    if not a or not b:
        return True
    return (a["val"], a["auc"]) > (b["val"], b["auc"])


class _Run:
    def __init__(self, cfg: AdaptConfig, progress: bool) -> None:
        self.cfg, self.progress = cfg, progress
        self.out = Path(cfg.out)
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.start = build_start(cfg.init, cfg.height, cfg.width, Path(cfg.models_dir))
        with Store(cfg.db, readonly=True) as store:
            self.site = load_site_crops(store, self.start.height, self.start.width, cfg.max_crops)
        if self.site.num_classes < cfg.p:
            raise ReidError(f"{cfg.db}: {self.site.num_classes} identities (tracklets or reviewed identities); "
                            f"--p {cfg.p} needs at least that many, use a smaller --p")
        self.model = self.start.model.to(self.device)
        self.images = self.site.images.to(self.device)
        self.labels = torch.from_numpy(self.site.labels).to(self.device)
        self.sampler = CoOccurrencePKSampler(self.site.labels, self.site.class_pairs(), cfg.p, cfg.k, cfg.seed)
        self.augment = BatchAugment(AugmentConfig(mean=self.start.mean, std=self.start.std))
        self.loss = TripletLoss(margin=cfg.margin, mining="batch_hard")
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.train_cfg = _train_config(cfg, self.start)
        self.history: list[dict[str, Any]] = []
        self.best_epoch = 0

    def payload(self, epoch: int, last: bool) -> dict[str, Any]:
        out = model_payload(self.train_cfg, self.model)
        out["adapt"] = {"db": str(self.cfg.db), "start": self.start.source, "epoch": epoch,
                        "score": self.history[-1].get("score", {}), "far": self.cfg.far}
        if last:
            out.update(optimizer=self.optimizer.state_dict(), epoch=epoch, history=self.history,
                       best_epoch=self.best_epoch)
        return out

    def resume(self) -> int:
        """Epochs already done according to ``last.pt`` (0 when there is none)."""
        path = self.out / "last.pt"
        if not path.is_file():
            return 0
        state = load_checkpoint(path, self.device)
        if "optimizer" not in state or state.get("adapt", {}).get("db") != str(self.cfg.db):
            raise ReidError(f"{path}: not the last.pt of an adaptation on {self.cfg.db}; use another --out")
        self.model.load_state_dict(state["model"], strict=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.history, self.best_epoch = list(state["history"]), int(state["best_epoch"])
        log.info("resuming %s after epoch %d", path, state["epoch"])
        return int(state["epoch"])

    def epoch(self, epoch: int) -> dict[str, Any]:
        self.model.train()
        self.sampler.set_epoch(epoch)
        batches = list(self.sampler)
        gen = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
        sums = {"loss": 0.0, "active": 0.0, "d_ap": 0.0, "d_an": 0.0}
        bar = tqdm(batches, desc=f"adapt epoch {epoch + 1}/{self.cfg.epochs}", unit="batch",
                   disable=not self.progress, dynamic_ncols=True)
        for i, batch in enumerate(bar):
            for group in self.optimizer.param_groups:
                group["lr"] = self.cfg.lr * lr_at(epoch + i / len(batches), self.cfg.epochs)
            index = torch.tensor(batch, device=self.images.device)
            x = self.augment(self.images, gen, index)
            features, _ = self.model(x)
            loss = self.loss(features, self.labels[index])
            if not torch.isfinite(loss):
                raise TrainingError(f"adapt: loss became {loss.item()} at epoch {epoch + 1}; try a lower --lr")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            sums["loss"] += float(loss.detach())
            for key in ("active", "d_ap", "d_an"):
                sums[key] += self.loss.last_stats[key]
            bar.set_postfix(loss=f"{sums['loss'] / (i + 1):.3f}", refresh=False)
        return {k: v / len(batches) for k, v in sums.items()} | {"batches": len(batches)}

    def save(self, epoch: int) -> None:
        save_checkpoint(self.out / "last.pt", self.payload(epoch, last=True))
        if epoch == self.best_epoch:
            save_checkpoint(self.out / "best.pt", self.payload(epoch, last=False))
        (self.out / "adapt.json").write_text(json.dumps({"start": self.start.source, "best_epoch": self.best_epoch,
                                                         "history": self.history}, indent=2))

    def record(self, epoch: int, stats: dict[str, Any], seconds: float) -> None:
        t0 = time.perf_counter()
        if self.cfg.fit_neck:
            fit_neck(self.model, self.images, self.start.mean, self.start.std, self.device)
        score = _score_dict(_score(self.start, self.site, self.device, self.cfg.far))
        self.history.append({"epoch": epoch, **stats, "score": score,
                             "seconds": seconds + time.perf_counter() - t0})
        best = self.history[self.best_epoch]["score"] if self.history[:-1] else None
        if best is None or _better(score, best):
            self.best_epoch = epoch
        self.save(epoch)


def adapt(cfg: AdaptConfig, resume: bool = False, progress: bool = True) -> AdaptResult:
    """Fine-tune ``cfg.init`` on the crops of ``cfg.db`` (see the module docstring); writes
    ``cfg.out``/best.pt, last.pt and adapt.json."""
    run = _Run(cfg, progress)
    site = run.site
    log.info("adapting %s on %s: %d crops, %d classes, %d known-different class pairs; %d epochs of about %d "
             "P x K = %d x %d batches", run.start.source, describe(run.device), len(site.labels), site.num_classes,
             len(site.class_pairs()), cfg.epochs, len(run.sampler), cfg.p, cfg.k)
    done = run.resume() if resume else 0
    if not run.history:
        run.record(0, {}, 0.0)
    for epoch in range(done, cfg.epochs):
        t0 = time.perf_counter()
        stats = run.epoch(epoch)
        run.record(epoch + 1, stats, time.perf_counter() - t0)
        score = run.history[-1]["score"]
        log.info("epoch %d: loss %.3f, active %.2f, site VAL@FAR=%g %s", epoch + 1, stats["loss"], stats["active"],
                 cfg.far, f"{score['val']:.3f} (AUC {score['auc']:.3f})" if score else "n/a (no known pairs)")
    return AdaptResult(run.out, run.out / "best.pt", run.out / "last.pt", run.best_epoch, run.start.source,
                       run.history)
