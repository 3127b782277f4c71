"""The known-answer site of ``review_people`` with a mixed identity: person 2 made to look like person 0 (0.55
apart) and their four tracklets put in one identity, as if the linker had joined them, beside the site's three
other errors (two missed links, one false link)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from review_people import THRESHOLD, build_site, embeddings, link_site

from reid.store import LinkProposal, Store
from reid.store.queries import memberships


def _turn(u: np.ndarray, towards: int, d: float) -> np.ndarray:
    """``u`` turned towards basis vector ``towards`` until it is ``d`` from ``u`` (both unit vectors)."""
    a = 2 * math.asin(d / 2)
    w = np.zeros_like(u)
    w[towards] = 1
    return (math.cos(a) * u + math.sin(a) * w).astype(np.float32)


def build_mixed_site(store: Store, gt_dir: Path) -> dict[tuple[str, int], int]:
    """Commit, link and join persons 0 and 2 (person 2's cam1 view proposed at cost 0.45); writes the ground
    truth to ``gt_dir``; returns ``{(camera, person): tracklet id}``."""
    ids = build_site(store, gt_dir)
    emb = {ids[k]: v for k, v in embeddings().items()}
    p2 = _turn(emb[ids["cam1", 0]], 2, 0.55)
    emb[ids["cam1", 2]], emb[ids["cam2", 2]] = p2, _turn(p2, 10, 0.25)
    store.replace_embeddings(emb, "test")
    link_site(store)
    rows = store.read(memberships)
    by_id = {m.tracklet_id: m.identity_id for m in rows}
    zero, two = by_id[ids["cam1", 0]], by_id[ids["cam1", 2]]
    groups: dict[int, list[LinkProposal]] = {}
    for m in rows:
        cost = 0.45 if m.tracklet_id == ids["cam1", 2] else m.cost
        groups.setdefault(zero if m.identity_id == two else m.identity_id, []).append(
            LinkProposal(m.tracklet_id, cost, None)
        )
    store.apply_links(list(groups.values()))
    store.set_meta("link_threshold", str(THRESHOLD))
    return ids
