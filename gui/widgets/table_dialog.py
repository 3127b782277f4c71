"""A non-modal dialog around one table of rows: a line of text above, the table (whole rows, one at a time,
read-only), one action button beside Close. The vetoes and decision-history dialogs are such tables."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)


class TableDialog(QDialog):
    """``model`` shown in ``view`` under ``label``; ``action_button`` (text ``action``) runs ``act`` and is
    enabled by ``action_enabled`` whenever the rows or the selection change."""

    def __init__(self, model: QAbstractItemModel, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.model = model
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.view = QTableView(self)
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.action_button = QPushButton(action, self)
        self.action_button.clicked.connect(self.act)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.addButton(self.action_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        model.modelReset.connect(self._update_button)
        self.view.selectionModel().selectionChanged.connect(self._update_button)

    def act(self) -> None:
        """The action button (subclasses)."""

    def action_enabled(self) -> bool:
        return True

    def _update_button(self) -> None:
        self.action_button.setEnabled(self.action_enabled())
