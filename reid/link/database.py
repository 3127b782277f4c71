"""Link every tracklet of a store: resolve the threshold once, link, write the identities back.

``reid process`` (after its videos), ``reid relink`` and the benchmarks all link a store this way; the
``Calibration`` used is returned (and recorded in the store's meta ``link_threshold`` /
``link_threshold_source`` for the review app).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reid.config import LinkConfig
from reid.link.calibrate import Calibration, resolve_threshold
from reid.link.camera_centring import CENTRING_META, camera_shifts, centre_with, stored_shifts
from reid.link.link import link_tracklets
from reid.store import Store

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class LinkOutcome:
    """What ``link_database`` did: identities (linked groups, singletons included), those seen by more than one
    camera, the cross-camera links proposed, and the threshold with what it rests on."""

    identities: int
    cross_camera: int
    links: int
    calibration: Calibration


def checkpoint_threshold(store: Store) -> float | None:
    """The embedder checkpoint's verification threshold the run recorded (meta ``checkpoint_link_threshold``,
    written when the embedder was built), or None."""
    value = store.get_meta("checkpoint_link_threshold")
    return float(value) if value else None


def centred_like_last_link(store: Store, features: Sequence[Any]) -> list[Any]:
    """``features`` (of this store) moved into the space the last ``link_database`` linked in and calibrated
    the stored threshold on: each camera's recorded centring shift (``reid.link.camera_centring``); as they
    are when none was recorded."""
    return centre_with(features, stored_shifts(store.get_meta(CENTRING_META)))


def link_database(store: Store, cfg: LinkConfig) -> LinkOutcome:
    """Relink every tracklet in the store, keeping the reviewers' decisions (``Store.link_constraints``).

    The threshold is resolved once (``resolve_threshold``: ``cfg.threshold`` if given, else calibrated on this
    database's known-different pairs, else the checkpoint's, else the default) and recorded in the store's
    meta for the review app. With ``cfg.camera_centring`` the embeddings are centred per camera first
    (``reid.link.camera_centring``; the stored vectors are not changed)."""
    features = store.tracklet_features()
    shifts = camera_shifts(features) if cfg.camera_centring else {}
    # before the threshold, so that it is calibrated on the vectors that are linked; recorded so that any
    # later comparison against the stored threshold (review queue, component relink) can move them alike
    features = centre_with(features, shifts)
    store.set_meta(CENTRING_META, json.dumps({cam: [float(x) for x in v] for cam, v in shifts.items()}))
    constraints = store.link_constraints()
    cal = resolve_threshold(features, constraints, cfg, checkpoint_threshold(store))
    store.set_meta("link_threshold", f"{cal.threshold:.6g}")
    store.set_meta("link_threshold_source", cal.source)
    log.info("link threshold %.3f: %s", cal.threshold, cal.source)
    groups = link_tracklets(features, constraints, cfg, cal)
    store.apply_links(groups)
    camera_of = {f.id: f.camera for f in features}
    cross = [g for g in groups if len({camera_of[m.tracklet_id] for m in g}) > 1]
    links = sum(len({camera_of[m.tracklet_id] for m in g}) - 1 for g in cross)
    return LinkOutcome(len(groups), len(cross), links, cal)
