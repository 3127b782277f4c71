"""Qt item models of one identity's tracklets, one tracklet's detections and the per-camera counts (the
query-by-example results: ``gui.nearest_model``). Thin adapters over ``reid.store`` rows handed in with
``set_rows``; thumbnails are a role served from ``gui.workers.ThumbnailCache`` (a placeholder until the worker
has decoded them)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QModelIndex,
    QObject,
    Qt,
)
from PySide6.QtGui import QBrush, QFont

from gui.model_base import (
    _USER,
    CAMERA_ROLE,
    CONFIRMED_BG,
    COST_ROLE,
    DECORATION,
    DISPLAY,
    ID_ROLE,
    ROW_ROLE,
    STATE_ROLE,
    THUMBNAIL_ROLE,
    WEAK_BG,
    Index,
    RowsTableModel,
    format_time,
    tracklet_name,
)
from reid.store.rows import CameraRow, DetectionRow, TrackletRow


class TrackletModel(QAbstractItemModel):
    """Tracklets of one identity as a two-level tree: camera -> tracklets (by time).

    Columns: 0 a text summary, 1 the thumbnail strip (``DecorationRole``, from the cache).
    Internal id 0 marks a camera row; ``k + 1`` a tracklet of camera row ``k``.
    """

    COLUMNS = ("Tracklet", "Thumbnails")

    def __init__(self, thumbnails: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._cameras: list[str] = []
        self._groups: list[list[TrackletRow]] = []
        self._where: dict[int, tuple[int, int]] = {}
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    def set_thumbnails(self, thumbnails: Any) -> None:
        self._thumbnails = thumbnails
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    def set_rows(self, rows: Sequence[TrackletRow]) -> None:
        self.beginResetModel()
        by_camera: dict[str, list[TrackletRow]] = {}
        for r in sorted(rows, key=lambda r: (r.camera, r.first_time, r.id)):
            by_camera.setdefault(r.camera, []).append(r)
        self._cameras = list(by_camera)
        self._groups = list(by_camera.values())
        self._where = {t.id: (g, i) for g, group in enumerate(self._groups) for i, t in enumerate(group)}
        self.endResetModel()

    def rows(self) -> list[TrackletRow]:
        """All tracklets in display order (camera, time)."""
        return [t for group in self._groups for t in group]

    def tracklet(self, tracklet_id: int) -> TrackletRow | None:
        where = self._where.get(tracklet_id)
        return None if where is None else self._groups[where[0]][where[1]]

    def index_of(self, tracklet_id: int, column: int = 0) -> QModelIndex:
        where = self._where.get(tracklet_id)
        if where is None:
            return QModelIndex()
        return self.createIndex(where[1], column, where[0] + 1)

    def camera_index(self, camera: str) -> QModelIndex:
        return self.index(self._cameras.index(camera), 0) if camera in self._cameras else QModelIndex()

    def _thumbnail_ready(self, tracklet_id: int) -> None:
        idx = self.index_of(tracklet_id, 1)
        if idx.isValid():
            self.dataChanged.emit(idx, idx, [DECORATION, THUMBNAIL_ROLE])

    # --- Qt tree plumbing
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        if parent.internalId() == 0:
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: Index | None = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._cameras)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()])
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY:
            return self.COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == 0:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._camera_data(index.row(), index.column(), role)
        t = self._groups[index.internalId() - 1][index.row()]
        col = index.column()
        if role == ID_ROLE:
            return t.id
        if role == STATE_ROLE:
            return t.state
        if role == COST_ROLE:
            return t.cost
        if role == CAMERA_ROLE:
            return t.camera
        if role == ROW_ROLE:
            return t
        if role == DISPLAY and col == 0:
            state = t.state or "unlinked"
            cost = "" if t.cost is None else f" · cost {t.cost:.3f}"
            return (
                f"{tracklet_name(t)}\n{format_time(t.first_time)}–{format_time(t.last_time)}"
                f" · {t.n_detections} det\n{state}{cost}"
            )
        if role in (DECORATION, THUMBNAIL_ROLE) and col == 1 and self._thumbnails is not None:
            return self._thumbnails.strip(t.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            reason = getattr(t, "reason", None)  # why the linker proposed the link (stores before v3: none)
            return f"{t.video_path}\nframes {t.first_frame}–{t.last_frame}" + (
                f"\nlinked: {reason}" if reason else ""
            )
        if role == Qt.ItemDataRole.BackgroundRole:
            if t.state == "confirmed":
                return QBrush(CONFIRMED_BG)
            if t.confidence is not None and t.confidence < 0.25:
                return QBrush(WEAK_BG)
        return None

    def _camera_data(self, row: int, col: int, role: int) -> Any:
        if role == DISPLAY and col == 0:
            n = len(self._groups[row])
            return f"{self._cameras[row]} — {n} tracklet{'s' if n != 1 else ''}"
        if role == CAMERA_ROLE:
            return self._cameras[row]
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None


class DetectionModel(QAbstractListModel):
    """Detections of one tracklet (``DetectionRow``, sorted by frame); ``box_at`` interpolates between them."""

    FRAME_ROLE = _USER + 20
    BOX_ROLE = _USER + 21

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[DetectionRow] = []
        self._frames: list[int] = []

    def set_rows(self, rows: Sequence[DetectionRow]) -> None:
        self.beginResetModel()
        self._rows = sorted(rows, key=lambda d: d.frame)
        self._frames = [d.frame for d in self._rows]
        self.endResetModel()

    def frame_range(self) -> tuple[int, int] | None:
        return (self._frames[0], self._frames[-1]) if self._frames else None

    def box_at(self, frame: int) -> tuple[float, float, float, float] | None:
        """Box ``xyxy`` at ``frame``: the detection's, linearly interpolated between detections (strided
        processing), None outside the tracklet."""
        if not self._frames or frame < self._frames[0] or frame > self._frames[-1]:
            return None
        i = bisect.bisect_left(self._frames, frame)
        if self._frames[i] == frame:
            return self._rows[i].box
        a, b = self._rows[i - 1], self._rows[i]
        w = (frame - a.frame) / (b.frame - a.frame)
        return tuple(pa + w * (pb - pa) for pa, pb in zip(a.box, b.box, strict=True))  # type: ignore[return-value]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        d = self._rows[index.row()]
        if role == DISPLAY:
            return f"frame {d.frame} · {format_time(d.time)} · score {d.score:.2f}"
        if role == self.FRAME_ROLE:
            return d.frame
        if role == self.BOX_ROLE:
            return d.box
        return None


# ---------------------------------------------------------------------------------------------- cameras


class CameraCountModel(RowsTableModel):
    """Per-camera counts for the overview: camera, videos, tracklets, identities seen."""

    COLUMNS = ("Camera", "Videos", "Tracklets", "Identities")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, int, int, int]] = []

    def set_rows(self, cameras: Sequence[CameraRow], identities_per_camera: dict[str, int]) -> None:
        self.beginResetModel()
        self._rows = [
            (c.name, c.n_videos, c.n_tracklets, identities_per_camera.get(c.name, 0)) for c in cameras
        ]
        self.endResetModel()

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role == DISPLAY:
            return str(self._rows[index.row()][index.column()])
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
