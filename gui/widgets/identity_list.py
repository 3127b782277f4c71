"""The identity list: filters (camera, status, cost), a find box and a sortable table of identities."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models import ID_ROLE, IdentityFilterProxy, IdentityListModel

STATUSES = ("unreviewed", "partly reviewed", "reviewed")


class IdentityList(QWidget):
    """Shows ``IdentityListModel`` through ``IdentityFilterProxy``.

    ``current_changed(identity_id)`` (-1 for none) when the current row changes; ``find_failed(text)`` when
    the find box names no identity; ``filters_changed`` after the filters changed.
    """

    current_changed = Signal(int)
    find_failed = Signal(str)
    filters_changed = Signal()

    def __init__(self, model: IdentityListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = IdentityFilterProxy(self)
        self.proxy.setSourceModel(model)

        self.camera_box = QComboBox(self)
        self.status_box = QComboBox(self)
        self.status_box.addItem("any status", None)
        for s in STATUSES:
            self.status_box.addItem(s, s)
        self.cost_box = QDoubleSpinBox(self)
        self.cost_box.setRange(0.0, 2.0)
        self.cost_box.setSingleStep(0.05)
        self.cost_box.setDecimals(2)
        self.cost_box.setSpecialValueText("any cost")
        self.cost_box.setPrefix("cost ≥ ")
        self.cost_box.setToolTip("Show identities whose weakest link costs at least this much")
        self.find_edit = QLineEdit(self)
        self.find_edit.setPlaceholderText("Find identity # or name (Ctrl+F)")
        self.find_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)

        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((80, 120, 60, 66, 66, 100, 70)):
            header.resizeSection(col, width)

        filters = QHBoxLayout()
        filters.addWidget(self.camera_box)
        filters.addWidget(self.status_box)
        filters.addWidget(self.cost_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.find_edit)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)

        self.camera_box.currentIndexChanged.connect(self._apply_filters)
        self.status_box.currentIndexChanged.connect(self._apply_filters)
        self.cost_box.valueChanged.connect(self._apply_filters)
        self.find_edit.returnPressed.connect(self._find)
        self.view.selectionModel().currentRowChanged.connect(self._current_row_changed)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._update_count)
        self.set_cameras([])

    # --- filters
    def set_cameras(self, cameras: list[str]) -> None:
        current = self.camera_box.currentData()
        self.camera_box.blockSignals(True)
        self.camera_box.clear()
        self.camera_box.addItem("all cameras", None)
        for cam in cameras:
            self.camera_box.addItem(cam, cam)
        i = self.camera_box.findData(current)
        self.camera_box.setCurrentIndex(max(i, 0))
        self.camera_box.blockSignals(False)

    def set_filters(self, camera: str | None = None, status: str | None = None, min_cost: float = 0.0) -> None:
        """Set the filter widgets (and so the proxy) from code; tests and ``find`` use it."""
        for box, value in ((self.camera_box, camera), (self.status_box, status)):
            box.blockSignals(True)
            box.setCurrentIndex(max(box.findData(value), 0))
            box.blockSignals(False)
        self.cost_box.blockSignals(True)
        self.cost_box.setValue(min_cost)
        self.cost_box.blockSignals(False)
        self._apply_filters()

    def _apply_filters(self) -> None:
        current = self.current_identity()
        cost = self.cost_box.value()
        self.proxy.set_filters(camera=self.camera_box.currentData(), status=self.status_box.currentData(),
                               min_cost=cost if cost > 0 else None)
        self.filters_changed.emit()
        if current is not None and not self.select_identity(current, clear_filters=False):
            self.current_changed.emit(self.current_identity() or -1)

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {total} identities" if shown != total else f"{total} identities")

    # --- selection
    def current_identity(self) -> int | None:
        idx = self.view.currentIndex()
        return None if not idx.isValid() else int(idx.siblingAtColumn(0).data(ID_ROLE))

    def selected_identities(self) -> list[int]:
        """Selected identity ids, the current one first."""
        rows = self.view.selectionModel().selectedRows()
        ids = [int(i.data(ID_ROLE)) for i in rows]
        current = self.current_identity()
        if current in ids:
            ids.remove(current)
            ids.insert(0, current)
        return ids

    def select_identity(self, identity_id: int, clear_filters: bool = True) -> bool:
        """Make ``identity_id`` current (clearing filters that hide it); False if it does not exist."""
        idx = self.proxy.find(identity_id)
        if not idx.isValid() and clear_filters and self.model.row_of(identity_id) is not None:
            self.set_filters()
            idx = self.proxy.find(identity_id)
        if not idx.isValid():
            return False
        self._select_proxy_row(idx.row())
        return True

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            self._select_proxy_row(row)

    def move(self, delta: int) -> None:
        row = self.view.currentIndex().row()
        self.select_row(max(0, min(self.proxy.rowCount() - 1, row + delta)) if row >= 0 else 0)

    def _select_proxy_row(self, row: int) -> None:
        idx = self.proxy.index(row, 0)
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.selectionModel().setCurrentIndex(idx, flags)
        self.view.scrollTo(idx)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(int(current.siblingAtColumn(0).data(ID_ROLE)) if current.isValid() else -1)

    # --- find
    def focus_find(self) -> None:
        self.find_edit.setFocus()
        self.find_edit.selectAll()

    def find(self, text: str) -> bool:
        """Select the identity whose number is ``text`` (``12`` or ``#12``) or whose name contains it."""
        text = text.strip()
        if not text:
            return False
        digits = text.lstrip("#")
        if digits.isdigit() and self.select_identity(int(digits)):
            return True
        needle = text.lower()
        for row in range(self.model.rowCount()):
            summary = self.model.summary(row)
            if needle in summary.name.lower() or (summary.note and needle in summary.note.lower()):
                return self.select_identity(summary.id)
        self.find_failed.emit(text)
        return False

    def _find(self) -> None:
        if self.find(self.find_edit.text()):
            self.view.setFocus()
