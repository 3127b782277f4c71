"""Backbone registry, timm-style, on ``reid.registry.Registry``: ``@register_backbone("name")`` names a
constructor, ``create_backbone`` builds one and, on a bad name, lists what exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from reid.config import ConfigError
from reid.registry import Registry


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
BACKBONES: Registry[BackboneFn] = Registry("backbone")  # ModelConfig.arch names one (reid.config.ARCHS)


def register_backbone(name: str) -> Callable[[BackboneFn], BackboneFn]:
    """Decorator: make ``fn(last_stride, stem) -> Backbone`` available as ``arch=name``."""
    return BACKBONES.register(name)


def list_backbones() -> list[str]:
    """Names accepted by ``ModelConfig.arch`` / ``--arch``, sorted."""
    return sorted(BACKBONES.names())


def create_backbone(name: str, last_stride: int = 1, stem: str = "torchvision") -> Backbone:
    """Build backbone ``name`` with random weights (nothing is downloaded). An unknown ``name`` raises the
    registry's ``UnknownNameError`` listing the known ones; an unknown ``stem`` or one the architecture lacks,
    or a bad ``last_stride``, ``ConfigError``."""
    build = BACKBONES.get(name)
    if last_stride not in (1, 2):
        raise ConfigError(f"last_stride must be 1 or 2, got {last_stride}")
    return build(last_stride, stem)
