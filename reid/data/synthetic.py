"""Synthetic Market-1501-style data set: identity in appearance, nuisance from the camera.

Each identity is an ``Appearance`` (see ``reid.data.synthetic_person``). Each camera has a fixed
profile: illumination gain and gamma, a colour cast, blur, sensor noise, a background (wall and floor
colours, texture) and a typical person scale. Each image adds its own jitter: scale, position, walking
phase, facing (mirror), brightness, and sometimes an occluding box. A model has to learn colour
constancy and background invariance to match people across cameras, which an untrained network does
not have, yet the task is easy enough for a small ResNet trained a few CPU minutes.

``generate`` writes the Market-1501 folder layout (bounding_box_train, bounding_box_test, query) with
``PPPP_cCsS_FFFFFF_NN.jpg`` names, junk (-1) and distractor (0000) images in the gallery; it is a
pure function of its arguments (same seed, same bytes).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reid.data.synthetic_person import Appearance, render_person, sample_appearance

__all__ = ["Appearance", "CameraProfile", "camera_profile", "generate", "render_crop", "render_person",
           "sample_appearance"]

log = logging.getLogger(__name__)

SPLITS = ("bounding_box_train", "bounding_box_test", "query")
_JPEG_QUALITY = 92


@dataclass(frozen=True)
class CameraProfile:
    """The nuisance one camera adds to every image it takes."""

    gain: float  # brightness multiplier
    gamma: float  # tone curve exponent on [0, 1] intensities
    cast: tuple[float, float, float]  # RGB channel multipliers (white balance error)
    blur: float  # Gaussian sigma in pixels at 256x128
    noise: float  # sensor noise std in grey levels
    wall: tuple[int, int, int]  # background colours, RGB
    floor: tuple[int, int, int]
    horizon: float  # wall/floor boundary, fraction of crop height
    texture: str  # smooth | tiles | bars
    scale: float  # typical body height / crop height


@functools.lru_cache(maxsize=64)
def camera_profile(camid: int) -> CameraProfile:
    """The fixed profile of camera ``camid`` (0-based); the same for every data set and seed."""
    rng = np.random.default_rng([7919, camid])
    cast = rng.uniform(0.78, 1.22, 3)
    cast = cast / cast.mean()
    return CameraProfile(
        gain=float(rng.uniform(0.7, 1.25)),
        gamma=float(rng.uniform(0.75, 1.35)),
        cast=(float(cast[0]), float(cast[1]), float(cast[2])),
        blur=float(rng.uniform(0.0, 1.3)),
        noise=float(rng.uniform(2.0, 7.0)),
        wall=_muted(rng, 70, 210),
        floor=_muted(rng, 40, 170),
        horizon=float(rng.uniform(0.5, 0.8)),
        texture=str(rng.choice(["smooth", "tiles", "bars"])),
        scale=float(rng.uniform(0.82, 0.95)),
    )


def _muted(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int, int]:
    """A dull scene colour: a grey level in [lo, hi) tinted 25 % towards a random colour."""
    c = 0.75 * rng.uniform(lo, hi) + 0.25 * rng.uniform(lo, hi, 3)
    return int(c[0]), int(c[1]), int(c[2])


def _background(cam: CameraProfile, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Background (h, w, 3) float32 RGB: wall over floor, camera texture, smooth per-image noise."""
    horizon = int(h * (cam.horizon + rng.uniform(-0.05, 0.05)))
    rows = np.arange(h)[:, None, None]
    bg = np.where(rows < horizon, np.array(cam.wall, np.float32), np.array(cam.floor, np.float32))
    bg = np.broadcast_to(bg, (h, w, 3)).copy()
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    period = max(4, h // 10)
    if cam.texture == "tiles":  # floor tile grout lines
        off = int(rng.integers(period))
        grid = ((ys + off) % period < 2) | ((xs + off) % period < 2)
        bg[grid & (ys >= horizon)] *= 0.7
    elif cam.texture == "bars":  # vertical structure on the wall (shelves, fences, windows)
        off = int(rng.integers(2 * period))
        bg[(((xs + off) % (2 * period)) < period // 2) & (ys < horizon)] *= 1.25
    low = rng.normal(0.0, 14.0, (6, 3, 1)) + rng.normal(0.0, 6.0, (6, 3, 3))  # low-frequency clutter
    bg += cv2.resize(low.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return bg


def render_crop(app: Appearance, camid: int, rng: np.random.Generator, height: int = 256,
                width: int = 128) -> np.ndarray:
    """A detector-style crop of person ``app`` seen by camera ``camid``: (height, width, 3) uint8 RGB.

    Camera nuisance comes from ``camera_profile(camid)``; per-image jitter (scale, position, phase,
    mirror, brightness, occlusion, noise) from ``rng``. Body height is ``app.stature`` x camera scale
    x jitter of the crop height, so stature is a (weak) identity cue.
    """
    cam = camera_profile(camid)
    img = _background(cam, height, width, rng)
    ph = int(round(height * min(1.0, app.stature * cam.scale * rng.uniform(0.93, 1.07))))
    pw = min(width, int(round(ph * 0.5)))
    person, mask = render_person(app, ph, pw, rng, phase=float(rng.random()))
    if rng.random() < 0.5:  # facing the other way
        person, mask = person[:, ::-1], mask[:, ::-1]
    x0 = int(np.clip((width - pw) // 2 + rng.integers(-width // 12, width // 12 + 1), 0, width - pw))
    y0 = int(np.clip(height - ph - rng.integers(0, max(1, height // 30)), 0, height - ph))
    region = img[y0:y0 + ph, x0:x0 + pw]
    region[mask] = person[mask]
    if rng.random() < 0.25:  # partial occlusion by a box from the bottom or a side
        oh = int(height * rng.uniform(0.2, 0.4))
        ow = int(width * rng.uniform(0.2, 0.4))
        colour = rng.integers(20, 235, 3).astype(np.float32)
        if rng.random() < 0.5:
            img[height - oh:, :] = colour
        else:
            cols = slice(0, ow) if rng.random() < 0.5 else slice(width - ow, width)
            img[:, cols] = colour
    # camera tone curve, colour cast, per-image brightness, blur, sensor noise
    gain = cam.gain * rng.uniform(0.9, 1.1)
    img = 255.0 * np.power(np.clip(img, 0, 255) / 255.0, cam.gamma) * gain * np.array(cam.cast, np.float32)
    sigma = cam.blur * height / 256
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += cam.noise * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _write(path: Path, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise OSError(f"{path}: JPEG encoding failed")
    path.write_bytes(buf.tobytes())


def _name(pid: int, camid: int, frame: int) -> str:
    pid_s = "-1" if pid == -1 else f"{pid:04d}"
    return f"{pid_s}_c{camid + 1}s1_{frame:06d}_01.jpg"


def generate(out: Path | str, num_ids: int = 120, cams: int = 6, seed: int = 0, height: int = 256,
             width: int = 128, images_per_id: int = 20) -> Path:
    """Write a Market-1501-format synthetic data set to ``out``; returns ``out``.

    Identities 1..``num_ids`` are split in half by a seeded shuffle: train ids go to
    bounding_box_train, test ids give one query per (id, camera) and the rest to bounding_box_test.
    Every identity appears in 2..``cams`` cameras. The gallery also gets ``max(2, num_ids // 20)`` junk
    images (pid -1, background with a body fragment) and ``max(2, num_ids // 10)`` distractors (pid
    0000, people of no identity of the set). Existing .jpg files in the three split folders are removed
    first so that the folder is exactly the function of (num_ids, cams, seed, height, width,
    images_per_id). Defaults: 1,200 train images at 256x128, about 8 s on one core.
    """
    if num_ids < 4 or cams < 2 or images_per_id < cams:
        raise ValueError(f"need num_ids >= 4, cams >= 2 and images_per_id >= cams; got num_ids={num_ids}, "
                         f"cams={cams}, images_per_id={images_per_id}")
    out = Path(out)
    dirs = {s: out / s for s in SPLITS}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.jpg"):
            old.unlink()
    order = np.random.default_rng([seed, 0]).permutation(np.arange(1, num_ids + 1))
    train_ids = set(order[: num_ids // 2].tolist())
    for pid in range(1, num_ids + 1):
        rng = np.random.default_rng([seed, 1, pid])
        app = sample_appearance(rng)
        seen = rng.choice(cams, size=int(rng.integers(2, cams + 1)), replace=False)
        cam_of = np.concatenate([seen, rng.choice(seen, size=images_per_id - len(seen))])
        query_index = {int(c): i for i, c in reversed(list(enumerate(cam_of)))}  # first image per camera
        for i, cam in enumerate(cam_of.tolist()):
            crop = render_crop(app, cam, np.random.default_rng([seed, 2, pid, i]), height, width)
            if pid in train_ids:
                split = "bounding_box_train"
            else:
                split = "query" if query_index[cam] == i else "bounding_box_test"
            _write(dirs[split] / _name(pid, cam, 25 * i + 1), crop)
    _write_extras(dirs["bounding_box_test"], num_ids, cams, seed, height, width)
    log.info("synthetic data set written to %s", out)
    return out


def _write_extras(gallery: Path, num_ids: int, cams: int, seed: int, height: int, width: int) -> None:
    """Junk (-1: mostly background, a fragment of a body) and distractors (0000: unknown people)."""
    for j in range(max(2, num_ids // 20)):
        rng = np.random.default_rng([seed, 3, j])
        cam = int(rng.integers(cams))
        big = render_crop(sample_appearance(rng), cam, rng, 2 * height, 2 * width)
        y, x = int(rng.integers(height)), int(rng.integers(width))
        _write(gallery / _name(-1, cam, 25 * j + 3), big[y:y + height, x:x + width])
    for j in range(max(2, num_ids // 10)):
        rng = np.random.default_rng([seed, 4, j])
        cam = int(rng.integers(cams))
        _write(gallery / _name(0, cam, 25 * j + 5), render_crop(sample_appearance(rng), cam, rng, height, width))
