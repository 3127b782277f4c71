"""P x K batches whose P identities are chosen together with their known-different neighbours.

``PKSampler`` draws P identities uniformly, so two tracklets that were in view at the same time (and so are
certainly different people who often look alike: same light, same place) rarely meet in one batch. Here each
batch starts from an identity not yet visited this epoch and fills its P slots with identities known to be
different from the ones already chosen (breadth first), then with other unvisited identities, then with any;
batch-hard mining then finds its hardest negatives among exactly those pairs. Every identity is visited every
epoch; K images per identity, drawn with replacement when it has fewer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


class CoOccurrencePKSampler:
    """Batch sampler: yields ``list[int]`` of dataset indices, P identities x K images each.

    ``labels``: (N,) identity of each image, 0..C-1; ``different``: (M, 2) identity pairs known to be
    different people. The order is a pure function of ``(seed, epoch)`` (local generator); iterating to the end
    advances the epoch; ``set_epoch`` sets it.
    """

    def __init__(self, labels: Sequence[int] | np.ndarray, different: np.ndarray, p: int, k: int, seed: int = 0) -> None:
        if p < 2 or k < 2:
            raise ValueError(f"p={p} identities and k={k} images per identity must both be >= 2 "
                             "(a batch needs positives and negatives for every anchor)")
        labels_arr = np.asarray(labels, np.int64)
        n_ids = int(labels_arr.max()) + 1 if len(labels_arr) else 0
        if p > n_ids:
            raise ValueError(f"p={p} identities per batch but the data has only {n_ids}")
        self._index = [np.flatnonzero(labels_arr == c) for c in range(n_ids)]
        empty = [c for c, idx in enumerate(self._index) if len(idx) == 0]
        if empty:
            raise ValueError(f"labels must be 0..{n_ids - 1} with no gaps; identity {empty[0]} has no images")
        self._neighbours: list[set[int]] = [set() for _ in range(n_ids)]
        for a, b in np.asarray(different, np.int64).reshape(-1, 2):
            if a != b:
                self._neighbours[a].add(int(b))
                self._neighbours[b].add(int(a))
        self.p, self.k, self.seed, self.epoch = p, k, seed, 0

    def _choose(self, rng: np.random.Generator, start: int, visited: np.ndarray) -> list[int]:
        """``start`` plus up to P-1 identities: known-different neighbours first (unvisited before visited),
        then unvisited, then any."""
        chosen, queue = [start], [start]
        while queue and len(chosen) < self.p:
            near = [c for c in self._neighbours[queue.pop(0)] if c not in chosen]
            near = [near[i] for i in rng.permutation(len(near))]
            near.sort(key=lambda c: bool(visited[c]))  # stable: unvisited first, random within each
            for c in near[: self.p - len(chosen)]:
                chosen.append(c)
                queue.append(c)
        for pool in (np.flatnonzero(~visited), np.arange(len(self._index))):
            rest = np.setdiff1d(pool, chosen)
            need = self.p - len(chosen)
            if need > 0 and len(rest):
                chosen += rng.choice(rest, size=min(need, len(rest)), replace=False).tolist()
        return chosen

    def _plan(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        visited = np.zeros(len(self._index), bool)
        batches = []
        for start in rng.permutation(len(self._index)):
            if visited[start]:
                continue
            chosen = self._choose(rng, int(start), visited)
            visited[chosen] = True
            batches.append(np.concatenate([rng.choice(self._index[c], size=self.k, replace=len(self._index[c]) < self.k)
                                           for c in chosen]).tolist())
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._plan(self.epoch)
        self.epoch += 1

    def __len__(self) -> int:
        return len(self._plan(self.epoch))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def state_dict(self) -> dict[str, Any]:
        """What a resume needs (the plan is a pure function of seed and epoch): ``seed``, ``epoch``, ``p``, ``k``."""
        return {"seed": self.seed, "epoch": self.epoch, "p": self.p, "k": self.k,
                "num_samples": sum(len(i) for i in self._index)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue at ``state['epoch']``; ``ValueError`` when the state is of another P, K or set of crops."""
        mine = (self.p, self.k, sum(len(i) for i in self._index))
        theirs = (state["p"], state["k"], state["num_samples"])
        if mine != theirs:
            raise ValueError(f"sampler state is for p, k, samples = {theirs}, this sampler has {mine}")
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
