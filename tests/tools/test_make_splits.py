"""The geometry that derives a split's reference from the uncut frame's (``tools/make_reference.view_rows``) and
the split spec and renderer of ``tools/make_splits.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from reid.data.motio import write_mot  # noqa: E402
from tools.make_reference import View, halves, load_uncut, uncut_rows, view_rows  # noqa: E402
from tools.make_splits import Camera, load_splits, manifest, respond  # noqa: E402


def _tracks() -> dict[int, list]:
    # person 7 walks right across x = 300 over source frames 10..13 (box 40 px wide), person 9 stays left
    return {7: [(f, np.array([250.0 + 10 * (f - 10), 100.0, 290.0 + 10 * (f - 10), 200.0])) for f in range(10, 14)],
            9: [(11, np.array([10.0, 50.0, 30.0, 90.0]))]}  # fmt: skip


def test_a_box_is_cut_by_the_window_shifted_scaled_and_frame_stepped() -> None:
    rows = view_rows(_tracks(), View(300, 500, scale=0.5), 400, range(10, 14, 2), min_visible=0.35)
    # frame 10: box 250-290 lies left of x = 300: nothing; frame 12: 270-310 -> 300-310 (10 of 40 px: sliver);
    # frames 11 and 13 are stepped over; clip frame 2 is source frame 12
    assert len(rows) == 1
    clip, pid, box, consider = rows[0]
    assert (clip, pid, consider) == (2, 7, 0.0)
    assert box == pytest.approx([0.0, 50.0, 5.0, 100.0])  # (x - 300) * 0.5, y * 0.5


def test_the_consider_flag_follows_the_visible_share_of_the_box() -> None:
    rows = view_rows(_tracks(), View(0, 300), 400, range(10, 14), min_visible=0.35)
    flags = {(clip, pid): consider for clip, pid, _, consider in rows}
    # person 7 at frame 13 is at 280-320: 20 of 40 px left of 300 -> kept; at frame 12: 270-310, 30/40
    assert flags == {(1, 7): 1.0, (2, 7): 1.0, (3, 7): 1.0, (4, 7): 1.0, (2, 9): 1.0}
    rows = view_rows({1: [(0, np.array([290.0, 0.0, 330.0, 80.0]))]}, View(0, 300), 400, range(1), 0.35)
    assert rows[0][3] == 0.0 and rows[0][2] == pytest.approx([290.0, 0.0, 300.0, 80.0])  # 10/40 < 0.35


def test_uncut_rows_round_trip_and_the_halves_are_two_views(tmp_path: Path) -> None:
    path = tmp_path / "uncut.txt"
    write_mot(path, uncut_rows(_tracks()))
    back = load_uncut(path)
    assert sorted(back) == [7, 9] and [f for f, _ in back[7]] == [10, 11, 12, 13]
    assert np.allclose(back[7][2][1], [270, 100, 310, 200])
    sides = halves(back, every=2, min_visible=0.35, frames=14)
    assert sides["left"] == view_rows(back, View(0, 384), 576, range(0, 14, 2), 0.35)
    assert [r[0] for r in sides["left"] if r[1] == 7] == [6, 7]  # source frames 10, 12 -> clip frames 6, 7


def test_the_spec_has_roles_and_every_split_two_cameras() -> None:
    splits = load_splits(ROOT / "examples" / "splits.yaml")
    assert len(splits) >= 8 and all(len(s.cameras) == 2 for s in splits)
    held = [s for s in splits if s.role == "held-out"]
    assert 2 * len(held) >= len(splits)
    assert any(s.name == "sample" and s.role == "tuning" for s in splits)
    sample = next(s for s in splits if s.name == "sample")
    assert manifest(sample)["cameras"]["camA"]["start_time"] == 0.0
    second = next(s for s in splits if s.frames[0] > 0)
    assert manifest(second)["cameras"]["camA"]["start_time"] == pytest.approx(second.frames[0] / 10)


def test_a_camera_response_changes_the_pixels_and_the_size() -> None:
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    same = respond(image, Camera("a", (10, 50)))
    assert np.array_equal(same, image[:, 10:50])
    warm = respond(image, Camera("b", (10, 50), scale=0.5, wb=(0.8, 1.0, 1.25), gamma=1.2))
    assert warm.shape == (20, 20, 3)
    assert warm[..., 0].mean() < warm[..., 2].mean()  # less blue than red after a warm white balance


def test_identity_mix_counts_identities_holding_a_second_person(tmp_path: Path) -> None:
    from benchmarks.bench_linking import identity_mix
    from reid.data.motio import TrackRow

    gt = tmp_path / "a.txt"  # persons 1 and 2, five frames each, far apart
    write_mot(gt, [(f, p, [100.0 * p, 0.0, 100.0 * p + 40, 80.0], 1.0) for p in (1, 2) for f in range(1, 6)])
    box = lambda p: [100.0 * p, 0.0, 100.0 * p + 40, 80.0]  # noqa: E731
    # identity 7 holds track 1 (person 1, 5 boxes) and track 2 (person 2, 1 box: 1/6 > 10 %)
    rows = [TrackRow(f, 1, 7, box(1)) for f in range(1, 6)] + [TrackRow(1, 2, 7, box(2))]
    mix = identity_mix({"a": gt}, {"a": rows})
    assert mix == {"mixed_identities": 1, "worst_purity": pytest.approx(5 / 6)}
    alone = [TrackRow(f, 1, 7, box(1)) for f in range(1, 6)] + [TrackRow(1, 2, None, box(2))]
    assert identity_mix({"a": gt}, {"a": alone}) == {"mixed_identities": 0, "worst_purity": 1.0}
