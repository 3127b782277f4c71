"""What every item model of the app shares: the roles, the colours, time and cost formatting, and
``RowsTableModel`` (a flat table over a list of rows). ``gui.models`` and ``gui.tracklet_models`` both build on
it, so neither imports the other's internals."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
DECORATION = Qt.ItemDataRole.DecorationRole
_USER = int(Qt.ItemDataRole.UserRole)
ID_ROLE = _USER + 1  # identity id (IdentityListModel) or tracklet id (tracklet models)
SORT_ROLE = _USER + 2  # raw value of the column
STATE_ROLE = _USER + 3  # 'proposed' | 'confirmed' | identity status
COST_ROLE = _USER + 4
CAMERA_ROLE = _USER + 5
THUMBNAIL_ROLE = _USER + 6  # QPixmap strip (tracklets) or best crop (nearest)
ROW_ROLE = _USER + 7  # the plain row object

CONFIRMED_BG = QColor(214, 240, 214)
REJECTED = QColor(200, 40, 40)
CONFIRMED = QColor(40, 150, 60)
WEAK_BG = QColor(255, 236, 200)


def format_time(t: float | None) -> str:
    """Seconds -> 'HH:MM:SS' (or a date and time for Unix timestamps)."""
    if t is None:
        return "—"
    if t >= 1e9:
        return _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
    t = max(0.0, t)
    h, rem = divmod(int(t), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def format_cost(cost: float | None) -> str:
    return "—" if cost is None else f"{cost:.3f}"


def tracklet_name(t: Any) -> str:
    """How every view names a tracklet: its database id and its camera's track number, "#12 · track 3"
    (the tracklet strip, the nearest results, compare and the merge dialog say the same)."""
    return f"#{t.id} · track {t.track_id}"


class RowsTableModel(QAbstractTableModel):
    """A flat table over ``self._rows`` (one item per row) with the header ``COLUMNS``."""

    COLUMNS: Sequence[str] = ()
    _rows: Sequence[Any]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY:
            return self.COLUMNS[section]
        return None
