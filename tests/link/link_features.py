"""Tracklet features for linker tests: ``reid.store.rows.TrackletFeature`` with only what the linker reads."""

from __future__ import annotations

import numpy as np

from reid.store.rows import TrackletFeature


def feature(fid: int, camera: str, first_time: float, last_time: float, embedding: np.ndarray | None,
            entry: tuple[float, float] | None = None, exit: tuple[float, float] | None = None) -> TrackletFeature:
    """A tracklet of ``camera`` seen from ``first_time`` to ``last_time`` (s), entering and leaving the view at
    ``entry`` / ``exit`` (fractions of the frame); ``embedding`` (D,) L2-normalised or None."""
    return TrackletFeature(fid, camera, 0, fid, first_time, last_time, embedding, entry, exit)  # type: ignore[arg-type]
