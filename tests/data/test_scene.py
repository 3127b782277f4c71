"""The synthetic multi-camera scene: deterministic, parseable ground truth, people in several cameras."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reid.data.motio import read_mot
from reid.data.scenes.scene import render_scene
from reid.video.manifest import load_manifest

SMALL = {"people": 4, "cameras": 3, "seconds": 24.0, "fps": 4.0, "width": 160, "height": 120}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory):
    return render_scene(tmp_path_factory.mktemp("scene"), seed=3, **SMALL)


def frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            return out
        out.append(frame)


def test_files_and_manifest(scene) -> None:
    manifest = load_manifest(scene.manifest)
    assert [c.name for c in manifest.cameras] == ["cam1", "cam2", "cam3"]
    assert all(Path(c.files[0]).is_file() and c.start_time == 0.0 for c in manifest.cameras)
    assert set(manifest.transit) == {"cam1->cam2", "cam1->cam3", "cam2->cam3"}
    video = frames(scene.videos["cam1"])
    assert len(video) == 96 and video[0].shape == (120, 160, 3)


def test_ground_truth_parses_and_fits_the_frame(scene) -> None:
    for camera, path in scene.gt.items():
        gt = read_mot(path)
        assert gt, f"{camera} has no ground truth"
        assert min(gt) >= 1 and max(gt) <= 96
        boxes = np.concatenate([f.boxes for f in gt.values()])
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 160).all() and (boxes[:, 3] <= 120).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


def test_people_appear_in_two_or_more_cameras(scene) -> None:
    seen: dict[int, set[str]] = {}
    for camera, path in scene.gt.items():
        for f in read_mot(path).values():
            for pid in f.ids.tolist():
                seen.setdefault(pid, set()).add(camera)
    assert sorted(seen) == [1, 2, 3, 4]  # global person ids
    assert all(len(cams) >= 2 for cams in seen.values())


def test_someone_walks_past_someone(scene) -> None:
    """Two people in one view at once, walking in opposite directions."""
    first = {v.person: v for v in reversed(scene.visits)}
    assert first[2].camera == first[1].camera and first[2].direction == -first[1].direction


def test_box_sits_on_the_person(scene) -> None:
    """The ground-truth box covers pixels that differ from the empty background."""
    gt = read_mot(scene.gt["cam2"])
    video = frames(scene.videos["cam2"])
    empty = [f for f in range(1, 97) if f not in gt]
    frame = max(gt, key=lambda f: (gt[f].boxes[:, 3] - gt[f].boxes[:, 1]).max())
    x1, y1, x2, y2 = gt[frame].boxes[np.argmax(gt[frame].boxes[:, 3] - gt[frame].boxes[:, 1])].astype(int)
    diff = np.abs(video[frame - 1].astype(int) - video[empty[0] - 1].astype(int)).sum(-1)
    assert diff[y1:y2, x1:x2].mean() > 3 * diff.mean()


def test_deterministic(scene, tmp_path) -> None:
    again = render_scene(tmp_path, seed=3, **SMALL)
    assert again.visits == scene.visits
    for camera in scene.gt:
        assert again.gt[camera].read_text() == scene.gt[camera].read_text()
    assert again.manifest.read_text() == scene.manifest.read_text()
    a, b = frames(scene.videos["cam3"]), frames(again.videos["cam3"])
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    other = render_scene(tmp_path / "other", seed=4, **SMALL)
    assert other.visits != scene.visits


def test_too_short_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="too short"):
        render_scene(tmp_path, people=2, cameras=2, seconds=3.0, fps=2.0, width=160, height=120)


# --- the hard scene: two halves of one forecourt (reid.data.scenes.forecourt) ---------------------------------

HARD = {"people": 10, "seconds": 40.0, "fps": 4.0, "width": 96, "height": 144}
W, H = HARD["width"], HARD["height"]


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory):
    return render_scene(tmp_path_factory.mktemp("hard"), seed=1, hard=True, **HARD)


def boxes_by_person(path: Path) -> dict[int, list[tuple[int, np.ndarray]]]:
    """person id -> [(frame, xyxy box)] in frame order."""
    out: dict[int, list[tuple[int, np.ndarray]]] = {}
    for frame, mot in sorted(read_mot(path).items()):
        for pid, box in zip(mot.ids.tolist(), mot.boxes, strict=True):
            out.setdefault(pid, []).append((frame, box))
    return out


def crossings(hard) -> list[tuple[int, int, np.ndarray, int, np.ndarray]]:
    """(person, frame at the left view's right edge, box, frame at the right view's left edge, box) of every
    pass through the cut, paired by the nearest frames."""
    left, right = boxes_by_person(hard.gt["left"]), boxes_by_person(hard.gt["right"])
    out = []
    for pid in sorted(set(left) & set(right)):
        at_cut_l = [(f, b) for f, b in left[pid] if b[2] >= W - 1]
        at_cut_r = [(f, b) for f, b in right[pid] if b[0] <= 0]
        for fl, bl in at_cut_l:
            fr, br = min(at_cut_r, key=lambda fb: abs(fb[0] - fl), default=(None, None))
            if fr is not None and abs(fr - fl) <= 1:
                out.append((pid, fl, bl, fr, br))
    return out


def test_hard_files_and_manifest(hard) -> None:
    manifest = load_manifest(hard.manifest)
    assert hard.manifest.name == "cameras.yaml"
    assert [c.name for c in manifest.cameras] == ["left", "right"]
    assert all(Path(c.files[0]).is_file() and c.start_time == 0.0 for c in manifest.cameras)
    assert set(manifest.transit) == {"left->right", "right->left"} and manifest.transit["left->right"][0] < 0
    for camera in ("left", "right"):
        video = frames(hard.videos[camera])
        assert len(video) == 160 and video[0].shape == (H, W, 3)
    assert hard.visits == () and len(hard.walks) == HARD["people"]


def test_hard_ground_truth_fits_and_names_everyone(hard) -> None:
    seen: set[int] = set()
    for path in hard.gt.values():
        gt = read_mot(path)
        boxes = np.concatenate([f.boxes for f in gt.values()])
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= W).all() and (boxes[:, 3] <= H).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        seen |= {int(i) for f in gt.values() for i in f.ids}
        visibility = [float(line.split(",")[8]) for line in path.read_text().splitlines()]
        assert min(visibility) >= 0.2 and max(visibility) <= 1.0
    assert seen == set(range(1, HARD["people"] + 1))


def test_detector_like_boxes_are_the_truth_jittered_with_misses(hard) -> None:
    for camera in ("left", "right"):
        gt, det = read_mot(hard.gt[camera]), read_mot(hard.detections[camera])
        assert set(det) <= set(gt) and all((d.ids == -1).all() for d in det.values())
        n_gt, n_det = sum(len(f.ids) for f in gt.values()), sum(len(f.ids) for f in det.values())
        assert 0.7 * n_gt < n_det < n_gt  # some missed
        shifts = [np.abs(d.boxes[:, None, :] - gt[f].boxes[None, :, :]).sum(-1).min(1) for f, d in det.items()]
        shift = np.concatenate(shifts)
        assert 0 < np.median(shift) < 0.5 * H / 4  # near a true box, not on it


def test_people_cross_the_cut_seen_by_both_cameras_at_once(hard) -> None:
    """Leaving the left view at its right edge = entering the right view at its left edge: same time (within
    a frame), same height in the frame."""
    passes = crossings(hard)
    assert len({p for p, *_ in passes}) >= 2
    assert any(fl == fr for _, fl, _, fr, _ in passes)  # seen in both views in the same frame
    for _, _, bl, _, br in passes:
        assert abs(bl[3] - br[3]) < 0.1 * H  # feet at about the same row


def test_people_enter_and_leave_through_the_outer_borders(hard) -> None:
    left, right = boxes_by_person(hard.gt["left"]), boxes_by_person(hard.gt["right"])
    outer = 0
    for track, edge in ((left, lambda b: b[0] <= 0 or b[3] >= H), (right, lambda b: b[2] >= W or b[3] >= H)):
        for rows in track.values():
            outer += edge(rows[0][1]) + edge(rows[-1][1])  # first or last box on an outer border
    assert outer >= 4


def test_people_occlude_each_other(hard) -> None:
    """Some frame has two people's boxes overlapping by more than a third of the smaller box."""
    best = 0.0
    for path in hard.gt.values():
        for mot in read_mot(path).values():
            b = mot.boxes
            for i in range(len(b)):
                for j in range(i + 1, len(b)):
                    w = min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0])
                    h = min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1])
                    small = min((b[k, 2] - b[k, 0]) * (b[k, 3] - b[k, 1]) for k in (i, j))
                    best = max(best, max(0.0, w) * max(0.0, h) / small)
    assert best > 1 / 3


