"""How right the cross-camera links are: tracklet-pair precision / recall and identity purity against a reference.

Each predicted tracklet is given the reference person its boxes overlap most (IoU >= 0.5 in the same frame,
majority of its matched boxes; a tracklet whose boxes mostly match nobody is a person of its own). Then, over
every pair of tracklets from *different* cameras:

* **pair precision** = of the pairs given one identity, those that are one person — what a reviewer sees:
  the share of proposed cross-camera links that are right;
* **pair recall** = of the pairs that are one person, those given one identity;
* **purity** = of all predicted boxes, those whose identity's majority person is their own person (1.0 =
  no identity mixes people).

The reference is MOTChallenge ground truth with global person ids (``examples/reference/gt``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from reid.data.motio import IOU, TrackRow, read_mot

MIN_MATCHED = 1 / 3  # a tracklet with fewer of its boxes on a reference person is nobody's (false positive)


@dataclass(frozen=True)
class LinkScores:
    """Cross-camera link quality; counts behind each rate."""

    pair_precision: float
    pair_recall: float
    purity: float
    linked_pairs: int  # cross-camera tracklet pairs given one identity
    correct_pairs: int  # ... of which are one person
    true_pairs: int  # cross-camera tracklet pairs that are one person
    identities: int  # identities with at least one tracklet
    people: int  # reference persons matched by at least one tracklet

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def line(self) -> str:
        return (f"cross-camera tracklet pairs: precision {self.correct_pairs}/{self.linked_pairs} = "
                f"{self.pair_precision:.2f}, recall {self.correct_pairs}/{self.true_pairs} = {self.pair_recall:.2f}; "
                f"identity purity {self.purity:.2f}; {self.identities} identities for {self.people} people")


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of xyxy boxes ``a`` (N, 4) and ``b`` (M, 4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: np.clip(x[:, 2:] - x[:, :2], 0, None).prod(-1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-12)


def tracklet_persons(gt_file: str | Path, rows: Iterable[TrackRow]) -> tuple[dict[int, int | None], Counter]:
    """Reference person of each predicted tracklet of one camera (None: mostly on nobody), and the number of
    boxes of each tracklet."""
    gt = read_mot(gt_file)
    votes: dict[int, Counter] = defaultdict(Counter)
    sizes: Counter = Counter()
    by_frame: dict[int, list[TrackRow]] = defaultdict(list)
    for r in rows:
        by_frame[int(r.frame)].append(r)
        sizes[r.track_id] += 1
    for frame, preds in by_frame.items():
        ref = gt.get(frame)
        if ref is None or not len(ref.ids):
            continue
        iou = box_iou(np.asarray([p.box for p in preds], np.float64), ref.boxes.astype(np.float64))
        for k, p in enumerate(preds):
            j = int(np.argmax(iou[k]))
            if iou[k, j] >= IOU:
                votes[p.track_id][int(ref.ids[j])] += 1
    persons: dict[int, int | None] = {}
    for track, n in sizes.items():
        best = votes[track].most_common(1)
        persons[track] = best[0][0] if best and best[0][1] >= MIN_MATCHED * n else None
    return persons, sizes


def link_scores(gt_files: Mapping[str, str | Path], pred: Mapping[str, Iterable[TrackRow]]) -> LinkScores:
    """Pair precision / recall and purity of the identities in ``pred`` (camera -> boxes with tracklet and
    identity ids, e.g. ``mot_eval.store_predictions``) against ``gt_files`` (camera -> MOT file)."""
    tracks: list[tuple[str, int, int | None, int | None, int]] = []  # camera, track, identity, person, boxes
    for cam in sorted(gt_files):
        rows = list(pred.get(cam, ()))
        identity = {r.track_id: r.identity_id for r in rows}
        persons, sizes = tracklet_persons(gt_files[cam], rows)
        tracks += [(cam, t, identity[t], persons[t], sizes[t]) for t in sorted(persons)]
    linked = correct = true = 0
    for a in range(len(tracks)):
        for b in range(a + 1, len(tracks)):
            ca, _, ia, pa, _ = tracks[a]
            cb, _, ib, pb, _ = tracks[b]
            if ca == cb:
                continue
            same_person = pa is not None and pa == pb
            same_identity = ia is not None and ia == ib
            linked += same_identity
            true += same_person
            correct += same_identity and same_person
    members: dict[int, Counter] = defaultdict(Counter)
    for cam, t, ident, person, n in tracks:
        key = ident if ident is not None else -(hash((cam, t)) & 0xFFFFFFF) - 1  # unlinked: its own identity
        members[key][person if person is not None else ("nobody", cam, t)] += n
    total = sum(sum(c.values()) for c in members.values())
    pure = sum(c.most_common(1)[0][1] for c in members.values())
    return LinkScores(
        pair_precision=correct / linked if linked else 1.0,
        pair_recall=correct / true if true else 1.0,
        purity=pure / total if total else 1.0,
        linked_pairs=linked, correct_pairs=correct, true_pairs=true,
        identities=len(members), people=len({p for _, _, _, p, _ in tracks if p is not None}),
    )  # fmt: skip
