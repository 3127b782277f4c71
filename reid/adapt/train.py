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

``AdaptTrainer`` is ``reid.engine.trainer.Trainer`` with the site's data, the starting model and the site score
in place of query/gallery evaluation: one training loop, one schedule (``reid.engine.schedule``), one resume.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from reid.adapt.init import Start, build_start
from reid.adapt.neck import fit_neck
from reid.adapt.sampler import CoOccurrencePKSampler
from reid.adapt.score import SiteScore, embed_crops, site_score
from reid.adapt.site import SiteCrops, load_site_crops
from reid.config import AdaptConfig, AugmentConfig, DataConfig, LossConfig, OptimConfig, TrainConfig
from reid.engine.builders import TrainData
from reid.engine.checkpoint import save_checkpoint
from reid.engine.device import resolve_device
from reid.engine.reproducibility import seed_everything, trainer_flags
from reid.engine.trainer import Trainer
from reid.errors import ReidError
from reid.models import ReIDModel
from reid.store import Store

__all__ = ["AdaptConfig", "AdaptResult", "AdaptTrainer", "adapt", "train_config"]

log = logging.getLogger(__name__)

# Linear warm-up over the first epoch from 1 % (reid-strong-baseline's factor), then cosine to 1 %
# (reid.engine.schedule.COSINE_FLOOR) over the rest; a short run on few images.
WARMUP_EPOCHS = 1.0
WARMUP_FACTOR = 0.01


@dataclass(frozen=True)
class AdaptResult:
    """``history``: one dict per epoch (0 = the starting model): loss, triplet stats, site score, seconds."""

    out: Path
    best: Path
    last: Path
    best_epoch: int
    start: str
    history: list[dict[str, Any]] = field(default_factory=list)


def train_config(cfg: AdaptConfig, start: Start) -> TrainConfig:
    """The adapt recipe as the ``TrainConfig`` the trainer runs and every checkpoint records (so
    ``load_embedder`` rebuilds the model): the start's model and input size, batch-hard triplet loss alone on
    P x K batches, Adam with warm-up then cosine, no clipping, the site scored after every epoch."""
    return TrainConfig(
        data=DataConfig(root=cfg.db, height=start.height, width=start.width, p=cfg.p, k=cfg.k),
        augment=AugmentConfig(mean=start.mean, std=start.std), model=start.cfg,
        loss=LossConfig(triplet_weight=1.0, margin=cfg.margin, mining="batch_hard", id_weight=0.0),
        optim=OptimConfig(optimizer="adam", lr=cfg.lr, weight_decay=cfg.weight_decay, schedule="cosine",
                          schedule_epochs=0, warmup_epochs=WARMUP_EPOCHS, warmup_factor=WARMUP_FACTOR,
                          grad_clip=0.0),
        out=cfg.out, epochs=cfg.epochs, eval_every=1, seed=cfg.seed, device=cfg.device)


def _better(a: dict[str, float], b: dict[str, float]) -> bool:
    """Is score dict ``a`` better than ``b``? Without scores (no known pairs) the later epoch wins."""
    if not a or not b:
        return True
    return (a["val"], a["auc"]) > (b["val"], b["auc"])


