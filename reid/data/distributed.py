"""PK batches split across data-parallel ranks: each rank gets whole identities, none shared in a step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reid.data.sampler import PKSampler


class DistributedPKSampler:
    """Every rank draws the same global P x K plan (same seed) and keeps its own P / world identities.

    ``PKSampler`` lays a batch out identity by identity (K consecutive indices each), so rank ``r`` takes
    identities ``r * P/world .. (r+1) * P/world - 1`` of every global batch: all K images of an identity
    stay on one rank (each rank can mine its own positives) and no identity is on two ranks in one step.
    """

    def __init__(self, labels: Sequence[int], p: int, k: int, rank: int, world_size: int, seed: int = 0) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank={rank} must be in 0..{world_size - 1} (world_size={world_size})")
        if p % world_size:
            raise ValueError(f"p={p} identities per global batch must be divisible by world_size={world_size}")
        if p // world_size < 2:
            raise ValueError(f"p={p} over {world_size} ranks leaves {p // world_size} identity per rank; need >= 2")
        self.plan = PKSampler(labels, p, k, seed)
        self.rank, self.world_size, self.k = rank, world_size, k
        self.per_rank = (p // world_size) * k

    def __iter__(self) -> Iterator[list[int]]:
        lo = self.rank * self.per_rank
        for batch in self.plan:
            yield batch[lo : lo + self.per_rank]

    def __len__(self) -> int:
        return len(self.plan)

    @property
    def epoch(self) -> int:
        return self.plan.epoch

    def set_epoch(self, epoch: int) -> None:
        self.plan.set_epoch(epoch)

    def state_dict(self) -> dict[str, Any]:
        return self.plan.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plan.load_state_dict(state)
