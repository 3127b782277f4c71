"""The query-by-example results as a Qt list model: ranked nearest tracklets of a query, each with its review
mark and whether its timing can fit the query's (``gui.timing.timing_fit``). A thin adapter over rows handed
in with ``set_rows``; thumbnails come from ``gui.workers.ThumbnailCache`` (a placeholder until decoded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap

from gui.model_base import (
    _USER,
    CAMERA_ROLE,
    CONFIRMED,
    DECORATION,
    DISPLAY,
    ID_ROLE,
    REJECTED,
    ROW_ROLE,
    Index,
    format_time,
    tracklet_name,
)
from reid.store.rows import TrackletRow

DIMMED = QColor(150, 150, 150)  # text of a result whose timing cannot fit the query
DIM_OPACITY = 0.35  # its crop, painted this opaque over white


class NearestModel(QAbstractListModel):
    """Ranked nearest tracklets of a query: ``(TrackletRow, distance, mark)`` rows, with a timing verdict each.

    ``mark``: 'same' (confirmed in the query's identity: green border), 'cannot' (a reviewer said not the
    same person: red border) or None. The decoration is the best crop with that border drawn in; a result
    whose timing cannot fit (``FITS_ROLE`` False) is dimmed, not hidden.
    """

    DISTANCE_ROLE = _USER + 30
    MARK_ROLE = _USER + 31
    FITS_ROLE = _USER + 32  # bool, None when no verdict was given
    TIMING_ROLE = _USER + 33  # the verdict in words, e.g. "other camera, gap 8.1 s later"

    def __init__(self, thumbnails: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._rows: list[tuple[TrackletRow, float, str | None]] = []
        self._timing: list[tuple[bool, str] | None] = []
        self._decorated: dict[int, QPixmap] = {}
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    def set_thumbnails(self, thumbnails: Any) -> None:
        self._thumbnails = thumbnails
        self._decorated.clear()
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    def set_rows(
        self,
        rows: Sequence[tuple[TrackletRow, float, str | None]],
        timing: Sequence[tuple[bool, str]] | None = None,
    ) -> None:
        """``rows`` nearest first; ``timing``: one ``timing_fit`` verdict per row (None: not judged)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._timing = list(timing) if timing is not None else [None] * len(self._rows)
        if len(self._timing) != len(self._rows):
            raise ValueError(f"{len(self._timing)} timing verdicts for {len(self._rows)} results")
        self._decorated.clear()
        self.endResetModel()

    def row(self, row: int) -> tuple[TrackletRow, float, str | None]:
        return self._rows[row]

    def timing(self, row: int) -> tuple[bool, str] | None:
        return self._timing[row]

    def _thumbnail_ready(self, tracklet_id: int) -> None:
        for i, (t, _, _) in enumerate(self._rows):
            if t.id == tracklet_id:
                self._decorated.pop(tracklet_id, None)
                idx = self.index(i, 0)
                self.dataChanged.emit(idx, idx, [DECORATION])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        t, dist, mark = self._rows[index.row()]
        timing = self._timing[index.row()]
        if role == DISPLAY:
            who = f"identity #{t.identity_id}" if t.identity_id is not None else "unlinked"
            text = (
                f"{index.row() + 1}. {tracklet_name(t)}\n{t.camera} · {format_time(t.first_time)}–"
                f"{format_time(t.last_time)}\n{who} · d {dist:.3f}"
            )
            return text if timing is None else f"{text}\n{timing[1]}"
        if role == DECORATION and self._thumbnails is not None:
            return self._decoration(t.id, mark, timing is None or timing[0])
        if role == ID_ROLE:
            return t.id
        if role == self.DISTANCE_ROLE:
            return dist
        if role == self.MARK_ROLE:
            return mark
        if role == self.FITS_ROLE:
            return None if timing is None else timing[0]
        if role == self.TIMING_ROLE:
            return None if timing is None else timing[1]
        if role == CAMERA_ROLE:
            return t.camera
        if role == ROW_ROLE:
            return t
        if role == Qt.ItemDataRole.ForegroundRole and timing is not None and not timing[0]:
            return QBrush(DIMMED)
        if role == Qt.ItemDataRole.ToolTipRole:
            fit = (
                ""
                if timing is None
                else f"\ntiming: {timing[1]}" + ("" if timing[0] else " — cannot be one person")
            )
            return f"tracklet {tracklet_name(t)}, {t.camera}, {t.video_path}\nstate: {t.state or 'unlinked'}{fit}"
        return None

    def _decoration(self, tracklet_id: int, mark: str | None, fits: bool) -> QPixmap:
        if not self._thumbnails.has(tracklet_id):
            return self._thumbnails.best(tracklet_id)  # placeholder; the worker is asked for it
        pix = self._decorated.get(tracklet_id)
        if pix is None:
            pix = bordered(self._thumbnails.best(tracklet_id), mark)
            self._decorated[tracklet_id] = pix if fits else dimmed(pix)
        return self._decorated[tracklet_id]


def bordered(pixmap: QPixmap, mark: str | None, width: int = 4) -> QPixmap:
    """A copy of ``pixmap`` inside a frame: green for 'same', red for 'cannot', light grey otherwise."""
    color = {"same": CONFIRMED, "cannot": REJECTED}.get(mark or "", QColor(225, 225, 225))
    out = QPixmap(pixmap.width() + 2 * width, pixmap.height() + 2 * width)
    out.fill(color)
    painter = QPainter(out)
    painter.drawPixmap(width, width, pixmap)
    painter.setPen(QPen(color))
    painter.end()
    return out


def dimmed(pixmap: QPixmap) -> QPixmap:
    """``pixmap`` faded towards white (``DIM_OPACITY``): a result that cannot be the query's person."""
    out = QPixmap(pixmap.size())
    out.fill(QColor(255, 255, 255))
    painter = QPainter(out)
    painter.setOpacity(DIM_OPACITY)
    painter.drawPixmap(0, 0, pixmap)
    painter.end()
    return out
