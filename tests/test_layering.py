"""The layers themselves are import-linter contracts (``[tool.importlinter]`` in pyproject.toml, run by
``lint-imports`` in .ci/run). What they cannot see is checked here: grimp counts an import inside a function
like any other, so the contracts exempt ``reid.cli.review``'s GUI imports, and only running the imports tells
that they stay lazy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_loading_the_command_line_imports_neither_qt_nor_the_gui():
    code = ("import sys, reid.cli, reid.cli.review\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'gui')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_store_measures_distances_without_loading_torch():
    """``reid.distances`` is the numpy half of the one distance function, below every package: the store's
    nearest-tracklet query (and the review app's pair distance) use it, and the store stays free of torch."""
    code = ("import sys, numpy as np, reid.store.queries, reid.distances as d\n"
            "a, b = np.float32([[0, 3, 4]]), np.float32([[0, 0, 0]])\n"
            "assert reid.store.queries.pairwise_distance_numpy is d.pairwise_distance_numpy\n"
            "assert d.paired_distance_numpy(a, b)[0] == 5\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
    import gui.jobs
    import reid.distances
    import reid.losses

    assert reid.losses.pairwise_distance_numpy is reid.distances.pairwise_distance_numpy  # one function, re-exported
    assert gui.jobs.paired_distance_numpy is reid.distances.paired_distance_numpy


def test_the_linking_layer_loads_without_torch():
    """A review decision in the window (N's link partner, the queue, a component relink) imports ``reid.link``
    in a worker; with torch pulled in through ``reid.losses`` the first N waited ~4 s."""
    code = ("import sys, reid.link, reid.link.partner, reid.link.review_queue, reid.link.relink_component\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
