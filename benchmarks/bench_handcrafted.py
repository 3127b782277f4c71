"""Speed of the hand-crafted re-ID descriptor (``reid.video.handcrafted``) against its first implementation.

``reid relink`` re-embeds every stored crop with this descriptor (issue 23: ~300,000 crops at 100,000
tracklets). This file keeps the direct implementation as it was before the speed-up
(``ReferenceHandcraftedEmbedder``, a verbatim reference copy: do not optimise it) and measures, in one run,
crops a second of both and the largest absolute difference of their outputs (must stay below 1e-5) on

* ``video``: crops cut from ``examples/left.mp4`` / ``right.mp4`` frames at random person-sized boxes
  (40..400 rows, width 0.3..0.6 of the height), as detections come;
* ``thumbs``: the same crops downscaled to at most 128 rows, as ``reid relink`` reads them from the store;
* ``random``: uniform-noise images of random sizes (1..300 x 1..200).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.bench_handcrafted [--quick] [--crops 512] [--batch 256]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import repeat, write_result  # noqa: E402
from reid.video.handcrafted import (  # noqa: E402
    _BORDER,
    _COLOUR_BINS,
    _FG_FLOOR,
    _FG_SIGMA,
    _GREY_BINS,
    _GREY_SAT,
    _HUE_BINS,
    _LBP_BINS,
    _SAT_BINS,
    _TEXTURE_WEIGHT,
    _X_SIGMA,
    HEIGHT,
    STRIPE,
    WIDTH,
    HandcraftedEmbedder,
    _riu2_table,
)
from reid.video.thumbnails import THUMB_MAX_HEIGHT  # noqa: E402

# ---- reference copy: reid/video/handcrafted.py before the issue-23 speed-up (names, format changed) ----
# Its parameters (stripes, bins, weights) and LBP class table are the module's own, imported above: the
# reference is the direct algorithm with the same settings, so a retuned constant moves both sides alike.
_RIU2 = _riu2_table().astype(np.int64)


class ReferenceHandcraftedEmbedder:
    """The direct implementation (reference copy): same interface as ``HandcraftedEmbedder``."""

    def __init__(self) -> None:
        self.stripes = _stripe_masks()
        self.dim = self.stripes.shape[0] * (_COLOUR_BINS + _LBP_BINS)
        x = (np.arange(WIDTH) - (WIDTH - 1) / 2) / (_X_SIGMA * WIDTH)
        self.x_weight = np.exp(-0.5 * x**2).astype(np.float32)  # (W,)

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        """``crops``: list of (h, w, 3) uint8 BGR images of any size -> (N, D) float32, rows of unit norm."""
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = np.stack(
            [
                cv2.resize(np.ascontiguousarray(c), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
                for c in crops
            ]
        )  # (N, H, W, 3) BGR
        batch = _grey_world(batch)
        n = len(batch)
        fg = _foreground(batch)[..., None]  # (N, H, W, 1)
        colour_bins, colour_w = _colour_bins(batch)  # (N, H, W, 2) bins and weights (soft hue)
        texture = _lbp(batch)  # (N, H, W) codes in 0..9
        colour = self._stripe_hist(colour_bins, colour_w * fg, _COLOUR_BINS, n)
        tex = self._stripe_hist(texture[..., None], fg, _LBP_BINS, n)
        colour = np.sqrt(colour / np.maximum(colour.sum(-1, keepdims=True), 1e-12))
        tex = np.sqrt(tex / np.maximum(tex.sum(-1, keepdims=True), 1e-12)) * np.sqrt(_TEXTURE_WEIGHT)
        out = np.concatenate([colour, tex], axis=-1).reshape(n, -1)
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def _stripe_hist(self, bins: np.ndarray, weights: np.ndarray, nbins: int, n: int) -> np.ndarray:
        """Histograms (N, S, nbins) of ``bins`` (N, H, W, K) with ``weights`` (N, H, W, K), per stripe."""
        w = weights * self.x_weight[None, None, :, None]
        # one bincount over (image, row, bin); stripes are sums of rows
        rows = (np.arange(n)[:, None, None, None] * HEIGHT + np.arange(HEIGHT)[None, :, None, None]) * nbins
        per_row = np.bincount((rows + bins).ravel(), w.ravel(), minlength=n * HEIGHT * nbins)
        per_row = per_row.reshape(n, HEIGHT, nbins)
        return np.einsum("sh,nhb->nsb", self.stripes, per_row)


def _stripe_masks() -> np.ndarray:
    """(S, H) 0/1 row membership of the 8 stripes and the 7 half-shifted ones."""
    starts = list(range(0, HEIGHT - STRIPE + 1, STRIPE // 2))
    masks = np.zeros((len(starts), HEIGHT), np.float64)
    for k, s in enumerate(starts):
        masks[k, s : s + STRIPE] = 1.0
    return masks


def _grey_world(batch: np.ndarray) -> np.ndarray:
    """Scale each image's channels so their means are equal (grey-world white balance); (N, H, W, 3) uint8."""
    x = batch.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, 3)
    gain = mean.mean(-1, keepdims=True) / np.maximum(mean, 1.0)
    return np.clip(x * gain, 0, 255).astype(np.uint8)


