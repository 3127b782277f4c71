"""Fixtures of the GUI tests: Qt offscreen, tiny databases (one with real video files), a window whose
dialogs are scripted and whose settings live in the test's folder."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fake_store import populate  # noqa: E402  (tests/fake_store.py)
from gui_helpers import FakeDialogs, make_video_db  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from reid.store import Store  # noqa: E402


@pytest.fixture
def video_db(tmp_path) -> Path:
    return make_video_db(tmp_path)


@pytest.fixture(scope="session")
def synthetic_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("synthetic") / "synthetic.db"
    with Store(db) as store:
        populate(store, n_tracklets=90, n_cameras=3, seed=3)
    return db


@pytest.fixture
def synthetic_db(synthetic_template, tmp_path) -> Path:
    """A fresh copy of a 90-tracklet populated database (videos missing: /synthetic/...)."""
    import sqlite3

    db = tmp_path / "synthetic.db"
    src, dst = sqlite3.connect(synthetic_template), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    return db


@pytest.fixture
def dialogs() -> FakeDialogs:
    return FakeDialogs()


@pytest.fixture
def window(qtbot, tmp_path, dialogs):
    from gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, dialogs=dialogs)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


@pytest.fixture
def shots(tmp_path):
    """Where a test saves the screenshots it takes: ``$REID_SHOTS`` to keep and look at them, else tmp_path."""
    folder = Path(os.environ["REID_SHOTS"]) if os.environ.get("REID_SHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder
