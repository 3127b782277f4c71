"""``relink``: re-embed every tracklet's stored crops with another model and link the database again, without
detecting or tracking again; every reviewer decision is kept (confirmed members stay, rejections stay).

The stored crops are the review thumbnails (best first, at most ``reid.video.thumbnails.THUMB_MAX_HEIGHT`` pixels
high), so a tracklet's new embedding is the plain mean of its thumbnails' features: their detection qualities
are not stored. A tracklet without a readable crop loses its embedding (and stays alone) rather than keep one
of another model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from reid.config import LinkConfig
from reid.link.calibrate import Calibration
from reid.link.database import link_database
from reid.store import Store
from reid.video.embed import EMBED_CHUNK, Embedder, tracklet_embedding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelinkResult:
    """``embedded``: tracklets given a new embedding; ``cleared``: tracklets left without one (no crops);
    ``identities``, ``cross_camera``, ``links``, ``calibration``: what ``link_database`` returned."""

    embedder: str
    embedded: int
    cleared: int
    identities: int
    cross_camera: int
    links: int
    calibration: Calibration


def _crops(store: Store, ids: list[int]) -> Iterator[tuple[int, list[np.ndarray]]]:
    for tid in ids:
        images = [cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) for _, jpeg in store.thumbnails(tid)]
        yield tid, [im for im in images if im is not None and im.size]


def reembed(store: Store, embedder: Embedder, progress: bool = True) -> dict[int, np.ndarray]:
    """``{tracklet id: (D,) float32}``: the mean of ``embedder``'s L2-normalised features of each tracklet's
    stored crops, in batches of about ``EMBED_CHUNK`` crops across tracklets; tracklets without crops are
    left out."""
    out: dict[int, np.ndarray] = {}
    pending: list[tuple[int, list[np.ndarray]]] = []

    def flush() -> None:
        crops = [c for _, cs in pending for c in cs]
        feats = embedder.embed(crops)
        start = 0
        for tid, cs in pending:
            out[tid] = tracklet_embedding(feats[start:start + len(cs)])
            start += len(cs)
        pending.clear()

    ids = store.tracklet_ids()
    for tid, crops in tqdm(_crops(store, ids), total=len(ids), desc=f"re-embedding with {embedder.name}",
                           unit="tracklet", disable=not progress, dynamic_ncols=True):
        if crops:
            pending.append((tid, crops))
        if sum(len(cs) for _, cs in pending) >= EMBED_CHUNK:
            flush()
    if pending:
        flush()
    return out


def relink(store: Store, embedder: Embedder, cfg: LinkConfig, progress: bool = True) -> RelinkResult:
    """Re-embed (``reembed``), replace every embedding in one transaction (the database's embedder becomes
    ``embedder.name``, its checkpoint threshold the embedder's ``link_threshold`` or none), then
    ``link_database`` with ``cfg`` (which resolves the threshold on the new embeddings unless given)."""
    vectors = reembed(store, embedder, progress)
    cleared = store.replace_embeddings(vectors, embedder.name)
    threshold = getattr(embedder, "link_threshold", None)  # the new model's own, as `reid process` records it
    store.set_meta("checkpoint_link_threshold", "" if threshold is None else f"{threshold:.6g}")
    if cleared:
        log.warning("%s: %d tracklet(s) have no readable stored crop; they are left unlinked", store.path, cleared)
    out = link_database(store, cfg)
    return RelinkResult(embedder.name, len(vectors), cleared, out.identities, out.cross_camera, out.links,
                        out.calibration)