def test_cameras_differ_in_colour_response(hard) -> None:
    """The same person at the cut, in the same frame: the left camera sees them redder than the right one."""
    videos = {c: frames(hard.videos[c]) for c in ("left", "right")}
    ratios = {"left": [], "right": []}
    for _, fl, bl, fr, br in crossings(hard):
        for cam, f, b in (("left", fl, bl), ("right", fr, br)):
            x1, y1, x2, y2 = b.astype(int)
            bgr = videos[cam][f - 1][y1:y2, x1:x2].reshape(-1, 3).astype(float).mean(0)
            ratios[cam].append(bgr[2] / max(bgr[0], 1.0))  # red / blue
    assert ratios["left"] and np.mean(ratios["left"]) > 1.1 * np.mean(ratios["right"])


def test_right_camera_loses_resolution() -> None:
    from dataclasses import replace

    from reid.data.scenes.forecourt import VIEW_LOOKS, apply_look

    checks = np.kron((np.indices((36, 24)).sum(0) % 2) * 200.0 + 20.0, np.ones((4, 4)))[..., None].repeat(3, -1)
    sharp = [apply_look(checks, replace(look, noise=0.0), np.random.default_rng(0)) for look in VIEW_LOOKS]
    edges = [np.abs(np.diff(s.astype(float), axis=1)).mean() for s in sharp]
    assert edges[1] < 0.8 * edges[0]
    grey = np.full((8, 8, 3), 128.0, np.float32)
    means = [apply_look(grey, replace(look, noise=0.0), np.random.default_rng(0)).mean((0, 1)) for look in VIEW_LOOKS]
    assert np.abs(means[0] - means[1]).max() > 10  # gain / gamma / white balance differ


