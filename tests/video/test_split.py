"""Cutting tracks at identity switches: on signatures with a known jump, and through the tracklet builder on
generated frames where the tracked box turns from one person's colours into another's."""

from __future__ import annotations

import numpy as np

from reid.config import TrackerConfig
from reid.video.split import signature, split_points
from reid.video.track import SPLIT_ID_STEP, TrackletBuilder
from reid.video.types import Detections, Frame


def test_a_colour_jump_is_cut_where_it_happens() -> None:
    rng = np.random.default_rng(0)
    a = np.array([60, 128, 128, 40, 128, 128]) + rng.normal(0, 2, (23, 6))
    b = np.array([150, 140, 110, 40, 128, 128]) + rng.normal(0, 2, (17, 6))
    assert split_points(np.concatenate([a, b])) == [23]
    assert split_points(a) == []  # one person's noise is not a switch
    c = np.array([100, 100, 170, 200, 128, 128]) + rng.normal(0, 2, (12, 6))
    assert split_points(np.concatenate([a[:10], b[:10], c])) == [10, 20]  # two switches, three people


def test_small_gradual_changes_are_not_cut() -> None:
    drift = np.linspace(0, 10, 40)[:, None] * np.ones(6)  # walking into shade: slow, small
    assert split_points(100 + drift) == []


def test_signature_reads_upper_and_lower_colours() -> None:
    image = np.zeros((100, 50, 3), np.uint8)
    image[:50] = (0, 0, 255)  # red top (BGR)
    image[50:] = (255, 0, 0)  # blue bottom
    sig = signature(image, np.array([0, 0, 50, 100], np.float32))
    assert sig[1] > 150 and sig[5] < 60  # Lab a* of the top: red is high; b* of the bottom: blue is low


def frames_with_switch(n: int = 30, switch: int = 15) -> list[tuple[Frame, Detections]]:
    """One box walking right; its pixels show a red-shirted person before ``switch`` and a green one after."""
    out = []
    for i in range(n):
        image = np.full((240, 320, 3), 90, np.uint8)
        x = 20 + 6 * i
        top, bottom = ((0, 0, 200), (40, 40, 40)) if i < switch else ((0, 200, 0), (200, 200, 200))
        image[60:100, x:x + 30] = top
        image[100:140, x:x + 30] = bottom
        dets = Detections(np.array([[x, 60, x + 30, 140]], np.float32), np.array([0.9], np.float32))
        out.append((Frame("cam", "v.avi", i, i / 10.0, image), dets))
    return out


def test_builder_cuts_a_generated_identity_switch_into_two_tracklets() -> None:
    for split, expected in ((True, 2), (False, 1)):
        builder = TrackletBuilder("cam", "v.avi", TrackerConfig(split_switches=split), fps=10.0)
        for frame, dets in frames_with_switch():
            builder.update(frame, dets)
        tracklets = builder.finish()
        assert len(tracklets) == expected
    first, second = tracklets_after = sorted(
        _run_split(), key=lambda t: int(t.frames[0]))
    assert int(first.frames[-1]) == 14 and int(second.frames[0]) == 15
    assert second.track_id == first.track_id + SPLIT_ID_STEP
    assert all(int(c.frame) >= 15 for c in second.crops) and all(int(c.frame) < 15 for c in first.crops)
    assert len(tracklets_after) == 2


def _run_split() -> list:
    builder = TrackletBuilder("cam", "v.avi", TrackerConfig(), fps=10.0)
    for frame, dets in frames_with_switch():
        builder.update(frame, dets)
    return builder.finish()
