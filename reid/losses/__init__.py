"""Metric-learning and identity losses; ``pairwise_distance`` is the project's one distance function.

Miners (``MINERS``, ``register_miner``) return index tuples under ``no_grad``; every metric loss takes
``(embeddings, labels, indices=None)`` and mines with its default miner when ``indices`` is ``None``. ``LOSSES``
(``register_loss``) names the terms ``ReIDLoss`` sums, each weighted by ``LossConfig.<name>_weight``.
"""

from reid.losses.center import CenterLoss
from reid.losses.circle import CircleLoss, circle_loss
from reid.losses.combined import ReIDLoss
from reid.losses.contrastive import ContrastiveLoss, contrastive_loss
from reid.losses.distances import (
    cosine_distance,
    cosine_distance_numpy,
    cosine_similarity,
    paired_distance,
    paired_distance_numpy,
    pairwise_distance,
    pairwise_distance_numpy,
)
from reid.losses.id_loss import CrossEntropyLabelSmooth
from reid.losses.miners import (
    MINERS,
    MINING,
    Pairs,
    Quadruplets,
    Triplets,
    get_miner,
    mine_all_triplets,
    mine_batch_hard,
    mine_batch_hard_quadruplets,
    mine_semi_hard,
    register_miner,
)
from reid.losses.proxy_anchor import ProxyAnchorLoss
from reid.losses.quadruplet import QuadrupletLoss, quadruplet_loss
from reid.losses.registry import LOSSES, LossContext, register_loss
from reid.losses.triplet import TripletLoss, triplet_loss

__all__ = [
    "LOSSES",
    "MINERS",
    "MINING",
    "CenterLoss",
    "CircleLoss",
    "ContrastiveLoss",
    "CrossEntropyLabelSmooth",
    "LossContext",
    "Pairs",
    "ProxyAnchorLoss",
    "QuadrupletLoss",
    "Quadruplets",
    "ReIDLoss",
    "TripletLoss",
    "Triplets",
    "circle_loss",
    "contrastive_loss",
    "cosine_distance",
    "cosine_distance_numpy",
    "cosine_similarity",
    "get_miner",
    "mine_all_triplets",
    "mine_batch_hard",
    "mine_batch_hard_quadruplets",
    "mine_semi_hard",
    "paired_distance",
    "paired_distance_numpy",
    "pairwise_distance",
    "pairwise_distance_numpy",
    "quadruplet_loss",
    "register_loss",
    "register_miner",
    "triplet_loss",
]
