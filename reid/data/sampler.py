"""P x K identity batches (torchreid's ``RandomIdentitySampler``), seeded, resumable.

Each epoch every identity's images are shuffled and cut into groups of K (an identity with fewer
than K images gets one group drawn with replacement; a remainder smaller than K is dropped), then
batches are formed by drawing P distinct identities that still have groups and taking one group of
each. When fewer than P identities are left, torchreid drops them; here one last batch takes one group
of each of them plus fresh groups of other identities, so that every identity is visited every epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


class PKSampler:
    """Batch sampler: yields ``list[int]`` of dataset indices, P identities x K images each.

    The order is a pure function of ``(seed, epoch)``; a local ``numpy.random.Generator`` is used,
    never global state. Iterating to the end advances the epoch by one; ``set_epoch`` sets it.
    ``state_dict`` / ``load_state_dict`` resume mid-epoch at the next unseen batch. Use it as a
    ``batch_sampler`` of a DataLoader, or index a cached image tensor with each batch.
    """

    def __init__(self, labels: Sequence[int], p: int, k: int, seed: int = 0) -> None:
        if p < 2 or k < 2:
            raise ValueError(f"p={p} identities and k={k} images per identity must both be >= 2 "
                             "(a batch needs positives and negatives for every anchor)")
        label_array = np.asarray(labels, dtype=np.int64)
        pids, inverse = np.unique(label_array, return_inverse=True)
        if p > len(pids):
            raise ValueError(f"p={p} identities per batch but the data has only {len(pids)}")
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse, minlength=len(pids)))[:-1]
        self._index_by_pid = np.split(order, bounds)  # per identity: its dataset indices
        self.p, self.k, self.seed = p, k, seed
        self.num_samples = len(label_array)
        self.epoch = 0
        self._start = 0  # first batch of the next iteration (set by load_state_dict)
        self._position = 0  # batches handed out in the current epoch
        self._plan_cache: tuple[int, list[list[int]]] | None = None

    def _groups(self, rng: np.random.Generator, idx: np.ndarray) -> list[np.ndarray]:
        if len(idx) < self.k:
            return [rng.choice(idx, size=self.k, replace=True)]
        idx = rng.permutation(idx)
        n = len(idx) // self.k
        return list(idx[: n * self.k].reshape(n, self.k))

    def _plan(self, epoch: int) -> list[list[int]]:
        """All batches of ``epoch`` (cached for the last epoch asked)."""
        if self._plan_cache is not None and self._plan_cache[0] == epoch:
            return self._plan_cache[1]
        rng = np.random.default_rng([self.seed, epoch])
        groups = [self._groups(rng, idx) for idx in self._index_by_pid]
        next_group = [0] * len(groups)
        available = list(range(len(groups)))
        batches: list[list[int]] = []
        while len(available) >= self.p:
            chosen = rng.choice(len(available), size=self.p, replace=False)
            pids = [available[c] for c in chosen]
            batches.append(np.concatenate([groups[q][next_group[q]] for q in pids]).tolist())
            for q in pids:
                next_group[q] += 1
            available = [q for q in available if next_group[q] < len(groups[q])]
        unvisited = [q for q in available if next_group[q] == 0]
        if unvisited:  # top up with other identities so no identity is skipped this epoch
            others = np.setdiff1d(np.arange(len(groups)), unvisited)
            extra = rng.choice(others, size=self.p - len(unvisited), replace=False).tolist()
            parts = [groups[q][0] for q in unvisited] + [self._groups(rng, self._index_by_pid[q])[0] for q in extra]
            batches.append(np.concatenate(parts).tolist())
        self._plan_cache = (epoch, batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._plan(self.epoch)
        start, self._start = self._start, 0
        for i in range(start, len(batches)):
            self._position = i + 1
            yield batches[i]
        self.epoch += 1
        self._position = 0

    def __len__(self) -> int:
        """Batches per epoch (of the current epoch; it varies by at most a few between epochs)."""
        return len(self._plan(self.epoch))

    def set_epoch(self, epoch: int) -> None:
        """Iterate ``epoch`` next, from its first batch; setting the epoch a ``load_state_dict`` just
        restored keeps its mid-epoch position (so "load state, then set_epoch(epoch)" resumes)."""
        if epoch != self.epoch or self._start == 0:
            self._start = self._position = 0
        self.epoch = epoch

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "epoch": self.epoch, "position": self._position,
                "p": self.p, "k": self.k, "num_samples": self.num_samples}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume: the next iteration continues ``state['epoch']`` after ``state['position']`` batches."""
        mine = (self.p, self.k, self.num_samples)
        theirs = (state["p"], state["k"], state["num_samples"])
        if mine != theirs:
            raise ValueError(f"sampler state is for p, k, samples = {theirs}, this sampler has {mine}")
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
        self._start = self._position = int(state["position"])
