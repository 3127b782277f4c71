"""Center loss (Wen et al., ECCV 2016) in the form reid-strong-baseline trains with (Luo et al. 2019)."""

from __future__ import annotations

import torch
from torch import nn

from reid.losses.distances import paired_distance
from reid.losses.miners import Pairs, Quadruplets, Triplets, samples_in_use


class CenterLoss(nn.Module):
    """Mean over the batch of the squared Euclidean distance from each feature to its class center.

    ``loss = 1/B sum_i ||x_i - c_{y_i}||^2``, as reid-strong-baseline's ``CenterLoss`` (Wen et al. write
    ``1/2 sum_i``; Bag of Tricks' weight 5e-4 is for the mean without the 1/2). The centers are a learnable
    ``(num_classes, feat_dim)`` parameter drawn from N(0, 1) as there; reid-strong-baseline trains them
    with their own SGD (lr 0.5), see :meth:`reid.losses.ReIDLoss.center_parameters`.

    Args:
        num_classes: number of training identities; labels must lie in [0, num_classes).
        feat_dim: width D of the features the loss sees (pre-BNNeck in the ReID objective).
        seed: seed of the local generator that draws the centers.
    """

    def __init__(self, num_classes: int, feat_dim: int, seed: int = 0) -> None:
        super().__init__()
        if num_classes < 1 or feat_dim < 1:
            raise ValueError(f"center loss needs num_classes >= 1 and feat_dim >= 1, got {num_classes} "
                             f"and {feat_dim}")
        g = torch.Generator().manual_seed(seed)
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim, generator=g))

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Triplets | Pairs | Quadruplets | None = None) -> torch.Tensor:
        """(B, D) features, (B,) labels -> () loss; with mined ``indices``, over the samples they use only.

        Returns 0 (with a zero gradient) for an empty batch or empty ``indices``.
        """
        embeddings, labels = samples_in_use(embeddings, labels, indices, self.centers.shape[1], "center loss")
        centers = self.centers.to(embeddings.dtype)[labels]
        per_sample = paired_distance(embeddings, centers, squared=True)
        return per_sample.sum() / max(len(per_sample), 1)

    def extra_repr(self) -> str:
        return f"num_classes={self.centers.shape[0]}, feat_dim={self.centers.shape[1]}"
