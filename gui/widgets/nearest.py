"""Query by example: the tracklets nearest to the current one, from every camera, ranked by embedding
distance. A green border marks a confirmed member of the query's identity, a red one a pair a reviewer
said is not the same person. Assign (Enter or double-click) moves a result into the query's identity."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.models import ID_ROLE, NearestModel, format_time
from reid.store.rows import TrackletRow


class NearestView(QWidget):
    """Shows a ``NearestModel`` as a grid of crops. Emits requests; the window performs them."""

    assign_requested = Signal(int)  # candidate tracklet id -> query's identity
    compare_requested = Signal(int)  # candidate tracklet id, compared with the query
    open_requested = Signal(int)  # candidate tracklet id: show its identity

    def __init__(self, model: NearestModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.query: TrackletRow | None = None
        self.query_image = QLabel(self)
        self.query_image.setFixedSize(60, 104)
        self.query_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_label = QLabel("Select a tracklet to find its nearest neighbours", self)
        self.query_label.setWordWrap(True)
        self.view = QListView(self)
        self.view.setModel(model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setIconSize(QSize(56, 104))
        self.view.setGridSize(QSize(120, 172))
        self.view.setWordWrap(True)
        self.view.setSpacing(4)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.doubleClicked.connect(lambda idx: self.assign_requested.emit(int(idx.data(ID_ROLE))))
        self.assign_button = QPushButton("Assign to query's identity", self)
        self.assign_button.setToolTip("Move the selected tracklet into the query's identity, confirmed (Enter)")
        self.compare_button = QPushButton("Compare with query", self)
        self.open_button = QPushButton("Go to its identity", self)
        self.assign_button.clicked.connect(lambda: self._emit(self.assign_requested))
        self.compare_button.clicked.connect(lambda: self._emit(self.compare_requested))
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))

        head = QHBoxLayout()
        head.addWidget(self.query_image)
        head.addWidget(self.query_label, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.assign_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def set_query(self, query: TrackletRow | None, image: QPixmap | None = None, status: str = "") -> None:
        self.query = query
        if query is None:
            self.query_label.setText(status or "Select a tracklet to find its nearest neighbours")
            self.query_image.clear()
            return
        who = f"identity #{query.identity_id}" if query.identity_id is not None else "unlinked"
        self.query_label.setText(
            f"<b>Query: tracklet #{query.id}</b> · {query.camera} · {format_time(query.first_time)}"
            f"–{format_time(query.last_time)} · {who}<br>{status}")
        if image is not None:
            self.set_query_image(image)

    def set_query_image(self, image: QPixmap) -> None:
        self.query_image.setPixmap(image.scaled(self.query_image.size(), Qt.AspectRatioMode.KeepAspectRatio))

    def selected_tracklet(self) -> int | None:
        idx: QModelIndex = self.view.currentIndex()
        return int(idx.data(ID_ROLE)) if idx.isValid() else None

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(row, 0))

    def _emit(self, signal: Signal) -> None:
        tid = self.selected_tracklet()
        if tid is not None:
            signal.emit(tid)  # type: ignore[attr-defined]
