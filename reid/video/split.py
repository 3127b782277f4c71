"""Tracklets that are one person: cut a track where its appearance jumps (a tracker identity switch).

A tracker that loses one person and picks up another nearby (two people crossing, look-alikes walking side by
side) glues two people into one track, and the linker can only give the whole track one identity. Each
detection gets a cheap colour signature (``signature``: mean CIE Lab colour of the upper and the lower half of
the box, 6 numbers). ``split_points`` finds the cut that best separates the track into a "before" and an
"after" appearance (least-squares change point, as in binary segmentation) and keeps it when the gap between
the two parts' mean signatures is ``ratio`` times their RMS spread around those means and at least
``MIN_JUMP`` Lab units; each part is searched again. A switch and a switch back (A, B, A) with no single
cut that separates it is missed: the remedy there is the linker's own same-camera overlap rule.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGNATURE_SIZE = (8, 16)  # (w, h) the box is shrunk to before its colours are averaged
MIN_PART = 5  # detections on each side of a cut
RATIO = 4.0  # jump / within-part spread needed for a cut; measured: see docs/linking.md
MIN_JUMP = 12.0  # Lab units (L in 0..100 scaled to 0..255 by OpenCV): the least colour change that counts


def signature(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(6,) float32: mean Lab colour of the upper and lower half of ``box`` (xyxy) in ``image`` (BGR uint8)."""
    h, w = image.shape[:2]
    x1, y1 = max(int(box[0]), 0), max(int(box[1]), 0)
    x2, y2 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return np.full(6, np.nan, np.float32)
    small = cv2.cvtColor(cv2.resize(image[y1:y2, x1:x2], SIGNATURE_SIZE, interpolation=cv2.INTER_AREA),
                         cv2.COLOR_BGR2LAB).astype(np.float32)
    half = SIGNATURE_SIZE[1] // 2
    return np.concatenate([small[:half].reshape(-1, 3).mean(0), small[half:].reshape(-1, 3).mean(0)])


def _best_cut(sig: np.ndarray, min_part: int) -> tuple[int, float]:
    """The least-squares change point ``k`` (cut before detection k: the two parts' means explain the most of
    the signatures) and its strength: the distance between the part means over their RMS spread, or 0 when
    the means differ by less than ``MIN_JUMP``."""
    n = len(sig)
    csum = np.cumsum(sig, 0)
    csq = np.cumsum((sig.astype(np.float64) ** 2).sum(1))
    k = np.arange(min_part, n - min_part + 1)
    if len(k) == 0:
        return -1, 0.0
    mean_a = csum[k - 1] / k[:, None]
    mean_b = (csum[-1] - csum[k - 1]) / (n - k)[:, None]
    sse = (csq[k - 1] - k * (mean_a ** 2).sum(1)) + (csq[-1] - csq[k - 1] - (n - k) * (mean_b ** 2).sum(1))
    best = int(np.argmin(sse))
    jump = float(np.linalg.norm(mean_a[best] - mean_b[best]))
    if jump < MIN_JUMP:
        return -1, 0.0
    spread = float(np.sqrt(max(sse[best], 0.0) / n))
    return int(k[best]), jump / max(spread, 1.0)


def split_points(signatures: np.ndarray, ratio: float = RATIO, min_part: int = MIN_PART) -> list[int]:
    """Sorted indices where a track of per-detection ``signatures`` (n, d) should be cut (none: []).
    Rows with NaN (boxes too small to measure) never start a part and are ignored in the statistics."""
    sig = np.asarray(signatures, np.float32)
    valid = np.flatnonzero(~np.isnan(sig).any(1))
    cuts: list[int] = []
    stack = [(0, len(valid))]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2 * min_part:
            continue
        k, score = _best_cut(sig[valid[lo:hi]], min_part)
        if k < 0 or score < ratio:
            continue
        cuts.append(int(valid[lo + k]))
        stack += [(lo, lo + k), (lo + k, hi)]
    return sorted(cuts)
