"""Every modal question the window asks, in one replaceable object (tests pass a scripted stand-in)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)

from gui.widgets.identity_picker import IdentityPicker, IdentityPictures


class Dialogs:
    """Blocking dialogs. Return None when the user cancels."""

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def open_database(self, parent: QWidget | None, start: str = "") -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            parent, "Open database", start, "reid databases (*.db *.sqlite *.sqlite3);;All files (*)"
        )
        return path or None

    def choose_folder(self, parent: QWidget | None, title: str, start: str = "") -> str | None:
        return QFileDialog.getExistingDirectory(parent, title, start) or None

    def choose_identity(
        self,
        parent: QWidget | None,
        title: str,
        candidates: Sequence[tuple[int, str]],
        pictures: IdentityPictures | None = None,
    ) -> int | None:
        """Pick one identity from ``(id, label)`` pairs in ``IdentityPicker`` (a picture of each when
        ``pictures`` is given, nothing preselected); typing an id that is not listed is accepted too."""
        dialog = IdentityPicker(parent, title, candidates, pictures)
        try:
            return dialog.choice if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()

    def annotate(
        self, parent: QWidget | None, identity_id: int, name: str, note: str
    ) -> tuple[str, str] | None:
        dialog = QDialog(parent)
        dialog.setWindowTitle(f"Annotate identity #{identity_id}")
        name_edit = QLineEdit(name, dialog)
        note_edit = QPlainTextEdit(note, dialog)
        note_edit.setFixedHeight(80)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form = QFormLayout(dialog)
        form.addRow("Name", name_edit)
        form.addRow("Note", note_edit)
        form.addRow(buttons)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return name_edit.text().strip(), note_edit.toPlainText().strip()
