"""A translucent sheet over the window listing every shortcut (F1 or ?); Esc, a click or F1 closes it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget


def shortcut_rows(actions: Sequence[QAction]) -> list[tuple[str, str]]:
    """``(keys, what)`` for every action with a shortcut, e.g. ``("Y", "Confirm link")``."""
    rows = []
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((" / ".join(keys), action.text().replace("&", "").rstrip("…").strip()))
    return rows


class HelpOverlay(QWidget):
    """Covers its parent; paints the shortcut table in two columns."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, str]] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        parent.installEventFilter(self)
        self.hide()

    def set_actions(self, actions: Sequence[QAction]) -> None:
        self._rows = shortcut_rows(actions)

    def rows(self) -> list[tuple[str, str]]:
        return list(self._rows)

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()
            self.show()
            self.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def keyPressEvent(self, event: object) -> None:
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 30, 215))
        p.setPen(QColor(255, 255, 255))
        title = QFont(self.font())
        title.setPointSize(title.pointSize() + 6)
        title.setBold(True)
        p.setFont(title)
        p.drawText(QRect(0, 20, self.width(), 40), Qt.AlignmentFlag.AlignHCenter, "Keyboard shortcuts")
        body = QFont(self.font())
        body.setPointSize(body.pointSize() + 1)
        p.setFont(body)
        line = p.fontMetrics().height() + 6
        half = (len(self._rows) + 1) // 2
        col_w = min(420, (self.width() - 80) // 2)
        x0 = (self.width() - 2 * col_w) // 2
        for i, (keys, what) in enumerate(self._rows):
            col, row = divmod(i, half)
            x, y = x0 + col * col_w, 80 + row * line
            p.setPen(QColor(255, 210, 120))
            p.drawText(QRect(x, y, 150, line), Qt.AlignmentFlag.AlignLeft, keys)
            p.setPen(QColor(255, 255, 255))
            p.drawText(QRect(x + 155, y, col_w - 160, line), Qt.AlignmentFlag.AlignLeft, what)
        p.setPen(QColor(180, 180, 190))
        p.drawText(QRect(0, self.height() - 40, self.width(), 30), Qt.AlignmentFlag.AlignHCenter,
                   "Press any key or click to close")
        p.end()
