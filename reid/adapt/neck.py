"""Centre and scale the retrieval feature on the site's own crops (AdaBN, Li et al. 2016, label-free).

A triplet-only model never runs its BNNeck in training, so the neck's running statistics stay at their
initial mean 0, variance 1 and retrieval sees the raw pooled feature. Pooled ImageNet features are
non-negative (ReLU6), so every pair of them is close in angle; subtracting the site's mean feature and
dividing by its spread spreads them apart before the L2 normalisation. ``fit_neck`` sets those statistics
from every site crop; the neck's affine weights stay as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from reid.data.augment import normalize
from reid.models import ReIDModel


@torch.no_grad()
def fit_neck(model: ReIDModel, images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...],
             device: torch.device, batch: int = 128) -> bool:
    """Set ``model.bnneck``'s running mean and variance to those of ``model.forward_features`` over
    ``images`` ((N, 3, H, W) uint8 RGB, N >= 2), computed in eval mode. Returns False (and changes nothing)
    when the model has no BatchNorm neck."""
    neck = model.bnneck
    if not isinstance(neck, nn.BatchNorm1d) or neck.running_mean is None or neck.running_var is None \
            or len(images) < 2:
        return False
    was_training = model.training
    model.eval()
    feats = torch.cat([model.forward_features(normalize(images[s:s + batch].to(device), mean, std)).float()
                       for s in range(0, len(images), batch)])
    neck.running_mean.copy_(feats.mean(0))
    neck.running_var.copy_(feats.var(0, unbiased=True))
    model.train(was_training)
    return True
