"""``reid train``: train a re-ID embedding on a Market-1501-style folder (flags > --config YAML > defaults)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from reid.cli.options import Flag, add_config_flags, build_config
from reid.config import CACHE_PLACES, TrainConfig, from_dict
from reid.errors import CheckpointError, ReidError, print_error

DATA_FLAGS = [
    Flag("--data", "data.root", "dataset folder: Market-1501 layout, or any folder of PID_cCAM_*.jpg images (split by identity)", metavar="DIR"),
    Flag("--format", "data.format", "dataset layout", choices=["auto", "market", "generic"]),
    Flag("--cache-on", "data.cache_on", "where the decoded training images live: the GPU, pinned host memory, "
         "or auto (the GPU when they take at most half of its free memory)", choices=list(CACHE_PLACES)),
    Flag("--height", "data.height", "input height in pixels"),
    Flag("--width", "data.width", "input width in pixels"),
    Flag("--p", "data.p", "identities per batch (P of a PK batch)"),
    Flag("--k", "data.k", "images per identity in a batch (K of a PK batch)"),
    Flag("--flip-prob", "augment.flip_prob", "probability of a horizontal flip"),
    Flag("--pad", "augment.pad", "pixels of padding before the random crop"),
    Flag("--erase-prob", "augment.erase_prob", "probability of random erasing"),
]
MODEL_FLAGS = [
    Flag("--arch", "model.arch", "backbone (a name of reid.models.BACKBONES)"),
    Flag("--pretrained", "model.pretrained", "local ImageNet weights for the backbone, e.g. torchvision's "
         "resnet50-0676ba61.pth (never downloaded)", metavar="PATH"),
    Flag("--last-stride", "model.last_stride", "stride of the last stage; 1 doubles the feature map", choices=[1, 2]),
    Flag("--pooling", "model.pooling", "global pooling: average or generalised mean (learnable p)",
         choices=["avg", "gem"]),
    Flag("--embedding-dim", "model.embedding_dim", "linear reduction to this size; 0 keeps the backbone's"),
    Flag("--bnneck", "model.bnneck", "BatchNorm neck between the triplet and classifier features"),
]
LOSS_FLAGS = [
    Flag("--margin", "loss.margin", "triplet margin"),
    Flag("--soft-margin", "loss.margin", "soft-margin triplet loss log(1+exp(d_ap-d_an)) instead of a margin",
         const=None),
    Flag("--mining", "loss.mining", "triplet mining (a name of reid.losses.MINERS)"),
    Flag("--squared", "loss.squared", "squared Euclidean distances in the triplet and quadruplet losses"),
    Flag("--triplet-weight", "loss.triplet_weight", "weight of the triplet loss"),
    Flag("--contrastive-weight", "loss.contrastive_weight", "weight of the contrastive loss (0 = off)"),
    Flag("--contrastive-margin", "loss.contrastive_margin", "negative margin of the contrastive loss"),
    Flag("--id-weight", "loss.id_weight", "weight of the identity cross-entropy (0 = no classifier head)"),
    Flag("--label-smoothing", "loss.label_smoothing", "label smoothing of the identity loss"),
    Flag("--center-weight", "loss.center_weight", "weight of the center loss on the pre-BNNeck feature (0 = off; "
         "Bag of Tricks: 0.0005)"),
    Flag("--center-lr", "loss.center_lr", "learning rate of the centers' own SGD (Bag of Tricks: 0.5)"),
    Flag("--circle-weight", "loss.circle_weight", "weight of the pair-wise circle loss (0 = off)"),
    Flag("--circle-margin", "loss.circle_margin", "relaxation margin m of the circle loss"),
    Flag("--circle-gamma", "loss.circle_gamma", "scale gamma of the circle loss"),
    Flag("--proxy-anchor-weight", "loss.proxy_anchor_weight", "weight of the Proxy-Anchor loss (0 = off; one "
         "learnable proxy per identity)"),
    Flag("--proxy-anchor-margin", "loss.proxy_anchor_margin", "margin delta of the Proxy-Anchor loss"),
    Flag("--proxy-anchor-alpha", "loss.proxy_anchor_alpha", "scale alpha of the Proxy-Anchor loss"),
    Flag("--quadruplet-weight", "loss.quadruplet_weight", "weight of the batch-hard quadruplet loss (0 = off)"),
    Flag("--quadruplet-margin", "loss.quadruplet_margin", "triplet margin of the quadruplet loss"),
    Flag("--quadruplet-margin2", "loss.quadruplet_margin2", "margin against a pair of two other identities"),
]
OPTIM_FLAGS = [
    Flag("--optimizer", "optim.optimizer", "optimiser", choices=["adam", "adamw"]),
    Flag("--lr", "optim.lr", "base learning rate; none: 3.5e-4 fine-tuning --pretrained weights (Bag of "
         "Tricks), 1e-3 from random weights"),
    Flag("--weight-decay", "optim.weight_decay", "weight decay"),
    Flag("--schedule-epochs", "optim.schedule_epochs", "run length the warm-up, milestones, delay and freeze "
         "epochs are written for; they stretch to --epochs (0 = take them as epochs of this run)"),
    Flag("--warmup-epochs", "optim.warmup_epochs", "epochs of linear warm-up from --warmup-factor of the rate"),
    Flag("--warmup-factor", "optim.warmup_factor", "fraction of the rate the warm-up starts at"),
    Flag("--schedule", "optim.schedule", "decay after warm-up (set every iteration); none: step fine-tuning "
         "--pretrained weights, cosine from random weights", choices=["step", "cosine"]),
    Flag("--milestones", "optim.milestones", "epochs where the step schedule multiplies the rate by --gamma"),
    Flag("--gamma", "optim.gamma", "factor of the step schedule"),
    Flag("--delay-epochs", "optim.delay_epochs", "cosine: epochs at the full rate before the decay starts"),
    Flag("--freeze-epochs", "optim.freeze_epochs", "epochs at the start when only the head trains (the backbone "
         "is frozen, BatchNorm statistics too)"),
    Flag("--grad-clip", "optim.grad_clip", "max global gradient norm (0 = off); none: off fine-tuning "
         "--pretrained weights, 5 from random weights"),
]
RUN_FLAGS = [
    Flag("--out", "out", "run folder: last.pt, best.pt, metrics.csv/json, curves.png", metavar="DIR"),
    Flag("--epochs", "epochs", "training epochs"),
    Flag("--eval-every", "eval_every", "evaluate on query/gallery every N epochs (and after the last)"),
    Flag("--seed", "seed", "random seed (runs on the CPU are reproducible)"),
    Flag("--device", "device", "auto = cuda when available, else cpu; also cuda:N", metavar="auto|cpu|cuda"),
    Flag("--amp", "amp", "mixed precision (CUDA only)"),
    Flag("--channels-last", "channels_last", "channels-last memory format (CUDA only)"),
    Flag("--compile", "compile", "train through torch.compile with this backend (inductor for speed; needs a C++ "
         "compiler on the CPU); empty = eager", metavar="BACKEND"),
    Flag("--max-iters-per-epoch", "max_iters_per_epoch", "cap on iterations per epoch (0 = all PK batches)"),
]
DIST_FLAGS = [
    Flag("--all-gather", "distributed.all_gather", "gather every process's features before the loss, so "
         "triplet mining sees the whole P x K batch"),
    Flag("--lr-scaling", "distributed.lr_scaling", "multiply --lr by 1, N or sqrt(N) for N processes; --p is "
         "the global batch, so scale only if you grew --p with N", choices=["none", "linear", "sqrt"]),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a re-ID embedding (Bag of Tricks by default: triplet + ID loss on PK batches)",
        description="Train a person re-ID embedding. The defaults are the Bag of Tricks strong baseline (Luo "
        "et al. 2019; configs/bot_r50.yaml adds its center loss and ImageNet weights), with its 120-epoch "
        "schedule stretched to --epochs. Settings come from the defaults, then --config YAML, "
        "then the flags given. Writes last.pt every epoch, best.pt (by mAP), metrics.csv/json and curves.png "
        "to --out. Several GPUs: torchrun --standalone --nproc_per_node N -m reid -- train ... (--p identities "
        "per global step are split over the N processes; rank 0 prints and writes).",
    )
    p.add_argument("--config", metavar="FILE.yaml", help="TrainConfig YAML; flags override it, unknown keys are errors")
    p.add_argument("--resume", action="store_true",
                   help="continue OUT/last.pt exactly where it stopped (its saved settings, then YAML and flags)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    for title, flags in (("data", DATA_FLAGS), ("model", MODEL_FLAGS), ("loss", LOSS_FLAGS),
                         ("optimiser", OPTIM_FLAGS), ("run", RUN_FLAGS),
                         ("several processes (torchrun)", DIST_FLAGS)):
        add_config_flags(p.add_argument_group(title), TrainConfig, flags)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's TrainConfig; with ``--resume`` the checkpoint's saved config is the starting point."""
    cfg = build_config(TrainConfig, args)
    if not args.resume:
        return cfg
    from reid.engine.checkpoint import load_checkpoint

    last = Path(cfg.out) / "last.pt"
    if not last.is_file():
        raise CheckpointError(f"{last}: not found; nothing to resume (drop --resume to start a new run)")
    saved = load_checkpoint(last)["config"]
    return build_config(TrainConfig, args, base=from_dict(TrainConfig, saved, where=f"{last}: config"))


