"""One threshold path: a store linked directly, as the benchmarks call ``link_tracklets`` (the threshold resolved
once by ``resolve_threshold``, then handed in), and by ``reid process``'s link step (``finish_run`` ->
``link_database``) gets the same threshold, from the same source, and the same identities; the run summary
reports the ``Calibration`` the link step returned."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fake_store import populate

from reid.config import LinkConfig
from reid.link import link_tracklets
from reid.link.calibrate import resolve_threshold
from reid.link.camera_centring import centre_by_camera
from reid.link.database import checkpoint_threshold
from reid.store import Store
from reid.video.pipeline import finish_run

CHECKPOINT = 0.45  # what `reid process` records for a checkpoint `reid evaluate` calibrated


def partition(groups: list) -> set[frozenset[int]]:
    return {frozenset(m.tracklet_id for m in g) for g in groups}


def stored_partition(store: Store) -> set[frozenset[int]]:
    by_identity: dict[object, set[int]] = {}
    for f in store.tracklet_features():
        identity = store.tracklet(f.id).identity_id
        by_identity.setdefault(("alone", f.id) if identity is None else identity, set()).add(f.id)
    return {frozenset(ids) for ids in by_identity.values()}


@pytest.mark.parametrize(("cfg", "source"), [
    (LinkConfig(), "calibrated"),  # enough known-different pairs on the site
    (LinkConfig(min_pairs=10**9), "checkpoint"),  # too few: the checkpoint's threshold, not the default
    (LinkConfig(threshold=0.5), "given"),  # --threshold
])
def test_direct_link_and_the_process_link_step_agree(tmp_path: Path, cfg: LinkConfig, source: str) -> None:
    db = tmp_path / "site.db"
    with Store(db) as store:
        populate(store, n_tracklets=120, n_cameras=3, seed=3)  # with reviewers' confirmations and a rejection
        store.set_meta("checkpoint_link_threshold", f"{CHECKPOINT:.6g}")
        features, constraints = store.tracklet_features(), store.link_constraints()
        if cfg.camera_centring:  # link_database links in the camera-centred space (reid.link.camera_centring)
            features = centre_by_camera(features)
        cal = resolve_threshold(features, constraints, cfg, checkpoint_threshold(store))
        direct = link_tracklets(features, constraints, cfg, cal)
    assert source in cal.source and cal.different_pairs == len(cal.different) > 0
    if source == "checkpoint":
        assert cal.threshold == pytest.approx(CHECKPOINT)

    summary = finish_run(db, cfg, [], "synthetic", time.perf_counter())

    assert summary.calibration is not None
    assert (summary.calibration.threshold, summary.calibration.source) == (cal.threshold, cal.source)
    assert summary.link_threshold == cal.describe()
    with Store(db, readonly=True) as store:
        assert stored_partition(store) == partition(direct)
        assert store.get_meta("link_threshold") == f"{cal.threshold:.6g}"
    assert summary.identities == len(direct)
