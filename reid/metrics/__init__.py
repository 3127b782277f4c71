"""Evaluation: CMC and mAP (Market-1501 protocol), k-reciprocal re-ranking, verification (threshold at a
false-accept rate, ROC, TAR@FAR, EER); plots in ``reid.metrics.plots``."""

from reid.metrics.rank import evaluate_rank
from reid.metrics.rerank import re_ranking
from reid.metrics.verification import (
    Verification,
    equal_error_rate,
    pair_distances,
    roc_curve,
    tar_at_far,
    threshold_at_far,
    verify,
)

__all__ = ["Verification", "equal_error_rate", "evaluate_rank", "pair_distances", "re_ranking", "roc_curve",
           "tar_at_far", "threshold_at_far", "verify"]
