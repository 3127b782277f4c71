"""Plots write non-empty PNG files."""

from pathlib import Path

import numpy as np
from PIL import Image

from reid.metrics import verify
from reid.metrics.plots import plot_cmc, plot_curves, plot_distances, plot_roc, retrieval_grid


def is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_cmc(tmp_path: Path) -> None:
    out = plot_cmc({"baseline": np.linspace(0.6, 1.0, 50), "re-ranked": np.linspace(0.7, 1.0, 50)},
                   tmp_path / "cmc.png", max_rank=20)
    assert is_png(out)


def test_plot_curves_skips_missing_keys(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "loss": 2.0, "triplet": 1.0, "id": 1.0},
            {"epoch": 2, "loss": 1.5, "triplet": 0.8, "id": 0.7, "mAP": 0.3, "rank1": 0.5},
            {"epoch": 3, "loss": 1.2, "mAP": "", "lr": 1e-4}]
    assert is_png(plot_curves(rows, tmp_path / "curves.png"))
    assert is_png(plot_curves([], tmp_path / "empty.png"))


def test_retrieval_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    paths = []
    for k in range(9):
        p = tmp_path / f"img{k}.jpg"
        Image.fromarray(rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    q_paths, g_paths = paths[:3], paths[3:] + [tmp_path / "missing.jpg"]  # a missing image is drawn grey
    distmat = rng.random((3, 7))
    out = retrieval_grid(distmat, q_paths, g_paths, [1, 2, 3], [1, 1, 2, 3, 4, 2, 1], [0, 0, 0],
                         [0, 1, 1, 1, 1, 0, 2], tmp_path / "grid" / "grid.png", n_queries=2, top=4)
    assert is_png(out)
    with Image.open(out) as im:
        assert im.size[0] > im.size[1]  # 5 columns, 2 rows


def test_plot_roc_and_distances(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    q_pids, g_pids = rng.integers(0, 10, 40), rng.integers(0, 10, 200)
    q_cams, g_cams = rng.integers(0, 3, 40), rng.integers(0, 3, 200)
    distmat = (rng.random((40, 200)) - 0.4 * (q_pids[:, None] == g_pids)).astype(np.float32)
    report = verify(distmat, q_pids, g_pids, q_cams, g_cams, far=0.01)
    assert is_png(plot_roc(report, tmp_path / "roc.png"))
    assert is_png(plot_distances(report, tmp_path / "distances.png"))
