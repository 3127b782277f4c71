"""Identity (classification) loss: cross-entropy with label smoothing."""

from __future__ import annotations

import torch
from torch import nn


class CrossEntropyLabelSmooth(nn.Module):
    """Cross-entropy against smoothed one-hot targets (Szegedy et al. 2016), as in reid-strong-baseline.

    Target for class ``c`` of a sample labelled ``y``: ``(1 - epsilon) [c == y] + epsilon / num_classes``.
    ``epsilon=0.1`` is the value of Luo et al. 2019 ("Bag of Tricks").
    """

    def __init__(self, num_classes: int, epsilon: float = 0.1) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"label smoothing epsilon must be in [0, 1], got {epsilon}")
        self.num_classes, self.epsilon = num_classes, epsilon

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(B, C) logits, (B,) labels in [0, C) -> () loss, mean over the batch."""
        if logits.dim() != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(f"expected (B, {self.num_classes}) logits, got {tuple(logits.shape)}")
        if labels.shape != (len(logits),):
            raise ValueError(f"expected ({len(logits)},) labels, got {tuple(labels.shape)}")
        log_probs = torch.log_softmax(logits, dim=1)
        targets = torch.zeros_like(log_probs).scatter_(1, labels.long().unsqueeze(1), 1.0)
        targets = (1.0 - self.epsilon) * targets + self.epsilon / self.num_classes
        return (-targets * log_probs).mean(0).sum()

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, epsilon={self.epsilon}"
