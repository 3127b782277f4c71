"""Cross-camera tracklet-pair precision / recall and purity against a hand-made reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from reid.data.motio import write_mot
from reid.link.link_eval import link_scores
from reid.video.mot_eval import TrackRow


def reference(tmp_path: Path) -> dict[str, Path]:
    # persons 1 and 2 walk in camera a (frames 1-3) and then in camera b (frames 5-7)
    a = [(f, 1, (0, 0, 10, 30), 1) for f in (1, 2, 3)] + [(f, 2, (50, 0, 60, 30), 1) for f in (1, 2, 3)]
    b = [(f, 1, (0, 0, 10, 30), 1) for f in (5, 6, 7)] + [(f, 2, (50, 0, 60, 30), 1) for f in (5, 6, 7)]
    paths = {"a": tmp_path / "a.txt", "b": tmp_path / "b.txt"}
    write_mot(paths["a"], a)
    write_mot(paths["b"], b)
    return paths


def rows(track: int, identity: int | None, x: float, frames: range) -> list[TrackRow]:
    return [TrackRow(f, track, identity, (x, 0, x + 10, 30)) for f in frames]


def test_right_links_score_one(tmp_path: Path) -> None:
    gt = reference(tmp_path)
    pred = {"a": rows(1, 100, 0, range(1, 4)) + rows(2, 200, 50, range(1, 4)),
            "b": rows(3, 100, 0, range(5, 8)) + rows(4, 200, 50, range(5, 8))}
    s = link_scores(gt, pred)
    assert (s.correct_pairs, s.linked_pairs, s.true_pairs) == (2, 2, 2)
    assert s.pair_precision == s.pair_recall == s.purity == 1.0
    assert s.identities == 2 and s.people == 2


def test_one_identity_chaining_two_people(tmp_path: Path) -> None:
    gt = reference(tmp_path)
    pred = {"a": rows(1, 100, 0, range(1, 4)) + rows(2, 100, 50, range(1, 4)),
            "b": rows(3, 100, 0, range(5, 8)) + rows(4, 200, 50, range(5, 8))}
    s = link_scores(gt, pred)
    # cross-camera pairs in one identity: (1,3) right, (2,3) wrong; true pairs (1,3), (2,4)
    assert (s.correct_pairs, s.linked_pairs, s.true_pairs) == (1, 2, 2)
    assert s.pair_precision == pytest.approx(0.5) and s.pair_recall == pytest.approx(0.5)
    assert s.purity == pytest.approx(9 / 12)  # identity 100 holds 9 boxes, 6 of person 1; identity 200 pure


def test_false_positive_tracklet_is_nobody(tmp_path: Path) -> None:
    gt = reference(tmp_path)
    pred = {"a": rows(1, 100, 0, range(1, 4)) + rows(9, 100, 200, range(1, 4)),  # 9: on no reference box
            "b": rows(3, 100, 0, range(5, 8))}
    s = link_scores(gt, pred)
    assert (s.correct_pairs, s.linked_pairs, s.true_pairs) == (1, 2, 1)
