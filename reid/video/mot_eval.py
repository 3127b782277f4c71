"""Tracking quality against MOTChallenge ground truth, per camera and across cameras (motmetrics).

Per camera, predictions carry the tracker's *local* ids (one per tracklet): IDF1 / IDP / IDR (Ristani et
al. 2016) and MOTA (Bernardin & Stiefelhagen 2008) say how well each camera was tracked. Across cameras,
predictions carry the *global* identity ids the linker gave and ground truth the global person ids; all
cameras are concatenated into one sequence (each camera's frames shifted past the previous camera's last
frame), so the single IDF1 matching between person ids and identity ids must hold in every camera at once:
a person who gets identity 7 in one camera and identity 9 in another loses the frames of one of them.
Boxes match at IoU >= 0.5, the MOTChallenge rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import motmetrics as mm
import numpy as np

from reid.data.motio import IOU, TrackRow, read_mot

METRICS = ["idf1", "idp", "idr", "mota", "num_switches", "precision", "recall", "num_unique_objects",
           "num_frames"]


Box = tuple[int, int, Sequence[float]]  # (frame, id, xyxy box)


def _iou_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - IoU`` of xyxy boxes (N, 4) x (M, 4); NaN (no match possible) where IoU < ``IOU``.
    (motmetrics' own ``iou_matrix`` calls ``np.asfarray``, gone in NumPy 2.)"""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: np.clip(x[:, 2:] - x[:, :2], 0, None).prod(-1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return np.where(iou >= IOU, 1.0 - iou, np.nan)


def _accumulate(gt: Iterable[Box], pred: Iterable[Box]) -> mm.MOTAccumulator:
    """Frame-by-frame IoU matching of ``pred`` to ``gt`` boxes into a motmetrics accumulator."""
    frames: dict[int, tuple[list, list]] = {}
    for k, rows in enumerate((gt, pred)):
        for f, i, b in rows:
            frames.setdefault(int(f), ([], []))[k].append((int(i), [float(v) for v in b]))
    acc = mm.MOTAccumulator(auto_id=False)
    for f in sorted(frames):
        g, p = frames[f]
        gb = np.array([b for _, b in g], np.float64).reshape(-1, 4)
        pb = np.array([b for _, b in p], np.float64).reshape(-1, 4)
        acc.update([i for i, _ in g], [i for i, _ in p], _iou_distance(gb, pb), frameid=f)
    return acc


def _gt_rows(path: str | Path) -> list[Box]:
    """Ground-truth boxes with the 'consider' flag (conf column) set."""
    return [(f, int(i), b) for f, mf in read_mot(path).items()
            for b, s, i in zip(mf.boxes.tolist(), mf.scores.tolist(), mf.ids.tolist(), strict=True) if s > 0]


def _summary(df: Any, name: str) -> dict[str, float]:
    row = df.loc[name]
    out = {k: float(row[k]) for k in METRICS}
    out["num_switches"] = int(out["num_switches"])
    out["num_unique_objects"] = int(out["num_unique_objects"])
    out["num_frames"] = int(out["num_frames"])
    return out


def evaluate_tracks(gt_files: Mapping[str, str | Path], pred: Mapping[str, Iterable[TrackRow]]) -> dict:
    """Per-camera and cross-camera tracking metrics.

    ``gt_files``: camera -> MOTChallenge ground truth (global person ids); ``pred``: camera -> predicted
    boxes (cameras missing from ``pred`` count as all missed; predicted cameras without ground truth are
    ignored). Returns ``{"cameras": {camera: metrics}, "cross_camera": metrics}`` where metrics has idf1,
    idp, idr, mota, num_switches, precision, recall, num_unique_objects, num_frames (rates in 0..1; IDF1
    of the cross-camera entry uses identity ids, the per-camera entries use track ids).
    """
    cameras = sorted(gt_files)
    gts = {c: _gt_rows(gt_files[c]) for c in cameras}
    preds = {c: [TrackRow(*r) for r in pred.get(c, ())] for c in cameras}
    accs, names = [], []
    glob_gt: list[Box] = []
    glob_pred: list[Box] = []
    offset = 0
    for c in cameras:
        accs.append(_accumulate(gts[c], [(r.frame, r.track_id, r.box) for r in preds[c]]))
        names.append(c)
        glob_gt += [(f + offset, i, b) for f, i, b in gts[c]]
        glob_pred += [(r.frame + offset, r.identity_id, r.box) for r in preds[c] if r.identity_id is not None]
        last = max([f for f, _, _ in gts[c]] + [r.frame for r in preds[c]] + [0])
        offset += last + 1
    accs.append(_accumulate(glob_gt, glob_pred))
    names.append("__cross__")
    mh = mm.metrics.create()  # compute() per accumulator: compute_many logs timings on the root logger
    res = {name: _summary(mh.compute(acc, metrics=METRICS, name=name), name) for acc, name in zip(accs, names,
                                                                                                  strict=True)}
    return {"cameras": {c: res[c] for c in cameras}, "cross_camera": res["__cross__"]}


def store_predictions(store: Any) -> dict[str, list[TrackRow]]:
    """Every detection in a ``reid.store.Store`` as ``TrackRow`` per camera: track id = the tracklet's
    database id (unique within the camera), identity id = its identity (None when unlinked), frame =
    1-based; a camera's later video files continue the frame count of the earlier ones (by start offset,
    then path), as one ground-truth file per camera does."""
    videos = sorted(store.videos(), key=lambda v: (v.camera, v.offset_s, v.path))
    first_frame: dict[int, int] = {}
    done: dict[str, int] = {}
    for v in videos:
        first_frame[v.id] = done.get(v.camera, 0)
        done[v.camera] = first_frame[v.id] + v.frames
    out: dict[str, list[TrackRow]] = {}
    for feat in store.tracklet_features():
        identity = store.tracklet(feat.id).identity_id
        shift = first_frame.get(feat.video_id, 0) + 1  # the store counts frames from 0
        out.setdefault(feat.camera, []).extend(
            TrackRow(d.frame + shift, feat.id, identity, d.box) for d in store.detections(feat.id))
    return out


def format_table(result: dict) -> str:
    """The result of ``evaluate_tracks`` as a plain-text table (percentages)."""
    head = f"{'camera':<16}{'IDF1':>7}{'IDP':>7}{'IDR':>7}{'MOTA':>7}{'IDsw':>6}{'GT ids':>8}{'frames':>8}"
    lines = [head, "-" * len(head)]

    def line(name: str, m: dict) -> str:
        pct = [100 * m[k] if np.isfinite(m[k]) else float("nan") for k in ("idf1", "idp", "idr", "mota")]
        return (f"{name:<16}" + "".join(f"{v:7.1f}" for v in pct)
                + f"{m['num_switches']:6d}{m['num_unique_objects']:8d}{m['num_frames']:8d}")

    for cam, m in result["cameras"].items():
        lines.append(line(cam, m))
    lines.append("-" * len(head))
    lines.append(line("cross-camera", result["cross_camera"]))
    return "\n".join(lines)
