"""Linking a busy multi-camera site in bounded memory (issue 23): the time-plausible pairs times the descriptor
must never be held at once (``reid.link.candidates``)."""

from __future__ import annotations

import tracemalloc

import numpy as np
from link_features import feature, link

from reid.config import LinkConfig
from reid.link.candidates import successor_ranges
from reid.link.topology import TopologyConfig
from reid.store.rows import TrackletFeature

CAMERAS, TRACKLETS, DIM, SPAN_S = 8, 3000, 512, 900.0


def busy_site(seed: int = 0) -> list[TrackletFeature]:
    """~1,000 people walking past 8 cameras in 15 minutes, ~3 tracklets each (one camera after another, a few
    seconds apart, leaving right and entering left); 512-d embeddings, the person's look plus noise."""
    rng = np.random.default_rng(seed)
    people = TRACKLETS // 3
    looks = rng.normal(size=(people, DIM))
    arrive = rng.uniform(0, SPAN_S - 60, people)
    feats: list[TrackletFeature] = []
    for k in range(people):
        t = arrive[k]
        cam = int(rng.integers(CAMERAS))
        for _ in range(3):
            e = looks[k] + 0.35 * rng.normal(size=DIM)
            dur = rng.uniform(2, 8)
            feats.append(
                feature(
                    len(feats),
                    f"cam{cam}",
                    t,
                    t + dur,
                    (e / np.linalg.norm(e)).astype(np.float32),
                    (0.05, 0.6),
                    (0.95, 0.6),
                )
            )
            t += dur + rng.uniform(1, 6)
            cam = (cam + 1) % CAMERAS
    return feats


def test_linking_a_busy_site_never_holds_pairs_times_dims() -> None:
    feats = busy_site()
    t0 = np.array([f.first_time for f in feats])
    t1 = np.array([f.last_time for f in feats])
    _, start, stop = successor_ranges(t0, t1, TopologyConfig().max_gap)
    would_be = int((stop - start).sum()) * DIM * 4  # bytes of one (pairs, dims) float32 array
    assert would_be > 1.0e9  # the site is busy enough that the old all-pairs gather would show
    tracemalloc.start()
    try:
        groups = link(feats, None, LinkConfig())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sorted(m.tracklet_id for g in groups for m in g) == list(range(len(feats)))
    assert sum(len(g) > 1 for g in groups) > len(feats) // 10  # it did link people across cameras
    assert peak < 200e6 and peak < would_be / 5, (
        f"peak {peak / 1e6:.0f} MB, pairs x dims {would_be / 1e6:.0f} MB"
    )
