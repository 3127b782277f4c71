"""A simulated reviewer works through the queue: takes the top ``ReviewItem`` (``review_queue``), answers it
(an ``answer`` function, e.g. ``review_oracle.answer`` with the reference persons), makes the decision the
review app's Y / N keys make, relinks its component in the same edit (``relink_component.decide``), and goes
on until its budget of decisions is spent or the queue is empty.

Y on a link confirms it (``confirm``), N rejects it (``reject``); Y on a suggested merge merges the two
identities (``merge``, the larger kept, the pair compared confirmed), N keeps them apart (``keep_apart``);
Y on a mixed-looking identity splits its group off (``split_group``: a new identity, cannot-links between the
two groups), N confirms all its members as one person (``confirm_group``). A decision the store refuses
(``ReviewError``), or an item the reviewer passes (answer None), costs nothing and is not asked again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reid.config import LinkConfig
from reid.errors import ReviewError
from reid.link.relink_component import RelinkChange, decide
from reid.link.review_queue import QueueConfig, ReviewItem, review_items
from reid.store import Store
from reid.store.queries import memberships

log = logging.getLogger(__name__)

Answer = Callable[[ReviewItem, Mapping[int, list[int]]], bool | None]  # (item, identity -> tracklets) -> Y?


@dataclass(frozen=True)
class Decision:
    """The ``number``-th decision (1-based): the item, the answer, the store call and what its relink did."""

    number: int
    item: ReviewItem
    yes: bool
    action: str
    change: RelinkChange | None


def identity_members(store: Store) -> dict[int, list[int]]:
    """Identity -> its tracklets, now."""
    out: dict[int, list[int]] = defaultdict(list)
    for m in store.read(memberships):
        out[m.identity_id].append(m.tracklet_id)
    return dict(out)


def decision_for(
    item: ReviewItem, yes: bool, members: Mapping[int, list[int]] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The store call (``relink_component.DECISIONS`` name and arguments) for answer ``yes`` to ``item``;
    ``members`` (identity -> its tracklets now) is needed for N to a mixed item (every member confirmed)."""
    if item.kind == "link":
        return ("confirm" if yes else "reject"), (item.tracklet,)
    if item.kind == "mixed":
        if yes:
            return "split_group", (item.group,)
        if members is None:
            raise ValueError("N to a mixed item confirms the identity's members: pass members")
        return "confirm_group", (tuple(sorted(members.get(item.identity, ()))),)
    assert item.other is not None and item.partner is not None
    if yes:  # the pair compared is confirmed with the merge, so the relinks keep them together
        return "merge", (item.identity, item.other, (item.tracklet, item.partner))
    return "keep_apart", (item.identity, item.other)


def _key(item: ReviewItem) -> tuple:
    return item.kind, item.identity, item.other, item.tracklet, item.group


def simulate_review(
    store: Store,
    answer: Answer,
    budget: int,
    cfg: LinkConfig | None,
    queue: QueueConfig | None = None,
    after: Callable[[Decision], None] | None = None,
) -> list[Decision]:
    """Up to ``budget`` decisions on ``store`` (written to it); ``after(decision)`` is called after each one.
    ``cfg``: the linking settings of the relinks (None: decisions without relink)."""
    made: list[Decision] = []
    refused: set[tuple] = set()
    while len(made) < budget:
        item = next((i for i in review_items(store, queue) if _key(i) not in refused), None)
        if item is None:
            break
        members = identity_members(store)
        yes = answer(item, members)
        if yes is None:
            log.info("reviewer passed on %s item of identity %d; item skipped", item.kind, item.identity)
            refused.add(_key(item))
            continue
        action, args = decision_for(item, yes, members)
        try:
            _, change = decide(store, action, *args, cfg=cfg)
        except ReviewError as exc:
            log.info("decision refused (%s); item skipped", exc)
            refused.add(_key(item))
            continue
        made.append(Decision(len(made) + 1, item, yes, action, change))
        if after is not None:
            after(made[-1])
    return made
