"""Backbone registry, timm-style: ``@register_backbone("name")`` names a constructor, ``create_backbone``
builds one and, on a bad name, lists what exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from reid.config import ConfigError


class Backbone(nn.Module):
    """What the embedding head needs: ``forward(x: (B, 3, H, W)) -> (B, out_channels, h, w)``.

    ``stem`` names the variant of the first layers (``reid.models.backbone.STEMS``); it has no weights, so
    weights from another project only reproduce its features with that project's stem.
    """

    arch: str
    out_channels: int
    stem: str = "torchvision"

    def load_pretrained(self, path: str | Path) -> None:
        """Load ImageNet weights from a local file (see ``reid.models.backbone.load_pretrained``)."""
        raise NotImplementedError


BackboneFn = Callable[[int, str], Backbone]  # (last_stride, stem) -> backbone
_BACKBONES: dict[str, BackboneFn] = {}


def register_backbone(name: str) -> Callable[[BackboneFn], BackboneFn]:
    """Decorator: make ``fn(last_stride, stem) -> Backbone`` available as ``arch=name``."""

    def add(fn: BackboneFn) -> BackboneFn:
        if name in _BACKBONES:
            raise ValueError(f"backbone {name!r} registered twice")
        _BACKBONES[name] = fn
        return fn

    return add


def list_backbones() -> list[str]:
    """Names accepted by ``ModelConfig.arch`` / ``--arch``, sorted."""
    return sorted(_BACKBONES)


def create_backbone(name: str, last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    """Build backbone ``name`` with random weights (nothing is downloaded); an unknown ``stem`` or one the
    architecture lacks raises ``ConfigError``."""
    if name not in _BACKBONES:
        raise ConfigError(f"unknown arch {name!r}; available: {', '.join(list_backbones())}")
    if last_stride not in (1, 2):
        raise ConfigError(f"last_stride must be 1 or 2, got {last_stride}")
    return _BACKBONES[name](last_stride, stem)
