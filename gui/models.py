"""Qt item models: thin adapters over plain rows of ``reid.store`` (``IdentitySummary``, ``TrackletRow`` ...).

The rows are fetched by the window (in a worker thread) and handed in with ``set_rows``; models never query
the database themselves. Thumbnails are a role (``DecorationRole``) served from ``gui.workers.ThumbnailCache``
with a placeholder until the worker has decoded them.

This module holds the identity list (model + filter proxy); the roles, colours and formatting live in
``gui.model_base``, the tracklet, detection and camera models in ``gui.tracklet_models``, the nearest results
in ``gui.nearest_model``; all are re-exported here (one import path for every model of the app).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush

from gui.model_base import (
    CAMERA_ROLE,
    CONFIRMED_BG,
    COST_ROLE,
    DECORATION,
    DISPLAY,
    ID_ROLE,
    ROW_ROLE,
    SORT_ROLE,
    STATE_ROLE,
    THUMBNAIL_ROLE,
    Index,
    RowsTableModel,
    format_cost,
    format_time,
    tracklet_name,
)
from gui.nearest_model import NearestModel, bordered
from gui.tracklet_models import CameraCountModel, DetectionModel, TrackletModel
from reid.store.rows import IdentitySummary

# ---------------------------------------------------------------------------------------------- identities


class IdentityListModel(RowsTableModel):
    """One row per active identity (``IdentitySummary``); sorting happens here on the Python list."""

    COLUMNS = ("Identity", "Cameras", "Tracklets", "First seen", "Last seen", "Status", "Weakest cost")
    ID, CAMERAS, TRACKLETS, FIRST, LAST, STATUS, COST = range(7)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[IdentitySummary] = []
        self._row_of: dict[int, int] = {}
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # --- plain state in
    def set_rows(self, rows: Sequence[IdentitySummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        if self._sort is not None:
            self._rows = self._sorted(self._rows, *self._sort)
        self._reindex()
        self.endResetModel()

    def update_rows(self, rows: Sequence[IdentitySummary]) -> None:
        """Apply a fresh query keeping row positions (so selections and scroll survive an edit)."""
        new = {r.id: r for r in rows}
        gone = [i for i, r in enumerate(self._rows) if r.id not in new]
        for i in reversed(gone):  # contiguous runs would be faster; edits remove one or two rows
            self.beginRemoveRows(QModelIndex(), i, i)
            del self._rows[i]
            self.endRemoveRows()
        self._reindex()
        last = len(self.COLUMNS) - 1
        for i, old in enumerate(self._rows):
            fresh = new[old.id]
            if fresh != old:
                self._rows[i] = fresh
                self.dataChanged.emit(self.index(i, 0), self.index(i, last))
        added = [r for r in rows if r.id not in self._row_of]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self._reindex()
            self.endInsertRows()
        if self._sort is not None:
            self.sort(*self._sort)

    def _reindex(self) -> None:
        self._row_of = {r.id: i for i, r in enumerate(self._rows)}

    # --- plain state out
    def summary(self, row: int) -> IdentitySummary:
        return self._rows[row]

    def row_of(self, identity_id: int) -> int | None:
        return self._row_of.get(identity_id)

    def identity_ids(self) -> list[int]:
        return [r.id for r in self._rows]

    def cameras(self) -> list[str]:
        return sorted({c for r in self._rows for c in r.cameras})

    # --- Qt
    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == DISPLAY:
            return self._display(r, col)
        if role == ID_ROLE:
            return r.id
        if role == SORT_ROLE:
            value = self._key(col)(r)
            return str(value) if isinstance(value, tuple) else value
        if role == STATE_ROLE:
            return r.status
        if role == COST_ROLE:
            return r.weakest_cost
        if role == CAMERA_ROLE:
            return r.cameras
        if role == ROW_ROLE:
            return r
        if role == Qt.ItemDataRole.ToolTipRole and (r.name or r.note):
            return "\n".join(x for x in (r.name, r.note) if x)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.TRACKLETS, self.COST):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and col == self.STATUS and r.status == "reviewed":
            return QBrush(CONFIRMED_BG)
        return None

    def _display(self, r: IdentitySummary, col: int) -> str:
        if col == self.ID:
            return f"#{r.id}  {r.name}" if r.name else f"#{r.id}"
        if col == self.CAMERAS:
            return ", ".join(r.cameras)
        if col == self.TRACKLETS:
            return str(r.n_tracklets)
        if col == self.FIRST:
            return format_time(r.first_time)
        if col == self.LAST:
            return format_time(r.last_time)
        if col == self.STATUS:
            return r.status
        return format_cost(r.weakest_cost)

    @classmethod
    def _key(cls, col: int) -> Any:
        keys = {
            cls.ID: lambda r: r.id,
            cls.CAMERAS: lambda r: (len(r.cameras), r.cameras),
            cls.TRACKLETS: lambda r: r.n_tracklets,
            cls.FIRST: lambda r: r.first_time,
            cls.LAST: lambda r: r.last_time,
            cls.STATUS: lambda r: r.status,
            cls.COST: lambda r: r.weakest_cost,
        }
        return keys[col]

    @classmethod
    def _sorted(cls, rows: list[IdentitySummary], col: int, order: Qt.SortOrder) -> list[IdentitySummary]:
        """Rows sorted by column ``col``; identities without a cost go last in either order."""
        key = cls._key(col)
        known = [r for r in rows if key(r) is not None]
        known.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        return known + [r for r in rows if key(r) is None]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._rows[i.row()].id for i in persistent]
        self._rows = self._sorted(self._rows, column, order)
        self._reindex()
        self.changePersistentIndexList(
            persistent,
            [self.index(self._row_of[i], p.column()) for i, p in zip(ids, persistent, strict=True)],
        )
        self.layoutChanged.emit()


class IdentityFilterProxy(QSortFilterProxyModel):
    """Filters identities by camera, status and weakest link cost; sorting is delegated to the source
    (a Python sort of 10,000 rows takes milliseconds, a proxy comparing through ``data()`` most of a second)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.camera: str | None = None
        self.status: str | None = None
        self.min_cost: float | None = None
        self.max_cost: float | None = None

    def set_filters(
        self,
        camera: str | None = None,
        status: str | None = None,
        min_cost: float | None = None,
        max_cost: float | None = None,
    ) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.camera, self.status, self.min_cost, self.max_cost = camera, status, min_cost, max_cost
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.camera, self.status, self.min_cost, self.max_cost = camera, status, min_cost, max_cost
            self.invalidateRowsFilter()

    def clear_filters(self) -> None:
        self.set_filters()

    @property
    def filtering(self) -> bool:
        return any(v is not None for v in (self.camera, self.status, self.min_cost, self.max_cost))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self.camera is None and self.status is None and self.min_cost is None and self.max_cost is None:
            return True  # ``filtering`` spelt out: this runs once per identity on every reset
        r = self.sourceModel().summary(source_row)
        if self.camera is not None and self.camera not in r.cameras:
            return False
        if self.status is not None and r.status != self.status:
            return False
        if self.min_cost is not None and (r.weakest_cost is None or r.weakest_cost < self.min_cost):
            return False
        return not (
            self.max_cost is not None and r.weakest_cost is not None and r.weakest_cost > self.max_cost
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def find(self, identity_id: int) -> QModelIndex:
        """Proxy index of the identity (column 0); invalid when unknown or filtered out."""
        row = self.sourceModel().row_of(identity_id)
        if row is None:
            return QModelIndex()
        return self.mapFromSource(self.sourceModel().index(row, 0))

    def identity_id(self, proxy_row: int) -> int:
        return self.sourceModel().summary(self.mapToSource(self.index(proxy_row, 0)).row()).id


__all__ = [
    "CAMERA_ROLE",
    "COST_ROLE",
    "DECORATION",
    "DISPLAY",
    "ID_ROLE",
    "ROW_ROLE",
    "SORT_ROLE",
    "STATE_ROLE",
    "THUMBNAIL_ROLE",
    "CameraCountModel",
    "DetectionModel",
    "IdentityFilterProxy",
    "IdentityListModel",
    "NearestModel",
    "TrackletModel",
    "bordered",
    "format_cost",
    "format_time",
    "tracklet_name",
]
