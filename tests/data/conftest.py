"""Tiny hand-built image folders for the data tests (never downloads)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest


def write_jpg(path: Path, value: int = 128, size: tuple[int, int] = (16, 8)) -> Path:
    """A flat-colour JPEG of (height, width) ``size``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((*size, 3), value, np.uint8)
    img[:, : size[1] // 2, 0] = 255 - value  # left half differs so flips are visible
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def jpg() -> Callable[..., Path]:
    """The ``write_jpg`` helper, as a fixture."""
    return write_jpg


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[[str, Iterable[str]], Path]:
    """``make_folder("bounding_box_train", names)`` writes flat JPEGs under tmp_path/Market/split."""

    def make(split: str, names: Iterable[str]) -> Path:
        folder = tmp_path / "Market" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            write_jpg(folder / name, value=(37 * i) % 256)
        return folder

    return make


@pytest.fixture
def market(make_folder: Callable[[str, Iterable[str]], Path]) -> Path:
    """A 3-split Market folder: train pids 5, 9, 12 (+ junk); test pids 2, 3; distractors; junk."""
    make_folder("bounding_box_train", ["0005_c1s1_000001_01.jpg", "0005_c2s1_000002_01.jpg",
                                       "0009_c1s1_000003_01.jpg", "0012_c3s1_000004_01.jpg",
                                       "-1_c1s1_000005_01.jpg"])
    make_folder("query", ["0002_c1s1_000001_01.jpg", "0003_c2s1_000002_01.jpg"])
    gallery = make_folder("bounding_box_test", ["0002_c2s1_000010_01.jpg", "0003_c1s1_000011_01.jpg",
                                                "0000_c3s1_000012_01.jpg", "-1_c1s1_000013_01.jpg"])
    (gallery / "Thumbs.db").write_bytes(b"not an image")
    return gallery.parent
