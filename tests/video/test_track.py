"""TrackletBuilder on synthetic detection sequences with known answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from reid.config import ConfigError, TrackerConfig
from reid.registry import UnknownNameError
from reid.video.track import BoxesAdapter, TrackletBuilder, lost_track_frames, make_tracker, tracker_settings
from reid.video.types import Detections, Frame, Tracklet

H, W = 240, 320
BoxFn = Callable[[int], list[float] | None]  # frame -> xyxy box, or None when the person is not seen


def textured(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def run(cfg: TrackerConfig, people: list[BoxFn], frames: int = 20, scores: list[float] | None = None) -> list[Tracklet]:
    builder = TrackletBuilder("cam", "v.avi", cfg, fps=10.0)
    image = textured()
    for i in range(frames):
        boxes, conf = [], []
        for p, fn in enumerate(people):
            box = fn(i)
            if box is not None:
                boxes.append(box)
                conf.append(scores[p] if scores else 0.9)
        dets = Detections(np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(conf, np.float32))
        ids = builder.update(Frame("cam", "v.avi", i, i / 10.0, image), dets)
        assert ids.shape == (len(dets),) and ids.dtype == np.int64
    return builder.finish()


def walker(x0: float, y0: float, vx: float, vy: float = 0.0, w: float = 30, h: float = 80, start: int = 0) -> BoxFn:
    def box(i: int) -> list[float] | None:
        if i < start:
            return None
        x, y = x0 + vx * i, y0 + vy * i
        return [x, y, x + w, y + h]

    return box


def test_two_walkers_give_two_tracklets_with_all_their_detections() -> None:
    out = run(TrackerConfig(min_length=3), [walker(10, 40, 6), walker(200, 120, -4)])
    assert len(out) == 2
    a, b = sorted(out, key=lambda t: t.boxes[0, 0])
    assert a.track_id != b.track_id
    assert a.frames.tolist() == list(range(20)) and a.frames.dtype == np.int64
    np.testing.assert_allclose(a.boxes[:, 0], 10 + 6 * np.arange(20))  # the detector's boxes, not the Kalman's
    np.testing.assert_allclose(b.boxes[:, 0], 200 - 4 * np.arange(20))
    np.testing.assert_allclose(a.times, np.arange(20) / 10.0)
    assert a.boxes.dtype == np.float32 and a.scores.dtype == np.float32 and a.embedding is None
    assert (a.camera, a.video) == ("cam", "v.avi")


def test_crossing_walkers_keep_their_ids() -> None:
    # left-to-right and right-to-left at the same height: the boxes overlap fully around frame 12
    out = run(TrackerConfig(min_length=3), [walker(20, 60, 10), walker(260, 70, -10)], frames=25)
    assert len(out) == 2
    for t in out:
        steps = np.diff(t.boxes[:, 0])
        assert len(t.frames) == 25 and (np.all(steps == 10) or np.all(steps == -10)), steps


def test_a_later_track_keeps_its_first_detection() -> None:
    # ByteTrack confirms a track on its second detection; the builder still records the first one
    out = run(TrackerConfig(min_length=3), [walker(10, 40, 5), walker(200, 100, -5, start=6)])
    late = max(out, key=lambda t: t.frames[0])
    assert late.frames.tolist() == list(range(6, 20))


def test_filters_drop_short_small_and_border_tracks() -> None:
    people = [
        walker(100, 40, 2),  # kept
        walker(20, 150, 3, start=16),  # short: 4 detections
        walker(250, 40, -2, w=10, h=25),  # small: 25 px tall
        walker(0, 100, 0, w=30, h=80),  # standing at the left border
    ]
    cfg = TrackerConfig(min_length=5, min_box_height=40, border_margin=3)
    kept = run(cfg, people)
    assert len(kept) == 1 and kept[0].boxes[0, 0] == 100
    loose = run(TrackerConfig(min_length=1, min_box_height=0, border_margin=0), people)
    assert len(loose) == 4


def test_best_k_crops_are_bounded_copies_best_first() -> None:
    k = 3
    scores_by_frame = [0.3 + 0.6 * ((i * 7) % 20) / 20 for i in range(20)]  # all different
    builder = TrackletBuilder("cam", "v.avi", TrackerConfig(min_length=1, best_k=k), fps=10.0)
    image = np.tile(textured(1)[:, :5], (1, W // 5, 1))  # period 5 px: the box moves 5 px a frame, crops are equal
    for i, s in enumerate(scores_by_frame):
        box = np.array([[10 + 5 * i, 40, 40 + 5 * i, 180]], np.float32)
        builder.update(Frame("cam", "v.avi", i, i / 10, image), Detections(box, np.array([s], np.float32)))
        assert all(len(t.crops) <= k for t in builder._tracks.values())
    (t,) = builder.finish()
    assert len(t.crops) == k
    qualities = [c.quality for c in t.crops]
    assert qualities == sorted(qualities, reverse=True)
    best_frames = sorted(range(20), key=lambda i: -scores_by_frame[i])[:k]  # same size and texture: score decides
    assert sorted(c.frame for c in t.crops) == sorted(best_frames)
    crop = t.crops[0]
    x = 10 + 5 * crop.frame
    assert crop.image.dtype == np.uint8 and crop.image.shape == (140, 30, 3)
    np.testing.assert_array_equal(crop.image, image[40:180, x : x + 30])
    assert not np.shares_memory(crop.image, image)


def test_untracked_low_score_detections_get_id_minus_one() -> None:
    builder = TrackletBuilder("cam", "v.avi", TrackerConfig(), fps=10.0)
    dets = Detections(np.array([[10, 10, 40, 90], [100, 10, 130, 90]], np.float32), np.array([0.9, 0.05], np.float32))
    ids = builder.update(Frame("cam", "v.avi", 0, 0.0, textured()), dets)
    assert ids[0] >= 1 and ids[1] == -1
    builder.update(Frame("cam", "v.avi", 1, 0.1, textured()), Detections.empty())  # empty frames are fine
    assert builder.finish() == []  # 1 detection < min_length


def test_botsort_runs_without_gmc_and_reid() -> None:
    settings = tracker_settings(TrackerConfig(kind="botsort"))
    assert settings["gmc_method"] == "none" and settings["with_reid"] is False
    out = run(TrackerConfig(kind="botsort", min_length=3), [walker(10, 40, 6), walker(200, 120, -4)])
    assert len(out) == 2


def test_tracker_settings_overrides_and_unknown_keys() -> None:
    settings = tracker_settings(TrackerConfig(settings={"track_buffer": 90, "match_thresh": 0.7}))
    assert settings["track_buffer"] == 90 and settings["match_thresh"] == 0.7
    assert lost_track_frames(90, rate=5.0) == 15  # 90 frames at 30 fps = 3 s = 15 frames at 5 fps
    assert make_tracker(TrackerConfig(settings={"track_buffer": 90}), rate=5.0).args.track_buffer == 15
    with pytest.raises(ConfigError, match="unknown key\\(s\\) gmc_method for bytetrack") as err:
        tracker_settings(TrackerConfig(settings={"gmc_method": "orb"}))
    assert "\n" not in str(err.value)
    with pytest.raises(UnknownNameError, match="unknown tracker 'sort'; known: bytetrack, botsort"):
        tracker_settings(TrackerConfig(kind="sort"))


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
@pytest.mark.parametrize("gap, same_id", [(6, True), (14, False)])
def test_a_lost_track_is_kept_for_track_buffer_frames_at_30_fps(kind: str, gap: int, same_id: bool) -> None:
    """Fed at 10 fps, ``track_buffer: 30`` keeps a lost track for 10 frames (1 s): a person hidden for 6 frames
    comes back under the same id, one hidden for 14 under a new one. Checked through behaviour, not through the
    tracker's attribute, whose name changed between ultralytics versions."""
    standing = walker(100, 60, 0)

    def hidden(i: int) -> list[float] | None:
        return None if 10 <= i < 10 + gap else standing(i)

    out = run(TrackerConfig(kind=kind, min_length=3, settings={"track_buffer": 30}), [hidden], frames=20 + gap)
    assert len(out) == (1 if same_id else 2)
    assert sum(len(t.frames) for t in out) == 20


def test_boxes_adapter_is_what_the_trackers_read() -> None:
    boxes = BoxesAdapter(np.array([[10, 20, 30, 60], [0, 0, 4, 4]]), np.array([0.9, 0.1]))
    np.testing.assert_allclose(boxes.xywh, [[20, 40, 20, 40], [2, 2, 4, 4]])
    sub = boxes[np.array([True, False])]
    assert len(sub) == 1 and sub.conf.tolist() == pytest.approx([0.9]) and sub.cls.tolist() == [0.0]