def test_crowd_is_dark_with_look_alike_pairs() -> None:
    from reid.data.scenes.people import LOOK_ALIKE_SHARE, NUDGE, sample_crowd

    people, copies = sample_crowd(200, np.random.default_rng(0))
    dark = [max(p.shirt) < 110 and max(p.trousers) < 110 for p in people]
    assert sum(dark) >= 0.6 * len(people)
    pairs = [(people[k - 1], people[k]) for k in range(1, 200) if copies[k]]
    assert abs(len(pairs) / 100 - LOOK_ALIKE_SHARE) <= 0.1 and len(pairs) >= 10
    for a, b in pairs:
        assert np.abs(np.subtract(a.shirt, b.shirt)).max() <= NUDGE
        assert np.abs(np.subtract(a.trousers, b.trousers)).max() <= NUDGE


def test_ground_matches_the_sample_scale() -> None:
    """A 1.7 m person is 56 px tall at the far edge (30 % down a 576-px frame) and 140 px at the near edge."""
    from reid.data.scenes.walks import Ground

    g = Ground(768, 576)
    _, v_near, s_near = g.project(0.0, 0.0)
    _, v_far, s_far = g.project(0.0, g.far)
    assert v_near == pytest.approx(0.98 * 576) and 1.7 * s_near == pytest.approx(140)
    assert v_far == pytest.approx(0.30 * 576) and 1.7 * s_far == pytest.approx(56)


def test_walk_stops_and_ends() -> None:
    from reid.data.scenes.walks import Walk

    w = Walk(1, 2.0, ((0.0, 0.0), (4.0, 0.0)), speed=1.0, stop_at=1.0, stop_for=3.0)
    assert w.at(1.9) is None and w.duration == pytest.approx(7.0)
    assert w.at(3.0)[0] == pytest.approx(1.0) and w.at(5.5)[0] == pytest.approx(1.0)  # standing
    assert w.at(7.0)[0] == pytest.approx(2.0) and w.at(9.5) is None


def test_hard_deterministic_and_two_cameras_only(hard, tmp_path) -> None:
    again = render_scene(tmp_path / "again", seed=1, hard=True, **HARD)
    assert again.walks == hard.walks
    assert all(again.gt[c].read_text() == hard.gt[c].read_text() for c in hard.gt)
    with pytest.raises(ValueError, match="two cameras"):
        render_scene(tmp_path / "three", cameras=3, hard=True, **HARD)
