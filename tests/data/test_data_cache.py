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


def test_cache_place_keeps_the_set_on_the_gpu_only_when_it_takes_at_most_half_its_free_memory() -> None:
    from reid.data.cache import cache_place

    assert cache_place(1_300_000_000, 80_000_000_000) == "device"  # Market-1501 train on an 80 GB GPU
    assert cache_place(1_300_000_000, 2_000_000_000) == "host"  # ... with 2 GB free
    assert cache_place(1_000, 2_000) == "device" and cache_place(1_001, 2_000) == "host"
    assert cache_place(10, 10**9, "host") == "host" and cache_place(10**12, 10, "device") == "device"
    with pytest.raises(ValueError, match="'gpu'"):
        cache_place(1, 1, "gpu")


def test_place_images_on_the_cpu_and_read_batch_give_the_indexed_images() -> None:
    from reid.data.cache import place_images, read_batch

    images = torch.randint(0, 256, (10, 3, 8, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for where in ("auto", "device", "host"):
        assert torch.equal(place_images(images, torch.device("cpu"), where), images)
    with pytest.raises(ValueError, match="known: auto, device, host"):
        place_images(images, torch.device("cpu"), "disk")
    index = [7, 0, 7, 3]
    batch = read_batch(images, index, torch.device("cpu"))
    assert batch.dtype == torch.uint8 and torch.equal(batch, images[index])


def test_unknown_cache_place_in_the_config_is_one_line() -> None:
    from reid.config import ConfigError, DataConfig

    assert DataConfig(cache_on="host").cache_on == "host"
    with pytest.raises(ConfigError, match="data.cache_on must be one of auto, device, host, got 'gpu'"):
        DataConfig(cache_on="gpu")
