"""Time from "open this database" to the first screen of the review app (identity list filled, first identity
selected, its tracklets listed, the window painted) on a 10,000-tracklet database made by
``populate`` of ``tests/fake_store.py``. Target: < 1 s.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_open.py [--tracklets 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.common import write_result  # noqa: E402


def make_db(path: Path, n_tracklets: int, n_cameras: int) -> float:
    from fake_store import populate

    from reid.store import Store

    t0 = time.perf_counter()
    with Store(path) as store:
        populate(store, n_tracklets=n_tracklets, n_cameras=n_cameras, seed=0)
    return time.perf_counter() - t0


def open_until_loaded(window: Any, db: Path, timeout_ms: int) -> tuple[float, float]:
    """(start, seconds): ``perf_counter`` at ``window.open_database(db)`` and the time until the window's
    ``loaded`` signal (or ``timeout_ms``)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.loaded.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    t0 = time.perf_counter()
    window.open_database(db)
    loop.exec()
    return t0, time.perf_counter() - t0


def time_open(db: Path) -> dict[str, float]:
    """One cold window: seconds until ``loaded`` and until the following paint has been processed."""
    from PySide6.QtCore import QCoreApplication, QSettings

    from gui.main_window import MainWindow

    settings = QSettings(str(db.with_suffix(".ini")), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.show()
    QCoreApplication.processEvents()
    t0, t_loaded = open_until_loaded(window, db, 30_000)
    window.repaint()  # the first screen as the user sees it
    QCoreApplication.processEvents()
    t_shown = time.perf_counter() - t0
    rows = window.identity_model.rowCount()
    window.close()
    window.deleteLater()
    QCoreApplication.processEvents()
    return {"loaded_s": t_loaded, "shown_s": t_shown, "identities": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracklets", type=int, default=10_000)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the same 10,000 tracklets, 2 repeats")
    args = parser.parse_args()

    from gui.app import create_app

    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        populate_s = make_db(db, args.tracklets, args.cameras)
        time_open(db)  # warm-up: imports, fonts, the OS file cache
        runs = [time_open(db) for _ in range(2 if args.quick else args.repeats)]
    shown = [r["shown_s"] for r in runs]
    figures = {
        "tracklets": args.tracklets,
        "cameras": args.cameras,
        "identities": runs[0]["identities"],
        "populate_s": round(populate_s, 3),
        "open_to_first_screen_median_s": round(statistics.median(shown), 4),
        "open_to_first_screen_min_s": round(min(shown), 4),
        "open_to_loaded_median_s": round(statistics.median(r["loaded_s"] for r in runs), 4),
        "repeats": 2 if args.quick else args.repeats,
        "target_s": 1.0,
        "platform": app.platformName(),
    }
    path = write_result("gui_open", figures, quick=args.quick)
    for key, value in figures.items():
        print(f"{key:34s} {value}")
    print(f"wrote {path}")
    return 0 if figures["open_to_first_screen_median_s"] < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
