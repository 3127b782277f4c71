"""The sightings behind the units being linked: a stitched chain is one unit of several tracklets."""

from __future__ import annotations

from typing import Any

import numpy as np


def ranges(counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in counts])``, vectorised."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


class Sightings:
    """The tracklets behind the units being linked (a stitched chain is one unit of several sightings), unit by
    unit in time order: what time and topology constraints are checked on, since a chain may span the other
    camera's sighting of the same person (someone walking back and forth across the cut)."""

    def __init__(self, units: list[Any], parts: dict[int, list[Any]], code: dict[str, int]):
        feats = [p for u in units for p in parts.get(int(u.id), [u])]
        self.features = feats
        self.count = np.array([len(parts.get(int(u.id), [u])) for u in units], np.int64)
        self.first = np.cumsum(self.count) - self.count
        self.cams = np.array([code[str(f.camera)] for f in feats], np.int64)
        self.t0 = np.array([f.first_time for f in feats], np.float64)
        self.t1 = np.array([f.last_time for f in feats], np.float64)
        self.rank = np.empty(len(feats), np.int64)
        self.rank[np.lexsort((np.array([int(f.id) for f in feats], np.int64), self.t0))] = np.arange(len(feats))

    def of(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row, sighting)``: the sightings of every unit in ``units``, with the position of its unit there."""
        n = self.count[units]
        return np.repeat(np.arange(len(units)), n), np.repeat(self.first[units], n) + ranges(n)
