"""Tracklets of the selected identity, grouped by camera, each with a strip of its best crops. Several can be
selected (Ctrl/Shift+click, or ``extend`` from the keyboard) to split them off together."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QSize, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QVBoxLayout, QWidget

from gui.models import ID_ROLE, TrackletModel


class TrackletStrips(QWidget):
    """A tree (camera -> tracklet) over ``TrackletModel``; thumbnails arrive lazily from the cache.

    ``current_changed(tracklet_id)`` (-1 for none) when the current tracklet changes. ``extend(delta)`` moves
    the current tracklet and selects every tracklet from the anchor (where the selection started) to it, in
    display order, across cameras.
    """

    current_changed = Signal(int)

    def __init__(self, model: TrackletModel, thumb_height: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = QTreeView(self)
        self.view.setModel(model)
        self._anchor: int | None = None  # where a keyboard-extended selection started: the last current row
        self._extending = False  # set by it
        self.view.setIconSize(QSize(1000, thumb_height))  # width: the whole strip
        self.view.setUniformRowHeights(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setRootIsDecorated(False)
        self.view.setItemsExpandable(False)
        self.view.setExpandsOnDoubleClick(False)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.view.header().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        model.modelReset.connect(self.view.expandAll)
        self.view.selectionModel().currentRowChanged.connect(self._current_row_changed)

    def current_tracklet(self) -> int | None:
        idx = self.view.currentIndex()
        if not idx.isValid() or idx.internalId() == 0:
            return None
        return int(idx.siblingAtColumn(0).data(ID_ROLE))

    def selected_tracklets(self) -> list[int]:
        """Selected tracklet ids, the current one first."""
        ids = [int(i.data(ID_ROLE)) for i in self.view.selectionModel().selectedRows() if i.internalId() != 0]
        current = self.current_tracklet()
        if current in ids:
            ids.remove(current)
            ids.insert(0, current)
        return ids

    def select_tracklet(self, tracklet_id: int) -> bool:
        idx = self.model.index_of(tracklet_id)
        if not idx.isValid():
            return False
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(idx, flags)
        self.view.scrollTo(idx)
        self._anchor = tracklet_id
        return True

    def extend(self, delta: int) -> None:
        """Shift+Left/Right: move the current tracklet by ``delta`` and select the range from the anchor."""
        ids = [t.id for t in self.model.rows()]
        current = self.current_tracklet()
        if current not in ids:
            self.move(delta)
            return
        if self._anchor not in ids:
            self._anchor = current
        anchor = ids.index(self._anchor)  # type: ignore[arg-type]
        end = max(0, min(len(ids) - 1, ids.index(current) + delta))
        selection = QItemSelection()
        for tid in ids[min(anchor, end) : max(anchor, end) + 1]:
            idx = self.model.index_of(tid)
            selection.select(idx, idx)
        model = self.view.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        self._extending = True
        try:
            model.setCurrentIndex(self.model.index_of(ids[end]), flags.NoUpdate)
        finally:
            self._extending = False
        model.select(selection, flags.ClearAndSelect | flags.Rows)
        self.view.scrollTo(self.model.index_of(ids[end]))

    def move(self, delta: int) -> None:
        ids = [t.id for t in self.model.rows()]
        if not ids:
            return
        current = self.current_tracklet()
        i = ids.index(current) + delta if current in ids else 0
        self.select_tracklet(ids[max(0, min(len(ids) - 1, i))])

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.internalId() != 0:
            tracklet_id = int(current.siblingAtColumn(0).data(ID_ROLE))
            if not self._extending:  # a click, an arrow key or a selection by the window: extend from here
                self._anchor = tracklet_id
            self.current_changed.emit(tracklet_id)
        else:
            self.current_changed.emit(-1)
