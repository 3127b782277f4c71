"""What keeps opening a large site fast, checked without timing anything: the window imports no torch, the
first screen does not wait for the overview (which reads every link), and opening reads no review log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gui_helpers import open_db

from reid.store import Store


def test_first_screen_comes_before_the_overview(qtbot, window, synthetic_db):
    at_loaded: list[str] = []
    window.loaded.connect(lambda: at_loaded.append(window.progress.format()))
    open_db(qtbot, window, synthetic_db)
    assert at_loaded and not at_loaded[0].startswith("decisions made")  # the overview was still queued
    assert window.progress.format().startswith("decisions made")  # and came right after
    assert window.overview.histogram.counts.sum() > 0


def test_opening_reads_no_review_log(qtbot, window, synthetic_db, monkeypatch):
    with Store(synthetic_db) as store:
        assert store.review_log()  # the fake site has confirmations in its log
    reads: list[int] = []
    read_log = Store.review_log
    monkeypatch.setattr(Store, "review_log", lambda self: reads.append(1) or read_log(self))
    open_db(qtbot, window, synthetic_db)
    assert reads == []  # nothing of this window's to undo: the log is not read
    assert not window.actions_by_name["undo"].isEnabled() and not window.actions_by_name["redo"].isEnabled()


def test_the_window_opens_without_torch():
    """``reid.link`` imports torch (~600 MB, seconds); the window imports it only in the jobs that relink or
    build the work queue."""
    code = "import sys, gui.main_window, gui.app\nprint('torch' in sys.modules)\n"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
