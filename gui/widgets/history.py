"""The decision history of the open database: its review log in the current undo history, newest first, with
a button to revert one decision (as a new edit that Ctrl+Z takes back) without undoing the ones after it.
The dialog shows entries it is given and asks for reverts; the decisions flow (``gui.decisions_flow``) reads
the log and makes the edit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QWidget

from gui.model_base import DISPLAY, Index, RowsTableModel
from gui.widgets.table_dialog import TableDialog
from reid.store.rows import ReviewLogRow

UNDONE_FG = QColor(140, 140, 140)


class HistoryModel(RowsTableModel):
    """Review-log entries, newest first: when, what, and whether it is in effect or undone."""

    COLUMNS = ("#", "When", "Decision", "State")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ReviewLogRow] = []

    def set_rows(self, entries: Sequence[ReviewLogRow]) -> None:
        """``entries`` as ``Store.review_log`` gives them (oldest first); only the current history is kept."""
        self.beginResetModel()
        self._rows = [e for e in reversed(entries) if e.undoable]
        self.endResetModel()

    def entry(self, row: int) -> ReviewLogRow:
        return self._rows[row]

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        if role == DISPLAY:
            return (
                str(e.id),
                e.ts.replace("T", " ")[:19],
                e.description,
                "undone" if e.undone else "in effect",
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and e.undone:
            return QBrush(UNDONE_FG)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.action}: {e.description}"
        return None


class HistoryDialog(TableDialog):
    """Non-modal. ``revert_requested(entry_id)``: revert that decision, keeping every later one."""

    revert_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.model: HistoryModel = HistoryModel()
        super().__init__(self.model, "Revert this decision", parent)
        self.model.setParent(self)
        self.revert_button = self.action_button
        self.setWindowTitle("Decision history")
        self.resize(680, 420)
        self.label.setText(
            "Decisions on this database, newest first. Reverting one undoes just that decision, as a new edit "
            "(Ctrl+Z takes the revert back); it is refused when a later decision changed the same tracklets."
        )
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def set_entries(self, entries: Sequence[ReviewLogRow]) -> None:
        """Show ``entries`` (``Store.review_log``, oldest first), keeping the selected entry selected."""
        keep = self.selected_entry()
        self.model.set_rows(entries)
        rows = [self.model.entry(i).id for i in range(self.model.rowCount())]
        if rows:
            self.view.selectRow(rows.index(keep.id) if keep is not None and keep.id in rows else 0)
        self._update_button()

    def select_entry(self, entry_id: int) -> bool:
        rows = [self.model.entry(i).id for i in range(self.model.rowCount())]
        if entry_id not in rows:
            return False
        self.view.selectRow(rows.index(entry_id))
        return True

    def selected_entry(self) -> ReviewLogRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.entry(rows[0].row()) if rows else None

    def act(self) -> None:
        self.revert_selected()

    def revert_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None and not entry.undone:
            self.revert_requested.emit(entry.id)

    def action_enabled(self) -> bool:
        entry = self.selected_entry()
        return entry is not None and not entry.undone
