"""Dataclass configurations, one frozen dataclass per concern, composed.

Each component receives only its own config (``ModelConfig`` for the model, ``LossConfig`` for the loss ...).
Configs load from plain dicts (YAML files) with unknown keys rejected, and can be overridden by CLI flags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from reid.errors import ReidError


class ConfigError(ReidError, ValueError):
    """A configuration value or file that cannot be used; the message says which and why."""


# ---------------------------------------------------------------------------------------------- training


CACHE_PLACES = ("auto", "device", "host")


@dataclass(frozen=True)
class DataConfig:
    """Where the images are and how batches are formed."""

    root: str = "data/synth"
    height: int = 256
    width: int = 128
    p: int = 16  # identities per batch (per global step: split over the processes of a torchrun job)
    k: int = 4  # images per identity
    format: str = "auto"  # auto | market | generic
    cache_on: str = "auto"  # auto | device | host: where the decoded uint8 set lives (auto: GPU if it fits)

    def __post_init__(self) -> None:
        if self.cache_on not in CACHE_PLACES:
            raise ConfigError(f"data.cache_on must be one of {', '.join(CACHE_PLACES)}, got {self.cache_on!r}")


@dataclass(frozen=True)
class AugmentConfig:
    """Batched on-device augmentation (reid-strong-baseline defaults: flip 0.5, pad 10, erasing 0.5)."""

    flip_prob: float = 0.5
    pad: int = 10
    erase_prob: float = 0.5
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # ImageNet statistics
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelConfig:
    """Backbone and embedding head."""

    arch: str = "resnet50"  # resnet18 | resnet34 | resnet50 | mobilenet_v2
    last_stride: int = 1  # 1 doubles the final feature map (Luo et al. 2019, "Bag of Tricks")
    pooling: str = "avg"  # avg | gem
    embedding_dim: int = 0  # 0 keeps the backbone's feature size (512 or 2048)
    bnneck: bool = True
    pretrained: str | None = None  # local ImageNet weights file; never downloaded


@dataclass(frozen=True)
class LossConfig:
    """Weighted sum of metric-learning and classification losses."""

    triplet_weight: float = 1.0
    margin: float | None = 0.3  # None = soft margin log(1 + exp(d_ap - d_an))
    mining: str = "batch_hard"  # batch_hard | batch_all | semi_hard
    squared: bool = False
    contrastive_weight: float = 0.0
    contrastive_margin: float = 0.5
    id_weight: float = 0.0  # > 0 adds a classifier head trained with label-smoothed cross-entropy
    label_smoothing: float = 0.1


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and learning-rate schedule."""

    optimizer: str = "adam"  # adam | adamw
    lr: float = 3.5e-4
    weight_decay: float = 5e-4
    warmup_epochs: int = 2
    schedule: str = "cosine"  # cosine | step
    milestones: tuple[int, ...] = (40, 70)
    gamma: float = 0.1
    grad_clip: float = 5.0  # max global grad norm; 0 disables


LR_SCALING = ("none", "linear", "sqrt")


