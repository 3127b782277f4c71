"""The site's own training set, read from a processed database: every tracklet's stored crops, a class per
tracklet (tracklets a reviewer confirmed as one identity share a class), and the pairs known to be different.

Known-different tracklet pairs come free with every video: two tracklets of one camera that overlap in time
cannot be one person; a reviewer's rejection (``cannot_link``) says so too (``reid.link.calibrate.known_pairs``,
the pairs the link threshold is calibrated on). Nothing here is labelled by hand
beyond what the reviewer already decided.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from reid.errors import ReidError
from reid.link.calibrate import known_pairs
from reid.store import Store, TrackletFeature

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteCrops:
    """``images``: (N, 3, H, W) uint8 RGB crops; ``crop_tracklet``: (N,) index into ``tracklet_ids`` of each
    crop; ``labels``: (N,) class of each crop; ``tracklet_ids``: (T,) database ids; ``tracklet_class``: (T,);
    ``different``: (M, 2) tracklet-index pairs known to be different people (i < j); ``same``: (S, 2) pairs of
    tracklets a reviewer confirmed as one person."""

    images: torch.Tensor
    crop_tracklet: np.ndarray
    labels: np.ndarray
    tracklet_ids: np.ndarray
    tracklet_class: np.ndarray
    different: np.ndarray
    same: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.tracklet_class.max()) + 1 if len(self.tracklet_class) else 0

    def class_pairs(self) -> np.ndarray:
        """(M', 2) distinct class pairs (a < b) that are known to be different people."""
        if len(self.different) == 0:
            return np.zeros((0, 2), np.int64)
        c = np.sort(self.tracklet_class[self.different], axis=1)
        return np.unique(c[c[:, 0] != c[:, 1]], axis=0)


def decode_crop(jpeg: bytes, height: int, width: int) -> np.ndarray | None:
    """A stored JPEG thumbnail -> (3, height, width) uint8 RGB, or None when it does not decode."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        return None
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1))


def _classes(ids: np.ndarray, must_link: list[tuple[int, ...]]) -> np.ndarray:
    """(T,) class per tracklet: one per confirmed identity, one per other tracklet, numbered 0..C-1."""
    index = {int(t): k for k, t in enumerate(ids)}
    cls = np.full(len(ids), -1, np.int64)
    n = 0
    for group in must_link:
        members = [index[t] for t in group if t in index]
        if members:
            cls[members] = n
            n += 1
    alone = np.flatnonzero(cls < 0)
    cls[alone] = n + np.arange(len(alone))
    return cls


def load_site_crops(store: Store, height: int, width: int, max_crops: int = 8) -> SiteCrops:
    """Read every tracklet that has an embedding and stored crops (up to ``max_crops`` best ones each).

    Raises ``ReidError`` naming the database when fewer than two tracklets have crops.
    """
    feats = store.tracklet_features()
    ids: list[TrackletFeature] = []
    images: list[np.ndarray] = []
    owner: list[int] = []
    for f in feats:
        crops = [c for _, jpeg in store.thumbnails(f.id, max_crops) if (c := decode_crop(jpeg, height, width)) is not None]
        if not crops:
            continue
        owner.extend([len(ids)] * len(crops))
        ids.append(f)
        images.extend(crops)
    if len(ids) < 2:
        raise ReidError(f"{store.path}: {len(ids)} tracklet(s) with stored crops; adapting needs at least two "
                        "(run `reid process` on the site's videos first)")
    tid = np.array([f.id for f in ids], np.int64)
    constraints = store.link_constraints()
    different, same = known_pairs(ids, constraints)  # the linker's calibration reads the same pairs
    cls = _classes(tid, constraints.must_link)
    owner_arr = np.array(owner, np.int64)
    log.info("%s: %d crops of %d tracklets, %d classes (%d reviewed identities), %d known-different and %d "
             "confirmed tracklet pairs", store.path, len(images), len(tid), cls.max() + 1,
             len(constraints.must_link), len(different), len(same))
    return SiteCrops(images=torch.from_numpy(np.stack(images)), crop_tracklet=owner_arr, labels=cls[owner_arr],
                     tracklet_ids=tid, tracklet_class=cls, different=different, same=same)
