"""Camera-aware centring: each camera's mean tracklet embedding moved onto the site's, label-free (issue 20).

A camera with another colour response (white balance, gamma, saturation, resolution) shifts every embedding
of its tracklets the same way, so every cross-camera distance grows and a threshold calibrated on one
camera's pairs accepts none of them. The crowd a camera sees is, on average, the crowd its neighbour sees:
subtracting each camera's mean embedding (over its tracklets, each counted once) and adding back the mean of
those camera means removes the shared offset, then every vector is L2-normalised again. The site's own
tracklets are the only evidence; nothing is learned from labels.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CENTRING_META = "camera_centring"  # store meta: JSON {camera: shift vector} of the last link_database; {} when off


def camera_means(features: Sequence[Any]) -> dict[str, np.ndarray]:
    """Mean embedding of each camera's tracklets (those with an embedding), float64."""
    by_cam: dict[str, list[np.ndarray]] = {}
    for f in features:
        if f.embedding is not None:
            by_cam.setdefault(str(f.camera), []).append(np.asarray(f.embedding, np.float64))
    return {cam: np.mean(rows, axis=0) for cam, rows in by_cam.items()}


def camera_shifts(features: Sequence[Any]) -> dict[str, np.ndarray]:
    """Per camera, the vector that moves its mean embedding onto the mean of the camera means; empty with
    fewer than two cameras."""
    means = camera_means(features)
    if len(means) < 2:
        return {}
    common = np.mean(list(means.values()), axis=0)
    return {cam: common - m for cam, m in means.items()}


def centre_with(features: Sequence[Any], shifts: dict[str, np.ndarray]) -> list[Any]:
    """``features`` with each embedding moved by its camera's shift (none for a camera not in ``shifts``) and
    re-normalised. Features are frozen dataclasses (``TrackletFeature``): copies are returned, the store's
    vectors are not touched."""
    out = []
    for f in features:
        shift = shifts.get(str(f.camera))
        if f.embedding is None or shift is None:
            out.append(f)
            continue
        v = np.asarray(f.embedding, np.float64) + shift
        norm = np.linalg.norm(v)
        out.append(replace(f, embedding=(v / norm if norm > 0 else v).astype(np.float32)))
    return out


def centre_by_camera(features: Sequence[Any]) -> list[Any]:
    """``features`` centred on their own camera means (``camera_shifts``, ``centre_with``); unchanged with
    fewer than two cameras."""
    shifts = camera_shifts(features)
    if shifts:
        log.info(
            "camera centring: camera means moved by %s",
            ", ".join(f"{cam} {np.linalg.norm(s):.3f}" for cam, s in sorted(shifts.items())),
        )
    return centre_with(features, shifts)


def stored_shifts(meta_value: str | None) -> dict[str, np.ndarray]:
    """The per-camera shifts recorded in store meta ``CENTRING_META`` (none recorded: no shifts)."""
    return {cam: np.asarray(v, np.float64) for cam, v in (json.loads(meta_value) if meta_value else {}).items()}


def centre_rows(embeddings: np.ndarray, cameras: Sequence[str] | np.ndarray, shifts: dict[str, np.ndarray]) -> np.ndarray:
    """``embeddings`` ((N, D) float32, one row per tracklet of ``cameras``) moved like ``centre_with`` moves
    features: each row by its camera's shift, then L2-normalised; rows of cameras without a shift unchanged."""
    if not shifts or not len(embeddings):
        return embeddings
    out = np.asarray(embeddings, np.float64).copy()
    for cam, shift in shifts.items():
        rows = np.asarray([str(c) == cam for c in cameras])
        if rows.any():
            moved = out[rows] + shift
            norms = np.linalg.norm(moved, axis=1, keepdims=True)
            out[rows] = moved / np.where(norms > 0, norms, 1.0)
    return out.astype(np.float32)
