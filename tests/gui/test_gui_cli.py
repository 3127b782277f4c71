"""``reid review DB --screenshot PNG`` renders the loaded window and exits; ``gui.app.main`` likewise."""

from __future__ import annotations

from PySide6.QtGui import QImage

from reid.cli import main as reid_main


def test_reid_review_screenshot(video_db, tmp_path, qapp):
    out = tmp_path / "shot.png"
    assert reid_main(["review", str(video_db), "--screenshot", str(out)]) == 0
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 800


def test_reid_review_missing_database_is_a_clear_error(tmp_path, capsys, qapp):
    assert reid_main(["review", str(tmp_path / "none.db")]) == 2
    assert "none.db" in capsys.readouterr().err