def run(args: argparse.Namespace) -> int:
    from reid.engine.trainer import train

    rank = os.environ.get("RANK", "0")
    main_rank = rank == "0"  # under torchrun only rank 0 prints, except for errors
    cfg: TrainConfig | None = None
    try:
        cfg = config_from_args(args)
        result = train(cfg, resume=args.resume, progress=not args.no_progress)
    except ReidError as exc:
        if main_rank:
            raise  # reid.cli.main prints the one-line message
        # An error may happen on this rank alone (its node lacks --data or OUT/last.pt, or the GPU for its
        # LOCAL_RANK); when every rank hits it, the job shows it once per rank.
        print_error(f"error (rank {rank}): {exc}")
        return 2
    except KeyboardInterrupt:
        if cfg is None:
            raise
        if main_rank:
            print(f"interrupted; {Path(cfg.out) / 'last.pt'} holds the last finished epoch; continue with: "
                  f"reid train --out {cfg.out} --resume")
        return 130
    if not main_rank:
        return 0
    m = result.metrics
    if m:
        print(f"final: mAP {m['mAP']:.1%}  rank-1 {m['rank1']:.1%}  rank-5 {m['rank5']:.1%}")
    print(f"best mAP {result.best_map:.1%}  best: {result.best or '-'}  last: {result.last}")
    print(f"metrics: {result.out / 'metrics.csv'}  curves: {result.out / 'curves.png'}")
    return 0
