"""Review thumbnails: a tracklet's best crops as small JPEGs, encoded here so that the store only keeps bytes."""

from __future__ import annotations

import cv2
import numpy as np

THUMB_MAX_HEIGHT = 128  # px; enough for the review grid, keeps a 10k-tracklet file small
JPEG_QUALITY = 90


def encode_thumbnail(image: np.ndarray) -> bytes:
    """JPEG bytes of a (h, w, 3) BGR crop (uint8, or values clipped to 0..255), downscaled to at most
    ``THUMB_MAX_HEIGHT`` rows. Raises ``ValueError`` for an empty or non-colour crop."""
    img = np.ascontiguousarray(image)
    if img.ndim != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"crop must be (h, w, 3) BGR, got shape {img.shape}")
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    if h > THUMB_MAX_HEIGHT:
        new_w = max(1, round(w * THUMB_MAX_HEIGHT / h))
        img = cv2.resize(img, (new_w, THUMB_MAX_HEIGHT), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()