class AdaptTrainer(Trainer):
    """``Trainer`` on the site's crops: ``build_data`` reads them from ``cfg.db`` with the co-occurrence sampler,
    ``build_model`` is the start (``reid.adapt.init``), ``_evaluate`` the site score, ``best.pt`` the best score."""

    def __init__(self, cfg: AdaptConfig, resume: bool = False, progress: bool = True) -> None:
        with Store(cfg.db, readonly=True):  # a missing database fails before any weights are read
            pass
        seed_everything(cfg.seed)
        self.adapt_cfg = cfg
        self.start = build_start(cfg.init, cfg.height, cfg.width, Path(cfg.models_dir))
        self.best_epoch = 0
        self._batches, self._seconds = 0, 0.0
        super().__init__(train_config(cfg, self.start), resume, progress)

    # ------------------------------------------------------------------------------------------ parts

    def build_data(self) -> TrainData:
        cfg = self.adapt_cfg
        with Store(cfg.db, readonly=True) as store:
            self.site: SiteCrops = load_site_crops(store, self.start.height, self.start.width, cfg.max_crops)
        if self.site.num_classes < cfg.p:
            raise ReidError(f"{cfg.db}: {self.site.num_classes} identities (tracklets or reviewed identities); "
                            f"--p {cfg.p} needs at least that many, use a smaller --p")
        sampler = CoOccurrencePKSampler(self.site.labels, self.site.class_pairs(), cfg.p, cfg.k, cfg.seed)
        self._info("adapting %s: %d crops, %d classes, %d known-different class pairs; about %d P x K = %d x %d "
                   "batches per epoch", self.start.source, len(self.site.labels), self.site.num_classes,
                   len(self.site.class_pairs()), len(sampler), cfg.p, cfg.k)
        return TrainData(dataset=None, images=self.site.images.to(self.device),
                         labels=torch.from_numpy(self.site.labels).to(self.device), num_ids=self.site.num_classes,
                         sampler=sampler)

    def build_model(self) -> ReIDModel:
        model = self.start.model.to(self.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model  # type: ignore[call-overload]

    # ------------------------------------------------------------------------------------------ resume

    def _resume_payload(self, resume: bool) -> dict[str, Any] | None:
        payload = super()._resume_payload(resume)
        if payload is not None and payload.get("adapt", {}).get("db") != str(self.adapt_cfg.db):
            raise ReidError(f"{self.last_path}: not the last.pt of an adaptation on {self.adapt_cfg.db}; "
                            "use another --out")
        return payload

    def _restore(self, payload: dict[str, Any]) -> None:
        super()._restore(payload)
        self.best_epoch = int(payload["best_epoch"])

    def _payload(self, epoch: int, full: bool) -> dict[str, Any]:
        out = super()._payload(epoch, full)
        out["adapt"] = {"db": str(self.adapt_cfg.db), "start": self.start.source, "epoch": epoch,
                        "score": self.history[-1].get("score", {}), "far": self.adapt_cfg.far}
        if full:
            out["best_epoch"] = self.best_epoch
        return out

    # ------------------------------------------------------------------------------------------ epochs

    def _epoch_batches(self) -> list[list[int]]:
        """Every batch of the epoch: each class is visited (the count varies a little between epochs)."""
        batches = list(self.sampler)
        self._batches = len(batches)
        return batches

    def _train_epoch(self, epoch: int) -> dict[str, Any]:
        row = super()._train_epoch(epoch)
        self._seconds = row["time_s"]
        return row | {"batches": self._batches}

    def _score(self) -> SiteScore | None:
        if self.adapt_cfg.fit_neck:
            fit_neck(self.model, self.data.images, self.start.mean, self.start.std, self.device)
        feats = embed_crops(self.model, self.site.images, self.start.mean, self.start.std, self.device)
        return site_score(self.site, feats, self.adapt_cfg.far)

    def _evaluate(self) -> dict[str, Any]:
        """The site score (``reid.adapt.score``) after setting the BNNeck from the site's crops."""
        t0 = time.perf_counter()
        score = self._score()
        self._info("site VAL@FAR=%g %s", self.adapt_cfg.far,
                   f"{score.val:.3f} (AUC {score.auc:.3f})" if score else "n/a (no known pairs)")
        return {"score": {} if score is None else {k: float(v) for k, v in asdict(score).items()},
                "seconds": round(self._seconds + time.perf_counter() - t0, 2)}

    def _is_best(self, row: dict[str, Any]) -> bool:
        if _better(row["score"], self.history[self.best_epoch]["score"]):
            self.best_epoch = row["epoch"]
            return True
        return False

    def _save(self, epoch: int, is_best: bool) -> None:
        self._write(epoch + 1, is_best)

    def _write(self, done: int, is_best: bool) -> None:
        """``last.pt`` after ``done`` epochs, ``best.pt`` when it is the best, and ``adapt.json``."""
        save_checkpoint(self.last_path, self._payload(done, full=True))
        if is_best:
            save_checkpoint(self.best_path, self._payload(done, full=False))
        (self.out / "adapt.json").write_text(json.dumps({"start": self.start.source, "best_epoch": self.best_epoch,
                                                         "history": self.history}, indent=2))

    def run_adapt(self) -> AdaptResult:
        """Score the start (epoch 0) unless resuming, then train and score every epoch."""
        if not self.history:
            self.out.mkdir(parents=True, exist_ok=True)
            self.history.append({"epoch": 0, **self._evaluate()})
            self._write(0, is_best=True)
        self.run()
        return AdaptResult(self.out, self.best_path, self.last_path, self.best_epoch, self.start.source,
                           list(self.history))


def adapt(cfg: AdaptConfig, resume: bool = False, progress: bool = True) -> AdaptResult:
    """Fine-tune ``cfg.init`` on the crops of ``cfg.db`` (see the module docstring); writes
    ``cfg.out``/best.pt, last.pt and adapt.json. ``resume`` continues ``cfg.out``/last.pt."""
    with trainer_flags(resolve_device(cfg.device)):
        return AdaptTrainer(cfg, resume, progress).run_adapt()
