from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reid.data import load_images
from reid.errors import DatasetError


def test_decodes_rgb_resized(tmp_path: Path, jpg) -> None:
    paths = [str(jpg(tmp_path / f"{i}.jpg", value=40 * i, size=(20, 10))) for i in range(3)]
    x = load_images(paths, 8, 4, progress=False)
    assert x.shape == (3, 3, 8, 4) and x.dtype == torch.uint8
    # right half is flat grey ``value``; left half has blue (BGR channel 0) = 255 - value -> RGB channel 2
    assert abs(int(x[2, 1, 4, 3]) - 80) <= 3
    assert abs(int(x[2, 2, 4, 0]) - 175) <= 3


def test_corrupt_jpeg_is_a_dataset_error(tmp_path: Path, jpg) -> None:
    good = jpg(tmp_path / "good.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 garbage")
    with pytest.raises(DatasetError, match=r"bad.jpg: cannot decode image \(corrupt or not an image\)"):
        load_images([str(good), str(bad)], 8, 4, progress=False)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(DatasetError, match="truncated.jpg: cannot decode image"):
        load_images([str(truncated)], 8, 4, progress=False)


def test_npy_cache_reused_and_rebuilt(tmp_path: Path, jpg) -> None:
    paths = [str(jpg(tmp_path / f"{i}.jpg", value=30 * i)) for i in range(4)]
    cache = tmp_path / "cache" / "train.npy"
    first = load_images(paths, 16, 8, cache_path=cache, progress=False)
    assert cache.is_file() and Path(f"{cache}.key").is_file()
    for p in paths:  # the images are gone: the second call can only come from the cache
        Path(p).unlink()
    again = load_images(paths, 16, 8, cache_path=cache, progress=False)
    assert torch.equal(first, again)
    with pytest.raises(DatasetError):  # another size is another key: it rebuilds (and needs the files)
        load_images(paths, 8, 4, cache_path=cache, progress=False)
