"""What the window shows instead of the views when there is nothing to review."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    """A title, an explanation and an optional "Open…" button, centred."""

    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel(self)
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self._title.font()
        font.setPointSize(font.pointSize() + 6)
        self._title.setFont(font)
        self._text = QLabel(self)
        self._text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._text.setWordWrap(True)
        self._button = QPushButton("Open database…", self)
        self._button.clicked.connect(self.open_requested)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self._title)
        layout.addWidget(self._text)
        layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        self.show_no_database()

    def show_no_database(self) -> None:
        self._set("No database open",
                  "Open a database written by “reid process” (File ▸ Open…, Ctrl+O) to review its identities.",
                  True)

    def show_empty_database(self, path: str) -> None:
        self._set("Nothing to review yet",
                  f"{path} holds no identities yet. Run “reid process” on your videos with this database to fill "
                  "it, then open it again.", True)

    def show_loading(self, path: str) -> None:
        self._set("Loading…", path, False)

    def _set(self, title: str, text: str, button: bool) -> None:
        self._title.setText(title)
        self._text.setText(text)
        self._button.setVisible(button)

    def title(self) -> str:
        return self._title.text()

    def text(self) -> str:
        return self._text.text()
