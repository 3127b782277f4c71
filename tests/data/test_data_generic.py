from __future__ import annotations

from pathlib import Path

import pytest

from reid.data import generic, load_dataset
from reid.errors import DatasetError


def make_crops(root: Path, write_jpg) -> None:
    """10 ids: ids 0-7 in cameras 1 and 2 (3 crops each), ids 8-9 only in camera 1; nested folders."""
    for pid in range(10):
        cams = (1, 2) if pid < 8 else (1,)
        for cam in cams:
            for f in range(3):
                write_jpg(root / f"cam{cam}" / f"{pid:04d}_c{cam}_f{100 * pid + f:06d}.jpg")
    write_jpg(root / "cam1" / "-1_c1_f000001.jpg")
    (root / "notes.txt").write_text("ignored")


def test_split_by_identity(tmp_path: Path, jpg) -> None:
    make_crops(tmp_path, jpg)
    ds = generic.load(tmp_path, test_fraction=0.5, seed=1)
    assert ds.num_train_pids == 5 and sorted({s.pid for s in ds.train}) == list(range(5))
    test_paths = {s.path for s in ds.query + ds.gallery}
    assert not test_paths & {s.path for s in ds.train}  # identities split, no image in both
    assert len(ds.train) + len(test_paths) == 8 * 6 + 2 * 3  # junk dropped, everything else used
    pairs = [(s.pid, s.camid) for s in ds.query]
    assert len(pairs) == len(set(pairs))  # one query per (pid, camera)
    single_cam = {s.pid for s in ds.gallery} - {s.pid for s in ds.query}
    assert single_cam <= {8, 9}  # only multi-camera identities give queries
    for s in ds.query:  # every query has a cross-camera match in the gallery
        assert any(g.pid == s.pid and g.camid != s.camid for g in ds.gallery)


def test_seeded(tmp_path: Path, jpg) -> None:
    make_crops(tmp_path, jpg)
    assert generic.load(tmp_path, seed=3) == generic.load(tmp_path, seed=3)
    assert {s.path for s in generic.load(tmp_path, seed=3).query} != {s.path for s in generic.load(tmp_path, seed=4).query}


def test_auto_format_picks_generic(tmp_path: Path, jpg) -> None:
    make_crops(tmp_path, jpg)
    assert load_dataset(tmp_path).num_train_pids == 5


def test_errors(tmp_path: Path, jpg) -> None:
    with pytest.raises(DatasetError, match="folder not found"):
        generic.load(tmp_path / "missing")
    with pytest.raises(DatasetError, match="no .jpg images"):
        generic.load(tmp_path)
    jpg(tmp_path / "person.jpg")
    with pytest.raises(DatasetError, match="person.jpg: file name is not PID_cCAM"):
        generic.load(tmp_path)
