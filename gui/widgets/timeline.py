"""Per-camera timeline of one identity: a lane per camera, a bar per tracklet from first to last sighting."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.models import format_time
from reid.store.rows import TrackletRow


class IdentityTimeline(QWidget):
    """Lanes for ``cameras``; bars green when confirmed, blue when proposed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cameras: list[str] = []
        self.tracklets: list[TrackletRow] = []
        self.title = ""
        self.setMinimumSize(300, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_tracklets(self, title: str, cameras: Sequence[str], tracklets: Sequence[TrackletRow]) -> None:
        self.title = title
        self.cameras = list(cameras) or sorted({t.camera for t in tracklets})
        self.tracklets = list(tracklets)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(255, 255, 255))
        p.setPen(QColor(60, 60, 60))
        p.drawText(QRectF(0, 2, self.width(), 20), Qt.AlignmentFlag.AlignHCenter, self.title or "Timeline")
        if not self.tracklets:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "select an identity")
            p.end()
            return
        left, right, top, bottom = 90, 16, 26, 24
        t0 = min(t.first_time for t in self.tracklets)
        t1 = max(t.last_time for t in self.tracklets)
        span = max(t1 - t0, 1e-6)
        lane_h = (self.height() - top - bottom) / max(len(self.cameras), 1)
        width = self.width() - left - right

        def x_of(t: float) -> float:
            return left + (t - t0) / span * width

        for i, cam in enumerate(self.cameras):
            y = top + i * lane_h
            p.fillRect(QRectF(left, y + 2, width, lane_h - 4), QColor(245, 245, 248))
            p.setPen(QColor(60, 60, 60))
            p.drawText(QRectF(4, y, left - 8, lane_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       cam)
        lane = {c: i for i, c in enumerate(self.cameras)}
        for t in self.tracklets:
            if t.camera not in lane:
                continue
            y = top + lane[t.camera] * lane_h
            color = QColor(60, 160, 80) if t.state == "confirmed" else QColor(70, 130, 200)
            x = x_of(t.first_time)
            p.fillRect(QRectF(x, y + lane_h * 0.25, max(3.0, x_of(t.last_time) - x), lane_h * 0.5), color)
        p.setPen(QColor(60, 60, 60))
        base = self.height() - bottom + 4
        p.drawText(QRectF(left - 40, base, 80, 18), Qt.AlignmentFlag.AlignHCenter, format_time(t0))
        p.drawText(QRectF(left + width - 120, base, 120 + right, 18), Qt.AlignmentFlag.AlignRight, format_time(t1))
        p.end()
