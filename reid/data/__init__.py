"""Data: Market-1501-style sets, P x K sampling, the decode-once cache, batched augmentation."""

from __future__ import annotations

from pathlib import Path

from reid.data import generic, market1501
from reid.data.augment import BatchAugment, normalize
from reid.data.cache import load_images
from reid.data.market1501 import Market1501, Sample
from reid.data.sampler import PKSampler

__all__ = ["BatchAugment", "Market1501", "PKSampler", "Sample", "load_dataset", "load_images", "normalize"]

FORMATS = ("auto", "market", "generic")


def load_dataset(root: str | Path, format: str = "auto") -> Market1501:
    """Read ``root`` as ``market`` (bounding_box_train/, bounding_box_test/, query/ in it or in a
    sub-folder), ``generic`` (any folder of PID_cCAM_*.jpg, split by identity), or ``auto``: market
    when a bounding_box_train/ folder is found, else generic."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r}; known: {', '.join(FORMATS)}")
    if format == "market" or (format == "auto" and market1501.find_root(root) is not None):
        return market1501.load(root)
    return generic.load(root)
