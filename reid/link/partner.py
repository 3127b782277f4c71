"""The partner of a link: the other member of a tracklet's identity that its link stands on.

A cross-camera link is judged on the pairs of members from different cameras (the linker's default linkage,
cross-complete, takes the farthest of them), so the partner is the member of *another* camera nearest by
stored embedding (of the same camera only when the identity has no other), measured in the site's
camera-centred space (the shifts of the last whole-site link, ``reid.link.camera_centring``: the space its
threshold was resolved in). A reviewer's "not the same
person" on a link is a veto against this one tracklet, not against the whole identity.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from reid.distances import pairwise_distance_numpy
from reid.link.camera_centring import CENTRING_META, centre_with, stored_shifts
from reid.store import Store
from reid.store.queries import get_meta, tracklet, tracklet_features_of


def link_partner(store: Store, tracklet_id: int) -> int | None:
    """The other member of the tracklet's identity closest to it, another camera's first (ties: the lower id);
    None when it is in no identity or alone there, or when it or every other member has no embedding.
    StoreError for an unknown id."""
    return store.read(_partner, int(tracklet_id))


def _partner(conn: sqlite3.Connection, tracklet_id: int) -> int | None:
    identity = tracklet(conn, tracklet_id).identity_id
    if identity is None:
        return None
    members = [
        int(r[0])
        for r in conn.execute("SELECT tracklet_id FROM identity_members WHERE identity_id = ?", (identity,))
    ]
    features = centre_with(tracklet_features_of(conn, members), stored_shifts(get_meta(conn, CENTRING_META)))
    own = [f for f in features if f.id == tracklet_id]
    others = [f for f in features if f.id != tracklet_id]  # in id order: argmin's first is the lower id
    if not own or not others:
        return None
    across = [f for f in others if f.camera != own[0].camera]
    others = across or others
    mine = np.asarray(own[0].embedding, np.float64)[None, :]
    d = pairwise_distance_numpy(mine, np.stack([np.asarray(f.embedding, np.float64) for f in others]))[0]
    return int(others[int(np.argmin(d))].id)
