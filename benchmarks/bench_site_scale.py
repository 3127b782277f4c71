"""Growth of the review app and the exports with the size of a site: 16 cameras, 1,000 to 100,000 tracklets
(``tools/make_fake_db.py``). Per size, each in its own process (so peak memory is its own):

* open: start-up (imports, the window built and shown), then ``MainWindow.open_database`` until ``loaded``
  (identity list filled, first identity and its tracklets shown) and the window painted; then until every
  start-up query (overview, progress bar) is done; whether torch was imported;
* scroll: the identity list from top to bottom one page at a time, each page painted;
* export csv / json / mot / market: the functions ``reid export`` calls, on a read-only store.

Peak memory is the process's peak resident set (``VmHWM``), imports included; ``base_mb`` is the resident set
after imports, before the work. Target (issue 23): the app open and scrollable in < 3 s at 100,000 tracklets.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_site_scale.py [--quick] [--hours 1] [--dbs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
TASKS = ("open", "csv", "json", "mot", "market")
TARGET_OPEN_S = 3.0  # issue 23: open and scrollable at 100,000 tracklets


def rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MiB; the rusage peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- children
def child_open(db: Path) -> dict[str, Any]:
    """Open the window on ``db``, wait for the first screen, then scroll the identity list to the end."""
    t_start = time.perf_counter()
    from PySide6.QtCore import QCoreApplication, QSettings

    from benchmarks.bench_gui_open import open_until_loaded
    from gui.app import create_app
    from gui.main_window import MainWindow

    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.show()
        QCoreApplication.processEvents()
        t_startup = time.perf_counter() - t_start  # imports (PySide6, torch through reid.link) and the window
        base = rss_mb("VmRSS")
        t0, t_loaded = open_until_loaded(window, db, 120_000)
        window.repaint()
        QCoreApplication.processEvents()
        t_shown = time.perf_counter() - t0
        window.wait_idle(120_000)
        t_idle = time.perf_counter() - t0
        open_peak = rss_mb("VmHWM")

        view = window.identity_list.view
        bar = view.verticalScrollBar()
        t1 = time.perf_counter()
        pages = 0
        bar.setValue(0)
        while True:
            view.viewport().repaint()
            QCoreApplication.processEvents()
            pages += 1
            if bar.value() >= bar.maximum():
                break
            bar.setValue(bar.value() + bar.pageStep())
        t_scroll = time.perf_counter() - t1
        rows = window.identity_model.rowCount()
        last_shown = view.rowAt(view.viewport().height() - 1)
        window.close()
        app.processEvents()
    return {
        "identities": rows,
        "startup_s": t_startup,
        "loaded_s": t_loaded,
        "shown_s": t_shown,
        "idle_s": t_idle,
        "scroll_s": t_scroll,
        "scroll_pages": pages,
        "scroll_reached_end": last_shown == rows - 1 or last_shown == -1,
        "torch_imported": "torch" in sys.modules,  # the review app needs torch only for a relink or the queue
        "base_mb": base,
        "open_peak_mb": open_peak,
        "peak_mb": rss_mb("VmHWM"),
    }


def child_export(db: Path, fmt: str) -> dict[str, Any]:
    """One export format through ``reid.export`` (what ``reid export --format FMT`` calls)."""
    from reid import export
    from reid.store import Store

    with tempfile.TemporaryDirectory() as tmp, Store(db, readonly=True) as store:
        base = rss_mb("VmRSS")
        t0 = time.perf_counter()
        if fmt == "market":
            path = export.export_market(store, tmp, reviewed_only=True)
        else:
            path = {"csv": export.export_csv, "json": export.export_json, "mot": export.export_mot}[fmt](
                store, tmp
            )
        seconds = time.perf_counter() - t0
        files = [path] if path.is_file() else list(path.iterdir())
        size = sum(f.stat().st_size for f in files)
    return {
        "seconds": seconds,
        "bytes": size,
        "files": len(files),
        "base_mb": base,
        "peak_mb": rss_mb("VmHWM"),
    }


# ---------------------------------------------------------------------------------------------- parent
def make_db(folder: Path, n: int, cameras: int, hours: float | None) -> Path:
    """``site-<n>-c<cameras>[-h<hours>].db`` in ``folder`` made by ``tools/make_fake_db.py`` (kept when it is
    already there); ``hours`` None: the generator's default recording (two 6-minute files per camera)."""
    db = folder / f"site-{n}-c{cameras}{'' if hours is None else f'-h{hours:g}'}.db"
    if not db.exists():
        argv = [
            str(ROOT / "tools" / "make_fake_db.py"),
            str(db),
            "--tracklets",
            str(n),
            "--cameras",
            str(cameras),
        ]
        argv += [] if hours is None else ["--hours", str(hours)]
        subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL)
    return db


def run_child(task: str, db: Path) -> dict[str, Any]:
    """Run one task in a fresh interpreter; its JSON result (last line of its output)."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, "--db", str(db)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    sizes: tuple[int, ...], cameras: int, hours: float | None, folder: Path, tasks: tuple[str, ...]
) -> list[dict[str, Any]]:
    table = []
    for n in sizes:
        t0 = time.perf_counter()
        db = make_db(folder, n, cameras, hours)
        row: dict[str, Any] = {
            "tracklets": n,
            "cameras": cameras,
            "hours": hours,
            "db_mb": round(db.stat().st_size / 2**20, 1),
            "make_db_s": round(time.perf_counter() - t0, 2),
        }
        for task in tasks:
            result = run_child(task, db)
            row[task] = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
            print(f"{n:>7} {task:6s} {json.dumps(row[task])}", flush=True)
        table.append(row)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 tracklets only")
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="tracklet counts (default: 1,000 10,000 100,000)"
    )
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument(
        "--hours", type=float, help="recording per camera (make_fake_db.py --hours; default: its own)"
    )
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--dbs", type=Path, help="folder to keep the generated databases in (reused)")
    parser.add_argument("--no-write", action="store_true", help="print only; write no results file")
    parser.add_argument("--child", choices=TASKS, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = child_open(args.db) if args.child == "open" else child_export(args.db, args.child)
        print(json.dumps(result))
        return 0

    sizes = tuple(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    if args.dbs is not None:
        args.dbs.mkdir(parents=True, exist_ok=True)
        table = measure(sizes, args.cameras, args.hours, args.dbs, tuple(args.tasks))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            table = measure(sizes, args.cameras, args.hours, Path(tmp), tuple(args.tasks))
    largest = table[-1].get("open", {})
    figures = {
        "sizes": list(sizes),
        "cameras": args.cameras,
        "hours": args.hours,
        "target_open_s": TARGET_OPEN_S,
        "table": table,
        "platform": os.environ.get("QT_QPA_PLATFORM"),
    }
    if not args.no_write:
        from benchmarks.common import write_result

        name = "site-scale" if args.hours is None else f"site-scale-{args.hours:g}h"
        print(f"wrote {write_result(name, figures, quick=args.quick)}")
    if "open" in largest and sizes[-1] >= 100_000:  # the target: first screen shown, every page a paint away
        return 0 if largest["shown_s"] < TARGET_OPEN_S else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
