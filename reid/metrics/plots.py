"""Pictures of results: CMC curves, ROC and distance histograms, retrieval grids, training curves (PNG, Agg
canvas, no pyplot state)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageOps

from reid.metrics.rank import same_pid_pairs
from reid.metrics.verification import Verification

log = logging.getLogger(__name__)

CELL = (64, 128)  # (width, height) of one person crop in the retrieval grid, Market-1501's aspect ratio
_BORDER = 4
_COLOURS = {"query": (40, 90, 200), "right": (30, 170, 60), "wrong": (210, 40, 40)}


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png")
    return path


def plot_cmc(curves: Mapping[str, np.ndarray], path: str | Path, max_rank: int = 20) -> Path:
    """CMC curves (fractions in [0, 1], one per method name) up to ``max_rank``, in percent; writes PNG."""
    fig = Figure(figsize=(5, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for name, cmc in curves.items():
        y = 100 * np.asarray(cmc, dtype=float)[:max_rank]
        ax.plot(np.arange(1, len(y) + 1), y, marker="o", markersize=3, label=f"{name} (R1 {y[0]:.1f}%)")
    ax.set(xlabel="rank", ylabel="matching rate (%)", title="CMC", xlim=(1, max_rank))
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(loc="lower right")
    return _save(fig, path)


def plot_roc(report: Verification, path: str | Path) -> Path:
    """ROC (TAR against FAR, FAR on a log axis) with TAR at each reported FAR and the EER marked; writes PNG."""
    fig = Figure(figsize=(5, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    floor = 1.0 / max(report.diff_pairs, 1)  # the smallest non-zero FAR this many pairs can show
    far = np.maximum(report.roc.far, floor)
    ax.plot(far, 100 * report.roc.tar, label=f"ROC ({report.same_pairs:,} same / {report.diff_pairs:,} diff pairs)")
    for f, tar in report.tar_at.items():
        ax.plot([f], [100 * tar], marker="o", linestyle="none", label=f"TAR@FAR {f:g}: {tar:.1%}")
    ax.plot([report.eer], [100 * (1 - report.eer)], marker="x", linestyle="none", color="k",
            label=f"EER {report.eer:.2%}")
    ax.set_xscale("log")
    ax.set(xlabel="false accept rate", ylabel="true accept rate (%)", title="verification ROC",
           xlim=(floor, 1.0), ylim=(0, 100.5))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_distances(report: Verification, path: str | Path, bins: int = 100) -> Path:
    """Histograms (each normalised to its own total) of same- and different-person pair distances, with the
    threshold at the report's FAR drawn; writes PNG."""
    same, diff = report.pairs
    fig = Figure(figsize=(6, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    lo, hi = float(min(same[0], diff[0])), float(max(same[-1], diff[-1]))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    for name, values, colour in (("same person", same, "tab:green"), ("different people", diff, "tab:red")):
        below = np.searchsorted(values, edges, side="right")  # values are sorted: no pass over them all
        below[0] = 0  # the first bin includes its left edge, the smallest value
        counts = np.diff(below)
        ax.stairs(counts / max(len(values), 1), edges, fill=True, alpha=0.45, color=colour,
                  label=f"{name} ({len(values):,})")
    ax.axvline(report.threshold, color="k", linestyle="--",
               label=f"threshold {report.threshold:.4g} (FAR {report.far:g}, TAR {report.tar:.1%})")
    ax.set(xlabel="distance", ylabel="fraction of pairs", title="query–gallery pair distances")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_curves(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Training curves from per-epoch rows: losses (left) and mAP / rank-k in percent (right).

    Keys used when present: ``epoch``; ``loss``, ``triplet``, ``contrastive``, ``id``; ``mAP``,
    ``rank1``, ``rank5``, ``rank10`` (fractions). Missing keys and empty cells are skipped.
    """
    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    ax_loss, ax_eval = fig.subplots(1, 2)
    epochs = [float(r.get("epoch", i + 1)) for i, r in enumerate(rows)]

    def series(key: str) -> tuple[list[float], list[float]]:
        pts = [(e, float(r[key])) for e, r in zip(epochs, rows, strict=True)
               if isinstance(r.get(key), int | float) and np.isfinite(r[key])]
        return [p[0] for p in pts], [p[1] for p in pts]

    for key in ("loss", "triplet", "contrastive", "id", "center", "circle"):
        x, y = series(key)
        if x:
            ax_loss.plot(x, y, marker=".", label=key)
    for key in ("mAP", "rank1", "rank5", "rank10"):
        x, y = series(key)
        if x:
            ax_eval.plot(x, [100 * v for v in y], marker="o", markersize=3, label=key)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="training loss")
    ax_eval.set(xlabel="epoch", ylabel="%", title="evaluation")
    for ax in (ax_loss, ax_eval):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    return _save(fig, path)


def _crop(path: str | Path, colour: tuple[int, int, int]) -> np.ndarray:
    """Image at ``path`` resized to ``CELL`` with a coloured border; a grey tile if it cannot be read."""
    try:
        with Image.open(path) as im:
            tile = im.convert("RGB").resize(CELL)
    except OSError as exc:
        log.warning("retrieval grid: cannot read %s (%s); drawing a blank tile", path, exc)
        tile = Image.new("RGB", CELL, (128, 128, 128))
    return np.asarray(ImageOps.expand(tile, border=_BORDER, fill=colour))


def retrieval_grid(distmat: np.ndarray, q_paths: Sequence[str | Path], g_paths: Sequence[str | Path],
                   q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any, path: str | Path,
                   n_queries: int = 8, top: int = 10, seed: int = 0) -> Path:
    """Rows of ``query | top-k gallery`` images; green border a correct match, red a wrong one.

    Gallery samples of the query's pid *and* camera are left out, as in the evaluation protocol;
    ties go by gallery index. Queries (``n_queries`` of them, drawn with ``seed``) are taken among
    those with at least one valid match. Writes a PNG and returns its path.
    """
    distmat = np.asarray(distmat)
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_camids, g_camids = np.asarray(q_camids), np.asarray(g_camids)
    if distmat.shape != (len(q_paths), len(g_paths)):
        raise ValueError(f"distmat {distmat.shape} does not match {len(q_paths)} queries x {len(g_paths)} gallery")
    qi, gj = same_pid_pairs(q_pids, g_pids)
    candidates = np.unique(qi[q_camids[qi] != g_camids[gj]])  # queries with a valid match
    if len(candidates) == 0:
        candidates = np.arange(len(q_paths))
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(candidates, size=min(n_queries, len(candidates)), replace=False))

    fig = Figure(figsize=(1.0 * (top + 1), 2.0 * max(len(chosen), 1)), dpi=100, layout="constrained")
    axes = np.atleast_2d(fig.subplots(max(len(chosen), 1), top + 1, squeeze=False))
    for ax in axes.ravel():
        ax.axis("off")
    for row, q in enumerate(chosen):
        axes[row, 0].imshow(_crop(q_paths[q], _COLOURS["query"]))
        axes[row, 0].set_title(f"query {q_pids[q]}", fontsize=8)
        order = np.argsort(distmat[q], kind="stable")
        ignored = (g_pids[order] == q_pids[q]) & (g_camids[order] == q_camids[q])
        order = order[~ignored][:top]
        for col, g in enumerate(order, start=1):
            right = bool(g_pids[g] == q_pids[q])
            axes[row, col].imshow(_crop(g_paths[g], _COLOURS["right" if right else "wrong"]))
            axes[row, col].set_title(f"{col}: {distmat[q, g]:.2f}", fontsize=7)
    return _save(fig, path)
