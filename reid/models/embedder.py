"""The re-ID model: backbone -> pooling -> optional reduction -> BNNeck -> optional classifier.

Training uses two views of one feature (Luo et al. 2019, "Bag of Tricks", BNNeck): the triplet loss sees the
pooled feature *before* the BatchNorm, the identity classifier sees it *after*. Retrieval uses the feature
after the BatchNorm, L2-normalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid.config import ConfigError, ModelConfig
from reid.models.registry import create_backbone


class GeM(nn.Module):
    """Generalised-mean pooling (Radenović et al. 2018) with a learnable exponent ``p`` (init 3).

    ``(B, C, h, w) -> (B, C)``; p = 1 is average pooling, p -> inf max pooling. Computed in float32 so that
    ``x ** p`` cannot overflow under float16 autocast.
    """

    def __init__(self, p: float = 3.0, eps: float = 1e-6):
        super().__init__()
        self.p = nn.Parameter(torch.full((1,), float(p)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().clamp(min=self.eps).pow(self.p)
        return x.mean(dim=(2, 3)).pow(1.0 / self.p)


class AvgPool(nn.Module):
    """Global average pooling ``(B, C, h, w) -> (B, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class ReIDModel(nn.Module):
    """Person re-ID embedder.

    * ``forward_features(x: (B, 3, H, W)) -> (B, D)``: pooled (and reduced) feature, before the BNNeck.
    * ``forward_head(f, pre_logits=False)``: BNNeck, then the classifier; ``pre_logits=True`` stops after the
      BNNeck.
    * ``forward(x)``: in training mode ``(features (B, D) pre-BNNeck, logits (B, num_classes) or None)``; in eval
      mode the L2-normalised BNNeck output ``(B, D)`` float32.
    """

    def __init__(self, cfg: ModelConfig, num_classes: int = 0):
        super().__init__()
        if cfg.pooling not in ("avg", "gem"):
            raise ConfigError(f"pooling must be avg or gem, got {cfg.pooling!r}")
        if cfg.embedding_dim < 0:
            raise ConfigError(f"embedding_dim must be >= 0 (0 keeps the backbone's size), got {cfg.embedding_dim}")
        if num_classes < 0:
            raise ConfigError(f"num_classes must be >= 0, got {num_classes}")
        self.arch = cfg.arch
        self.num_classes = num_classes
        self.backbone = create_backbone(cfg.arch, cfg.last_stride, cfg.stem)
        if cfg.pretrained:
            self.backbone.load_pretrained(cfg.pretrained)
        self.feat_dim: int = self.backbone.out_channels
        self.pool: nn.Module = GeM() if cfg.pooling == "gem" else AvgPool()
        self.embedding_dim: int = cfg.embedding_dim or self.feat_dim
        self.reduce: nn.Module = nn.Identity()
        if cfg.embedding_dim:
            self.reduce = nn.Linear(self.feat_dim, cfg.embedding_dim, bias=False)
            nn.init.kaiming_normal_(self.reduce.weight, mode="fan_out")
        self.bnneck: nn.Module = nn.Identity()
        if cfg.bnneck:
            bn = nn.BatchNorm1d(self.embedding_dim)
            bn.bias.requires_grad_(False)  # no shift: keeps the feature centred for the classifier (BoT)
            self.bnneck = bn
        self.classifier: nn.Linear | None = None
        if num_classes:
            self.classifier = nn.Linear(self.embedding_dim, num_classes, bias=False)
            nn.init.normal_(self.classifier.weight, std=0.001)  # BoT initialisation

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` normalised images -> ``(B, D)`` feature before the BNNeck."""
        return self.reduce(self.pool(self.backbone(x)))

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """BNNeck then classifier; ``pre_logits=True`` returns the BNNeck output ``(B, D)``."""
        neck = self.bnneck(features)
        if pre_logits:
            return neck
        if self.classifier is None:
            raise RuntimeError("this model has no classifier head (built with num_classes=0)")
        return self.classifier(neck)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None] | torch.Tensor:
        features = self.forward_features(x)
        if self.training:
            logits = self.forward_head(features) if self.classifier is not None else None
            return features, logits
        return F.normalize(self.forward_head(features, pre_logits=True).float(), dim=1)


def build_model(cfg: ModelConfig, num_classes: int = 0) -> ReIDModel:
    """Build the model ``cfg`` describes; ``num_classes > 0`` adds a bias-free identity classifier."""
    return ReIDModel(cfg, num_classes)
