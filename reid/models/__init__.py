"""Re-ID models: ``build_model(ModelConfig, num_classes)`` or ``create_model("resnet50")``.

Backbones come from a registry (``BACKBONES``, ``list_backbones()``); weights are random unless
``ModelConfig.pretrained`` names a local ImageNet state dict. ``import_state_dict`` maps re-ID weights trained
by other projects (torchreid, reid-strong-baseline, fast-reid) onto a model of the same architecture, whose
stem and head ``describe_source`` reads from the source's key layout.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reid.config import ModelConfig
from reid.models import backbone as _backbone  # noqa: F401  (registers the backbones)
from reid.models.backbone import STEMS, guess_arch, load_pretrained
from reid.models.convert import ImportReport, import_state_dict
from reid.models.embedder import GeM, ReIDModel, build_model
from reid.models.foreign import read_foreign_checkpoint
from reid.models.layouts import SourceLayout, describe_source
from reid.models.registry import BACKBONES, create_backbone, list_backbones, register_backbone


def create_model(name: str, num_classes: int = 0, **overrides: Any) -> ReIDModel:
    """``build_model`` with ``ModelConfig(arch=name, **overrides)``; a bad name lists what exists."""
    return build_model(dataclasses.replace(ModelConfig(), arch=name, **overrides), num_classes)


__all__ = [
    "BACKBONES", "STEMS", "GeM", "ImportReport", "ReIDModel", "SourceLayout", "build_model", "create_backbone", "create_model",
    "describe_source", "guess_arch", "import_state_dict", "list_backbones", "load_pretrained",
    "read_foreign_checkpoint", "register_backbone",
]
