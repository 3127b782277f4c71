"""The synthetic multi-camera scene: deterministic, parseable ground truth, people in several cameras."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reid.video.manifest import load_manifest
from reid.video.motio import read_mot
from reid.video.scene import render_scene

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
