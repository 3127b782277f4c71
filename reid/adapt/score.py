"""How well a model separates the site's people, measured without labels on the site's own known pairs.

Positives: the two halves of one tracklet (alternate crops, each half mean-embedded), and tracklets a reviewer
confirmed as one identity. Negatives: tracklet pairs known to be different (overlapping in time in one
camera, rejected by a reviewer). The score is the verification rate at a false-accept rate: the fraction of
positive pairs closer than the distance that admits ``far`` of the negatives (FaceNet's VAL at a FAR).
Halves of one tracklet are easier than two sightings in different cameras, so the number is optimistic in
absolute terms; it is meant for comparing models (epochs, initialisations) on one site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reid.adapt.site import SiteCrops
from reid.data.augment import normalize
from reid.losses import paired_distance_numpy
from reid.metrics.verification import threshold_at_far
from reid.models import ReIDModel
from reid.video.embed import tracklet_embedding


@dataclass(frozen=True)
class SiteScore:
    """``val``: fraction of positive pairs below ``threshold``; ``threshold``: the distance at which ``far``
    of the ``n_negative`` known-different pairs would be accepted; ``auc``: P(negative farther than positive)."""

    val: float
    auc: float
    threshold: float
    n_positive: int
    n_negative: int

    def key(self) -> tuple[float, float]:
        """Sort key: higher is better."""
        return (self.val, self.auc)


@torch.no_grad()
def embed_crops(model: ReIDModel, images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...],
                device: torch.device, batch: int = 128) -> np.ndarray:
    """(N, 3, H, W) uint8 RGB -> (N, D) float32 L2-normalised features of ``model`` in eval mode."""
    was_training = model.training
    model.eval()
    out = [model(normalize(images[s:s + batch].to(device), mean, std)).float().cpu().numpy()
           for s in range(0, len(images), batch)]
    model.train(was_training)
    return np.concatenate(out)


def site_score(site: SiteCrops, crop_features: np.ndarray, far: float = 0.01) -> SiteScore | None:
    """Score ``crop_features`` ((N, D), rows of ``site.images``); None when there are no known-different pairs
    or no tracklet with two crops."""
    n_t = len(site.tracklet_ids)
    full = np.zeros((n_t, crop_features.shape[1]), np.float32)
    halves: list[tuple[np.ndarray, np.ndarray]] = []
    for t in range(n_t):
        rows = np.flatnonzero(site.crop_tracklet == t)
        full[t] = tracklet_embedding(crop_features[rows])
        if len(rows) >= 2:
            halves.append((tracklet_embedding(crop_features[rows[0::2]]), tracklet_embedding(crop_features[rows[1::2]])))
    if len(site.different) == 0 or not halves:
        return None
    a, b = (np.stack(h) for h in zip(*halves, strict=True))
    positives = np.concatenate([paired_distance_numpy(a, b),  # and reviewer-confirmed pairs
                                paired_distance_numpy(full[site.same[:, 0]], full[site.same[:, 1]])])
    negatives = paired_distance_numpy(full[site.different[:, 0]], full[site.different[:, 1]])
    threshold = threshold_at_far(negatives, far)
    ordered = np.sort(negatives)
    below = np.searchsorted(ordered, positives, side="left")
    ties = np.searchsorted(ordered, positives, side="right") - below
    auc = float(((len(ordered) - below - ties) + 0.5 * ties).sum() / (len(positives) * len(ordered)))
    return SiteScore(float((positives < threshold).mean()), auc, threshold, len(positives), len(negatives))
