"""reid bench: the results table and its place in docs/performance.md."""

from __future__ import annotations

from pathlib import Path

from reid.cli.bench import TABLE_END, TABLE_START, render_table, update_doc

RESULTS = {
    "date": "2026-11-25", "quick": True, "machine": {"cpu": "Xeon", "cores": 2, "gpu": None},
    "benchmarks": {
        "eval": {"seconds": 12.5, "figures": {"speedup_wall": {"classic": 20.16}, "rank1": 0.5, "n": 3}},
        "ray": {"error": "exit 1, no results written"},
    },
}


def test_table_lists_run_time_nested_figures_and_errors() -> None:
    table = render_table(RESULTS)
    assert "Measured on Xeon (2 cores, GPU: none), 2026-11-25 (quick)." in table
    assert "| eval | run time s | 12.5 |" in table
    assert "| eval | speedup_wall.classic | 20.16 |" in table
    assert "| eval | n | 3 |" in table
    assert "| ray | error | exit 1, no results written |" in table


def test_update_doc_replaces_only_the_marked_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nprose\n\n{TABLE_START}\nold table\n{TABLE_END}\n\nafter\n")
    update_doc(doc, "new table")
    text = doc.read_text()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# Performance\n\nprose\n") and text.endswith("\n\nafter\n")
    update_doc(doc, "newer")
    assert doc.read_text().count(TABLE_START) == 1
    fresh = tmp_path / "none.md"
    update_doc(fresh, "first")
    assert fresh.read_text().startswith("# Performance") and "first" in fresh.read_text()


def test_run_outside_a_checkout_says_so_and_leaves_sys_path_alone(tmp_path: Path, monkeypatch) -> None:
    """``reid bench`` runs the checkout's scripts by path: it never puts the checkout on ``sys.path``."""
    import argparse
    import sys

    import pytest

    from reid.cli import bench
    from reid.errors import ReidError

    before = list(sys.path)
    args = argparse.Namespace(quick=True, only=["no_such_benchmark"], timeout=1)
    with pytest.raises(ReidError, match="no benchmark matches"):
        bench.run(args)
    monkeypatch.setattr(bench, "BENCHMARKS", tmp_path / "benchmarks")
    with pytest.raises(ReidError, match="benchmarks folder not found; reid bench runs the scripts of a source checkout"):
        bench.run(args)
    assert sys.path == before


def test_machine_describes_the_host_for_every_results_file() -> None:
    from reid.cli.bench import machine  # benchmarks/common.py re-exports it for the scripts

    info = machine()
    assert {"host", "cpu", "cores", "python", "torch", "numpy", "gpu"} <= set(info) and info["cores"] >= 1
