"""Decode-once image cache: every crop decoded and resized a single time into one uint8 tensor.

Training then gathers batches by index from this tensor (no per-step JPEG decoding, no worker
processes). With ``cache_path`` the array is kept as a ``.npy`` file next to a key file and memory-
mapped on later runs; the key is a hash of the path list and the size, so a changed data set or
input size rebuilds it. (Edits to an image file under an unchanged name are not detected.)
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from reid.config import CACHE_PLACES
from reid.errors import DatasetError

log = logging.getLogger(__name__)


def _corrupt(path: str) -> DatasetError:
    return DatasetError(f"{path}: cannot decode image (corrupt or not an image)")


def decode(path: str, height: int, width: int) -> np.ndarray:
    """One image as (3, height, width) uint8 RGB, resized bilinearly; DatasetError if unreadable.

    cv2 decodes; a JPEG without its end marker (truncated) is re-checked by PIL, which refuses it.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read image ({exc.strerror})") from exc
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise _corrupt(path)
    if data[:2] == b"\xff\xd8" and data.rstrip(b"\x00")[-2:] != b"\xff\xd9":
        try:  # no end-of-image marker: truncated, or trailing bytes after a complete image
            with Image.open(path) as im:
                im.load()
        except OSError as exc:
            raise _corrupt(path) from exc
    if bgr.shape[:2] != (height, width):
        bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1))


def _key(paths: Sequence[str], height: int, width: int) -> str:
    h = hashlib.sha256(f"{height}x{width}\n".encode())
    for p in paths:
        h.update(str(p).encode())
        h.update(b"\n")
    return h.hexdigest()


def _decode_all(paths: Sequence[str], height: int, width: int, out: np.ndarray, progress: bool) -> None:
    """Fill ``out`` (N, 3, H, W) uint8; cv2 releases the GIL, so a few threads decode in parallel."""
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        images = pool.map(lambda p: decode(p, height, width), paths)
        for i, img in enumerate(tqdm(images, total=len(paths), desc="decoding images", disable=not progress,
                                     unit="img")):
            out[i] = img


def load_images(paths: Sequence[str], height: int, width: int, cache_path: str | Path | None = None,
                progress: bool = True) -> torch.Tensor:
    """All images of ``paths`` as a (N, 3, height, width) uint8 RGB tensor, in the order given.

    With ``cache_path`` (a .npy file) the decoded array is stored there, plus ``<cache_path>.key``;
    a later call with the same paths and size memory-maps it (copy-on-write) instead of decoding.
    """
    paths = [str(p) for p in paths]
    n = len(paths)
    if cache_path is None:
        arr = np.empty((n, 3, height, width), np.uint8)
        _decode_all(paths, height, width, arr, progress)
        return torch.from_numpy(arr)

    cache_path = Path(cache_path)
    key_path = Path(f"{cache_path}.key")
    key = _key(paths, height, width)
    if cache_path.is_file() and key_path.is_file() and key_path.read_text().strip() == key:
        arr = np.load(cache_path, mmap_mode="c")
        if arr.shape == (n, 3, height, width) and arr.dtype == np.uint8:
            log.info("image cache %s reused (%d images)", cache_path, n)
            return torch.from_numpy(arr)
    log.info("building image cache %s (%d images, %dx%d)", cache_path, n, height, width)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(cache_path.name + ".tmp.npy")
    key_path.unlink(missing_ok=True)
    arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, 3, height, width))
    try:
        _decode_all(paths, height, width, arr, progress)
        arr.flush()
    except BaseException:
        del arr
        tmp.unlink(missing_ok=True)
        raise
    del arr
    os.replace(tmp, cache_path)
    key_path.write_text(key + "\n")
    return torch.from_numpy(np.load(cache_path, mmap_mode="c"))


DEVICE_SHARE = 0.5  # "auto" keeps the set on the GPU when it takes at most this share of its free memory


def cache_place(nbytes: int, free_bytes: int, where: str = "auto") -> str:
    """"device" or "host" for a decoded set of ``nbytes`` given the GPU's ``free_bytes``; ``where`` forces one."""
    if where not in CACHE_PLACES:
        raise ValueError(f"cache place {where!r}; known: {', '.join(CACHE_PLACES)}")
    if where != "auto":
        return where
    return "device" if nbytes <= DEVICE_SHARE * free_bytes else "host"


def place_images(images: torch.Tensor, device: torch.device, where: str = "auto") -> torch.Tensor:
    """The decoded training set where batches are read from: on a CUDA ``device`` itself, or in pinned host
    memory when it does not fit (``where="auto"``) or is asked for (``"host"``); on the CPU, unchanged."""
    if device.type != "cuda":
        cache_place(0, 0, where)  # still refuse an unknown place
        return images.to(device)
    free, _ = torch.cuda.mem_get_info(device)
    if cache_place(images.nbytes, free, where) == "device":
        return images.to(device)
    log.info("training images kept in pinned host memory (%.2f GB; %.2f GB free on %s)",
             images.nbytes / 1e9, free / 1e9, device)
    return images.pin_memory()


def read_batch(images: torch.Tensor, index: Sequence[int], device: torch.device) -> torch.Tensor:
    """``images[index]`` on ``device``, gathered on the host into pinned memory (when ``device`` is CUDA) and
    copied without blocking: the batch source of a set kept in host memory."""
    host = torch.empty((len(index), *images.shape[1:]), dtype=images.dtype, pin_memory=device.type == "cuda")
    torch.index_select(images, 0, torch.as_tensor(index, dtype=torch.long), out=host)
    return host.to(device, non_blocking=True)
