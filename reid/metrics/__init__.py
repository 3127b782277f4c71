"""Evaluation: CMC and mAP (Market-1501 protocol), k-reciprocal re-ranking; plots in ``reid.metrics.plots``."""

from reid.metrics.rank import evaluate_rank
from reid.metrics.rerank import re_ranking

__all__ = ["evaluate_rank", "re_ranking"]
