"""A coloured strip above the views that says what is wrong with the open file (read-only, missing videos)."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class Banner(QFrame):
    """Shows one line per message; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet("#banner { background: #fff3cd; border-bottom: 1px solid #e0c060; }"
                           "#banner QLabel { color: #5a4300; }")
        self._label = QLabel(self)
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(self._label.textInteractionFlags())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self._label)
        self._messages: list[str] = []
        self.hide()

    def set_messages(self, messages: list[str]) -> None:
        self._messages = list(messages)
        self._label.setText("\n".join(self._messages))
        self.setVisible(bool(self._messages))

    def messages(self) -> list[str]:
        return list(self._messages)

    def text(self) -> str:
        return self._label.text()
