"""The vetoes of one identity: every cannot-link (a reviewer said "not the same person") between one of its
tracklets and another tracklet, both shown with their camera, time span, current identity and best crop, and
a button (Delete) to remove the one selected. The dialog shows rows it is given and asks for removals; the
decisions flow (``gui.decisions_flow``) reads and edits the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHeaderView, QWidget

from gui.model_base import DECORATION, DISPLAY, Index, RowsTableModel, format_time
from gui.widgets.table_dialog import TableDialog
from reid.store.rows import TrackletRow

Veto = tuple[TrackletRow, TrackletRow]  # (a tracklet of the identity, the tracklet it is kept apart from)


def describe(t: TrackletRow) -> str:
    """Three lines: the tracklet as the strip names it, its time span, the identity it is in now."""
    who = f"identity #{t.identity_id}" if t.identity_id is not None else "unlinked"
    span = f"{format_time(t.first_time)}–{format_time(t.last_time)}"
    return (
        f"#{t.id} · {t.camera} · track {t.track_id}\n{span} · {t.n_detections} det\n{who} ({t.state or '—'})"
    )


class VetoModel(RowsTableModel):
    """One row per veto; each column one of its two tracklets (text, and the best crop as decoration)."""

    COLUMNS = ("Tracklet of this identity", "Kept apart from")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Veto] = []
        self._thumbnails: Any = None

    def set_rows(self, rows: Sequence[Veto], thumbnails: Any = None) -> None:
        self.beginResetModel()
        if thumbnails is not self._thumbnails:
            if self._thumbnails is not None:
                self._thumbnails.ready.disconnect(self._thumbnail_ready)
            if thumbnails is not None:
                thumbnails.ready.connect(self._thumbnail_ready)
            self._thumbnails = thumbnails
        self._rows = list(rows)
        self.endResetModel()

    def pair(self, row: int) -> tuple[int, int]:
        a, b = self._rows[row]
        return a.id, b.id

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        t = self._rows[index.row()][index.column()]
        if role == DISPLAY:
            return describe(t)
        if role == DECORATION and self._thumbnails is not None:
            return self._thumbnails.best(t.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{t.video_path}\nframes {t.first_frame}–{t.last_frame}"
        return None

    def _thumbnail_ready(self, tracklet_id: int) -> None:
        for i, pair in enumerate(self._rows):
            for col, t in enumerate(pair):
                if t.id == tracklet_id:
                    idx = self.index(i, col)
                    self.dataChanged.emit(idx, idx, [DECORATION])


class VetoesDialog(TableDialog):
    """Non-modal. ``remove_requested(a, b)``: remove the veto between tracklets ``a`` and ``b``."""

    remove_requested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.model: VetoModel = VetoModel()
        super().__init__(self.model, "Remove veto", parent)
        self.model.setParent(self)
        self.remove_button = self.action_button
        self.resize(640, 420)
        self.identity: int | None = None
        self.view.setIconSize(QSize(40, 72))
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.remove_button.setToolTip(
            "The two tracklets may be linked again (Delete); Ctrl+Z in the window undoes it"
        )
        remove = QAction("Remove veto", self)
        remove.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
        remove.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        remove.triggered.connect(self.remove_selected)
        self.addAction(remove)

    def set_vetoes(self, identity_id: int, rows: Sequence[Veto], thumbnails: Any = None) -> None:
        """Show ``identity_id``'s vetoes, keeping the selected row's place."""
        keep = self.view.currentIndex().row()
        self.identity = identity_id
        self.setWindowTitle(f"Vetoes of identity #{identity_id}")
        self.model.set_rows(rows, thumbnails)
        n = len(rows)
        self.label.setText(
            f"Identity #{identity_id}: {n} veto{'es' if n != 1 else ''} (pairs a reviewer said are different "
            "people; the linker never joins them). Remove one to let the two be linked again."
            if n
            else f"Identity #{identity_id} has no vetoes: no reviewer has kept its tracklets apart from others."
        )
        if n:
            self.view.selectRow(min(max(keep, 0), n - 1))
        self.view.resizeRowsToContents()

    def selected_pair(self) -> tuple[int, int] | None:
        idx: QModelIndex = self.view.currentIndex()
        rows = self.view.selectionModel().selectedRows()
        if not rows or not idx.isValid():
            return None
        return self.model.pair(idx.row())

    def remove_selected(self) -> None:
        pair = self.selected_pair()
        if pair is not None:
            self.remove_requested.emit(*pair)

    def act(self) -> None:
        self.remove_selected()

    def action_enabled(self) -> bool:
        return self.selected_pair() is not None
