"""Application entry: ``main(argv)`` builds the ``QApplication`` and the review window.

``python -m gui.app DB`` or ``reid review DB``; ``--screenshot PNG`` renders the window after the data is
loaded (first identity selected, its thumbnails decoded) to a PNG and exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.platform_check import platform_problem


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setOrganizationName("reid-mc")
    app.setApplicationName("reid review")
    return app  # type: ignore[return-value]


def screenshot(window: MainWindow, out: Path, timeout_ms: int = 10000) -> Path:
    """Wait for the first screen and its thumbnails, then save ``window.grab()`` to ``out``."""
    from PySide6.QtCore import QEventLoop

    if window.session is not None and not window.first_screen:
        loop = QEventLoop()
        window.loaded.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
    window.wait_idle(timeout_ms)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise OSError(f"cannot write {out}")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="reid review", description="Review cross-camera identities.")
    parser.add_argument("db", nargs="?", help="database written by `reid process`")
    parser.add_argument("--screenshot", metavar="PNG", help="render the window to PNG after loading and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = platform_problem()
    if problem:
        print(f"reid review: error: {problem}", file=sys.stderr)
        return 2
    app = create_app()
    window = MainWindow()
    window.show()
    if args.db and not window.open_database(args.db) and args.screenshot:
        return 2
    if args.screenshot:
        out = screenshot(window, Path(args.screenshot))
        print(f"wrote {out}")
        window.close()
        return 0
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