def _foreground(batch: np.ndarray) -> np.ndarray:
    """Soft foreground weight (N, H, W) in 0..1: colour distance to the row's border (background) colour."""
    x = batch.astype(np.float32)
    border = np.concatenate([x[:, :, :_BORDER], x[:, :, -_BORDER:]], axis=2)  # (N, H, 2 * border, 3)
    bg = np.median(border, axis=2, keepdims=True)
    d2 = ((x - bg) ** 2).sum(-1)
    return _FG_FLOOR + (1.0 - _FG_FLOOR) * (1.0 - np.exp(-0.5 * d2 / _FG_SIGMA**2))


def _colour_bins(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel colour bins (N, H, W, 2) and weights: chromatic pixels split between the two nearest hue
    sectors (linear interpolation) at their saturation level; grey pixels go to one of 4 lightness bins."""
    n = len(batch)
    hsv = cv2.cvtColor(batch.reshape(n * HEIGHT, WIDTH, 3), cv2.COLOR_BGR2HSV).reshape(n, HEIGHT, WIDTH, 3)
    h = hsv[..., 0].astype(np.float32) * (_HUE_BINS / 180.0) - 0.5  # OpenCV hue is 0..179
    s = hsv[..., 1].astype(np.int64)
    v = hsv[..., 2].astype(np.int64)
    lo = np.floor(h)
    frac = h - lo
    h0 = lo.astype(np.int64) % _HUE_BINS
    h1 = (h0 + 1) % _HUE_BINS
    sat = np.minimum((s - _GREY_SAT) * _SAT_BINS // (256 - _GREY_SAT), _SAT_BINS - 1)
    grey = s < _GREY_SAT
    grey_bin = _HUE_BINS * _SAT_BINS + np.minimum(v * _GREY_BINS // 256, _GREY_BINS - 1)
    b0 = np.where(grey, grey_bin, h0 * _SAT_BINS + sat)
    b1 = np.where(grey, grey_bin, h1 * _SAT_BINS + sat)
    w1 = np.where(grey, 0.0, frac).astype(np.float32)
    return np.stack([b0, b1], -1), np.stack([1.0 - w1, w1], -1)


def _lbp(batch: np.ndarray) -> np.ndarray:
    """Uniform rotation-invariant LBP class (N, H, W) in 0..9 of the grey image (edge pixels replicated)."""
    grey = batch.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)  # BGR -> luma
    pad = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="edge")
    k0, k1 = 0.239, 0.522  # 3-tap Gaussian, sigma 0.8 (per image, separable): tames sensor noise
    rows = k0 * pad[:, :-2] + k1 * pad[:, 1:-1] + k0 * pad[:, 2:]
    grey = k0 * rows[:, :, :-2] + k1 * rows[:, :, 1:-1] + k0 * rows[:, :, 2:]
    pad = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="edge")
    centre = pad[:, 1:-1, 1:-1]
    code = np.zeros(grey.shape, np.int64)
    offsets = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))  # circular order
    for bit, (dy, dx) in enumerate(offsets):
        nb = pad[:, 1 + dy : 1 + dy + HEIGHT, 1 + dx : 1 + dx + WIDTH]
        code |= (nb >= centre + 2.0).astype(np.int64) << bit  # 2 grey levels of hysteresis against noise
    return _RIU2[code]


# ---- end of the reference copy ----


def video_crops(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` BGR crops of person-like size at random boxes of random frames of the shipped sample videos."""
    rng = np.random.default_rng(seed)
    frames = []
    for name in ("left", "right"):
        cap = cv2.VideoCapture(str(ROOT / "examples" / f"{name}.mp4"))
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in rng.choice(total, 6, replace=False):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = cap.read()
            if ok:
                frames.append(frame)
        cap.release()
    if not frames:
        raise SystemExit("could not read examples/left.mp4 / right.mp4")
    crops = []
    for _ in range(n):
        frame = frames[rng.integers(len(frames))]
        fh, fw = frame.shape[:2]
        h = int(rng.integers(40, min(400, fh)))
        w = min(fw, max(8, int(h * rng.uniform(0.3, 0.6))))
        y, x = int(rng.integers(0, fh - h + 1)), int(rng.integers(0, fw - w + 1))
        crops.append(frame[y : y + h, x : x + w].copy())
    return crops


def thumbnails(crops: list[np.ndarray]) -> list[np.ndarray]:
    """The crops as the store keeps them: at most ``THUMB_MAX_HEIGHT`` rows (JPEG coding left out)."""
    out = []
    for c in crops:
        h, w = c.shape[:2]
        if h > THUMB_MAX_HEIGHT:
            size = (max(1, round(w * THUMB_MAX_HEIGHT / h)), THUMB_MAX_HEIGHT)
            c = cv2.resize(c, size, interpolation=cv2.INTER_AREA)
        out.append(c)
    return out


def random_crops(n: int, seed: int = 1) -> list[np.ndarray]:
    """``n`` uniform-noise BGR images of random sizes, down to one pixel."""
    rng = np.random.default_rng(seed)
    sizes = zip(rng.integers(1, 300, n), rng.integers(1, 200, n), strict=True)
    return [rng.integers(0, 256, (int(h), int(w), 3), dtype=np.uint8) for h, w in sizes]


def embed_all(embed, crops: list[np.ndarray], batch: int) -> np.ndarray:
    """(N, D) features of ``crops`` in batches of ``batch``, as ``reid relink`` calls the embedder."""
    return np.concatenate([embed(crops[i : i + batch]) for i in range(0, len(crops), batch)])


def compare(crops: list[np.ndarray], batch: int, repeats: int) -> dict[str, float]:
    """Crops a second of the reference and the current descriptor on ``crops``; their largest difference."""
    ref, new = ReferenceHandcraftedEmbedder(), HandcraftedEmbedder()
    diff = float(np.abs(embed_all(ref.embed, crops, batch) - embed_all(new.embed, crops, batch)).max())
    t_ref = repeat(lambda: embed_all(ref.embed, crops, batch), repeats=repeats)["min_s"]
    t_new = repeat(lambda: embed_all(new.embed, crops, batch), repeats=repeats)["min_s"]
    return {
        "crops": len(crops),
        "reference_crops_per_s": len(crops) / t_ref,
        "crops_per_s": len(crops) / t_new,
        "speedup": t_ref / t_new,
        "max_abs_diff": diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 crops a set, one timed repeat")
    parser.add_argument("--crops", type=int, default=512, help="crops a set (default 512)")
    parser.add_argument("--batch", type=int, default=256, help="crops an embed call (reid relink: ~256)")
    args = parser.parse_args()
    n, repeats = (128, 1) if args.quick else (args.crops, 3)
    video = video_crops(n)
    sets = {"video": video, "thumbs": thumbnails(video), "random": random_crops(n)}
    figures: dict = {
        "batch": args.batch,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "cv2_threads": cv2.getNumThreads(),
    }
    for name, crops in sets.items():
        figures[name] = compare(crops, args.batch, repeats)
        f = figures[name]
        print(
            f"{name:7s} {f['crops']} crops: reference {f['reference_crops_per_s']:7.0f} crops/s, "
            f"now {f['crops_per_s']:7.0f} crops/s ({f['speedup']:.1f}x), max |diff| {f['max_abs_diff']:.2e}"
        )
    print("written", write_result("handcrafted", figures, quick=args.quick))


if __name__ == "__main__":
    main()
