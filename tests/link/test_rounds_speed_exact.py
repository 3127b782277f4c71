"""The linker's shortcuts for speed give the straightforward computation's answer: the sparse assignment
(``reid.link.rounds.sparse_assignment``, ``lap.lapmod``) picks the links the dense Hungarian
(``scipy.optimize.linear_sum_assignment`` with 0 for "unmatched") picks, and ``Linker.reasons`` names the
transitions a search over every step names."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from test_topology import scene

from reid.config import LinkConfig
from reid.link import rounds
from reid.link.linker import Linker
from reid.link.rounds import assign, sparse_assignment
from reid.link.topology import TopologyConfig, confident_links, learn_topology


def dense_links(r: np.ndarray, c: np.ndarray, w: np.ndarray, nr: int, nc: int) -> set[tuple[int, int]]:
    """The matched (row, column) links of the dense problem: weights ``w`` < 0 on links, 0 elsewhere."""
    m = np.zeros((nr, nc))
    m[r, c] = w
    return {(int(a), int(b)) for a, b in zip(*linear_sum_assignment(m), strict=True) if m[a, b] < 0}


def random_links(rng: np.random.Generator, nr: int, nc: int, density: float) -> tuple[np.ndarray, ...]:
    """Distinct (row, column) links with distinct weights in (-1, 0)."""
    cells = np.flatnonzero(rng.random(nr * nc) < density)
    if len(cells) == 0:
        cells = np.array([rng.integers(nr * nc)])
    w = -rng.uniform(0.01, 1.0, len(cells))
    return cells // nc, cells % nc, w


@pytest.mark.parametrize("seed", range(150))
def test_sparse_assignment_is_the_dense_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nr, nc = int(rng.integers(1, 25)), int(rng.integers(1, 25))
    r, c, w = random_links(rng, nr, nc, float(rng.uniform(0.02, 0.6)))
    k = sparse_assignment(r, c, w, nr, nc)
    assert len(set(k.tolist())) == len(k)
    assert {(int(r[i]), int(c[i])) for i in k} == dense_links(r, c, w, nr, nc)


@pytest.mark.parametrize("seed", range(5))
def test_sparse_assignment_on_a_long_chain_of_look_alikes(seed: int) -> None:
    """A banded graph like a busy site's (each cluster's candidates are those near it in time), one component."""
    rng = np.random.default_rng(100 + seed)
    n, band = 600, 12
    r = np.repeat(np.arange(n), band)
    c = np.clip(r + rng.integers(-band, band, len(r)), 0, n - 1)
    key = np.unique(r * n + c)
    r, c = key // n, key % n
    w = -rng.uniform(0.0, 1.0, len(r))
    k = sparse_assignment(r, c, w, n, n)
    assert {(int(r[i]), int(c[i])) for i in k} == dense_links(r, c, w, n, n)


def test_sparse_assignment_edge_cases() -> None:
    none = np.zeros(0, np.int64)
    assert len(sparse_assignment(none, none, np.zeros(0), 0, 0)) == 0
    # one row, one link; one row wanting three columns; one column wanted by three rows
    assert sparse_assignment(np.array([0]), np.array([0]), np.array([-0.5]), 1, 1).tolist() == [0]
    w = np.array([-0.2, -0.7, -0.4])
    assert sparse_assignment(np.zeros(3, np.int64), np.arange(3), w, 1, 3).tolist() == [1]
    assert sparse_assignment(np.arange(3), np.zeros(3, np.int64), w, 3, 1).tolist() == [1]
    # the greedy pick (0.9 on row 0 / column 0) loses to the two links around it
    r, c, w = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([-0.9, -0.6, -0.6])
    assert sorted(sparse_assignment(r, c, w, 2, 2).tolist()) == [1, 2]


@pytest.mark.parametrize("seed", range(20))
def test_assign_sparse_path_equals_dense_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``assign`` picks the same links, with the same costs to the last bit, whichever path a component takes."""
    rng = np.random.default_rng(1000 + seed)
    nr = nc = int(rng.integers(5, 60))
    r, c, w = random_links(rng, nr, nc, float(rng.uniform(0.02, 0.3)))
    thr = 0.8
    pairs = np.stack([r * 2, c * 2 + 1], 1).astype(np.int64)  # row and column clusters: distinct roots
    cost = (w + 1.0) * thr  # in [0, thr)
    dense = sorted(assign(pairs, cost, thr))
    monkeypatch.setattr(rounds, "DENSE_CELLS", 0)
    assert sorted(assign(pairs, cost, thr)) == dense


def test_reasons_name_the_transitions_a_step_by_step_search_names() -> None:
    """``Linker.reasons`` asks the topology only about steps within a learned camera pair's union window: the
    same reasons as asking about every step."""
    feats, _ = scene(seed=3, people=10)
    topo = learn_topology(feats, confident_links(feats, threshold=1.0, cfg=TopologyConfig()))
    assert len(topo)
    linker = Linker(feats, None, LinkConfig(threshold=1.0), topo, threshold=1.0)
    cams = np.array([f.camera for f in feats])
    a, b = np.flatnonzero(cams == "a").tolist(), np.flatnonzero(cams == "b").tolist()
    # each b sighting after every a sighting, after one a sighting (its own person's or another's: out of the
    # window), and an a sighting after a b one (a camera pair without a transition)
    items = [(j, a) for j in b] + [(j, [i]) for j in b for i in a[:4]] + [(a[-1], [b[0]])]
    fast = linker.reasons(items)
    route = linker.route
    route.gated = np.ones_like(route.gated)
    route.lo, route.hi = np.full_like(route.lo, -np.inf), np.full_like(route.hi, np.inf)
    assert fast == linker.reasons(items)
    assert sum("via" in r for r in fast) >= len(b) and sum("via" not in r for r in fast) > len(b)
