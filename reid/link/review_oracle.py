"""A simulated reviewer who knows the answer: each tracklet's reference person (from MOTChallenge ground truth,
matched by ``link_eval.tracklet_persons``) decides Y or N on a ``ReviewItem`` as a careful person would.

* a proposed link: Y when the tracklet is the person most of the rest of its identity is;
* a suggested merge: Y when the two identities' majority persons are one person;
* a mixed-looking identity: Y ("two people") when the group's majority person is not the rest's; N ("one
  person", every member confirmed) only when every member is that one person; otherwise the split on offer is
  not the right one and neither answer is true: the reviewer passes (None; the simulation skips the item).

A tracklet on nobody (a false detection) is never anybody's person: its link is rejected, a merge of an
identity made of such tracklets is refused. Majority by tracklets; ties go to the smaller person id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from reid.link.review_queue import ReviewItem


def majority_person(tracklets: Iterable[int], persons: Mapping[int, int | None]) -> int | None:
    """The person most of ``tracklets`` are (None when most are on nobody, or there are none)."""
    votes = Counter(persons.get(t) for t in tracklets)
    if not votes:
        return None
    best = max(votes.items(), key=lambda kv: (kv[1], kv[0] is not None, -(kv[0] or 0)))
    return best[0]


def answer(
    item: ReviewItem, members: Mapping[int, list[int]], persons: Mapping[int, int | None]
) -> bool | None:
    """Y (True), N (False) or pass (None, a mixed item only) for ``item``; ``members``: identity -> its
    tracklets now; ``persons``: tracklet -> person."""
    if item.kind == "link":
        rest = [t for t in members.get(item.identity, []) if t != item.tracklet]
        person = persons.get(item.tracklet)
        return person is not None and person == majority_person(rest, persons)
    if item.kind == "mixed":
        return _mixed(item, members.get(item.identity, []), persons)
    if item.other is None:
        raise ValueError(f"a merge item names two identities, got {item}")
    a = majority_person(members.get(item.identity, []), persons)
    return a is not None and a == majority_person(members.get(item.other, []), persons)


def _mixed(item: ReviewItem, tracklets: list[int], persons: Mapping[int, int | None]) -> bool | None:
    group = set(item.group)
    if not group:
        raise ValueError(f"a mixed item names the group it would split off, got {item}")
    a = majority_person([t for t in tracklets if t in group], persons)
    b = majority_person([t for t in tracklets if t not in group], persons)
    if a != b:
        return True
    if b is not None and all(persons.get(t) == b for t in tracklets):
        return False
    return None
