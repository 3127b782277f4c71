"""Metric-learning and identity losses; ``pairwise_distance`` is the project's one distance function."""

from reid.losses.combined import ReIDLoss
from reid.losses.contrastive import ContrastiveLoss, contrastive_loss
from reid.losses.distances import (
    cosine_distance,
    cosine_distance_numpy,
    pairwise_distance,
    pairwise_distance_numpy,
)
from reid.losses.id_loss import CrossEntropyLabelSmooth
from reid.losses.miners import HardTriplets, Triplets, mine_all_triplets, mine_batch_hard, mine_semi_hard
from reid.losses.triplet import MINING, TripletLoss, triplet_loss

__all__ = [
    "MINING",
    "ContrastiveLoss",
    "CrossEntropyLabelSmooth",
    "HardTriplets",
    "ReIDLoss",
    "TripletLoss",
    "Triplets",
    "contrastive_loss",
    "cosine_distance",
    "cosine_distance_numpy",
    "mine_all_triplets",
    "mine_batch_hard",
    "mine_semi_hard",
    "pairwise_distance",
    "pairwise_distance_numpy",
    "triplet_loss",
]
