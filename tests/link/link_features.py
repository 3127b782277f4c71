"""Tracklet features for linker tests (``reid.store.rows.TrackletFeature`` with only what the linker reads), and
the linker called as ``reid process`` calls it."""

from __future__ import annotations

import numpy as np

from reid.config import LinkConfig
from reid.link import link_tracklets
from reid.link.calibrate import resolve_threshold
from reid.store.rows import LinkConstraints, TrackletFeature


def feature(fid: int, camera: str, first_time: float, last_time: float, embedding: np.ndarray | None,
            entry: tuple[float, float] | None = None, exit: tuple[float, float] | None = None) -> TrackletFeature:
    """A tracklet of ``camera`` seen from ``first_time`` to ``last_time`` (s), entering and leaving the view at
    ``entry`` / ``exit`` (fractions of the frame); ``embedding`` (D,) L2-normalised or None."""
    return TrackletFeature(fid, camera, 0, fid, first_time, last_time, embedding, entry, exit)  # type: ignore[arg-type]


def link(features: list[TrackletFeature], constraints: LinkConstraints | None, cfg: LinkConfig) -> list:
    """``link_tracklets`` as ``reid process`` calls it: the threshold resolved once, first (``cfg.threshold`` when
    given, else calibrated on the features' known-different pairs, else the default)."""
    return link_tracklets(features, constraints, cfg, resolve_threshold(features, constraints, cfg))