@dataclass(frozen=True)
class DistributedConfig:
    """Multi-process training under ``torchrun`` (ignored in one process); see ``reid.engine.distributed``."""

    all_gather: bool = False  # gather all ranks' features before the loss: mining sees the global P x K batch
    lr_scaling: str = "none"  # none | linear | sqrt: optim.lr times 1, W or sqrt(W) for W processes

    def __post_init__(self) -> None:
        if self.lr_scaling not in LR_SCALING:
            raise ConfigError(f"distributed.lr_scaling must be one of {', '.join(LR_SCALING)}, "
                              f"got {self.lr_scaling!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``reid train`` needs; saved inside every checkpoint."""

    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    out: str = "runs/train"
    epochs: int = 60
    eval_every: int = 5
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # only takes effect on CUDA
    channels_last: bool = True  # only takes effect on CUDA
    compile: str = ""  # "" = eager; else a torch.compile backend: "inductor" (fast kernels), "eager" (debugging)
    max_iters_per_epoch: int = 0  # 0 = as many PK batches as the sampler yields


# ---------------------------------------------------------------------------------------------- video


@dataclass(frozen=True)
class DetectorConfig:
    """Person detector."""

    kind: str = "auto"  # auto | yolo | hog | mot (MOTChallenge detections file)
    weights: str | None = None  # None = first of models/yolov8n.pt, models/yolo11n.pt
    conf: float = 0.35
    iou: float = 0.5
    imgsz: int = 640
    batch: int = 8


@dataclass(frozen=True)
class TrackerConfig:
    """Per-camera tracker and tracklet quality filters."""

    kind: str = "bytetrack"  # bytetrack | botsort
    settings: Mapping[str, Any] = field(default_factory=dict)  # overrides of ultralytics' tracker YAML
    min_length: int = 5  # detections
    min_box_height: int = 40  # pixels
    border_margin: int = 0  # drop boxes within this many pixels of the frame border; 0 keeps them
    best_k: int = 8  # crops kept per tracklet for embedding and thumbnails


@dataclass(frozen=True)
class EmbedConfig:
    """Appearance embedding of crops."""

    weights: str | None = (
        None  # re-ID checkpoint (.pt or .onnx); None = hand-crafted colour/texture descriptor
    )
    batch: int = 64


@dataclass(frozen=True)
class LinkConfig:
    """Cross-camera association."""

    threshold: float = 0.6  # max embedding distance for a link (L2 on unit vectors, range 0..2)
    rerank: bool = False
    transit: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # "camA->camB": (min_s, max_s)


@dataclass(frozen=True)
class PipelineConfig:
    """Everything ``reid process`` needs."""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    stride: int = 1  # process every n-th frame
    device: str = "auto"
    force: bool = False  # redo videos already in the database


# ---------------------------------------------------------------------------------------------- loading

C = TypeVar("C")


def _convert(tp: Any, value: Any, where: str) -> Any:
    """Convert a YAML value to the annotated type ``tp`` (nested dataclasses, tuples, optionals)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        items = typing.get_args(tp)
        inner = items[0] if items else Any
        return tuple(_convert(inner, v, where) for v in value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def from_dict(cls: type[C], values: Mapping[str, Any], where: str = "config") -> C:
    """Build dataclass ``cls`` from a (nested) mapping; unknown keys raise ``ConfigError``."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _convert(hints[name], v, f"{where}.{name}") for name, v in values.items()}
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-dict form of a config (tuples become lists), suitable for YAML, JSON and checkpoints."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def yaml_mapping(path: str | Path) -> Mapping[str, Any]:
    """The top-level mapping of a YAML config file; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(values, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping")
    return values


@contextlib.contextmanager
def naming_file(path: str | Path) -> Iterator[None]:
    """Every ``ConfigError`` raised inside names ``path``, including those of a dataclass's own checks
    (``__post_init__``), whose messages name only the key."""
    try:
        yield
    except ConfigError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ConfigError(f"{path}: {exc}") from exc


def load_yaml(cls: type[C], path: str | Path) -> C:
    """Read a YAML file into config class ``cls``; unknown keys, wrong types and bad values name the file."""
    with naming_file(path):
        return from_dict(cls, yaml_mapping(path), where=str(path))


def override(cfg: C, dotted: Mapping[str, Any]) -> C:
    """Return ``cfg`` with dotted keys replaced, e.g. ``{"model.arch": "resnet18", "epochs": 8}``."""
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            nested[head] = value
    changes: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    for head, value in nested.items():
        if head not in names:
            raise ConfigError(f"unknown config key {head!r}; known: {', '.join(sorted(names))}")
        current = getattr(cfg, head)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[head] = override(current, value)
        else:
            changes[head] = value
    return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]
