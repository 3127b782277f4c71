"""Query by example: the tracklets nearest to the current one, from every camera, ranked by embedding
distance, each named as the tracklet strip names it ("#12 · track 3") with whether its timing fits the
query's (a result that cannot be the same person by time is dimmed). A green border marks a confirmed member
of the query's identity, a red one a pair a reviewer said is not the same person.

Keys while the tab is shown (the window hands it the arrows): ←/→ one result, ↑/↓ one row of the grid,
Enter (or double-click) assigns the result to the query's identity, G goes to the result's identity, C
compares it with the query."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.models import ID_ROLE, NearestModel, format_time, tracklet_name
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
        self.view.setGridSize(QSize(200, 196))
        self.view.setWordWrap(True)
        self.view.setSpacing(4)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.doubleClicked.connect(lambda idx: self.assign_requested.emit(int(idx.data(ID_ROLE))))
        self.view.installEventFilter(self)
        self.assign_button = QPushButton("Assign to query's identity", self)
        self.assign_button.setToolTip(
            "Move the selected tracklet into the query's identity, confirmed (Enter)"
        )
        self.compare_button = QPushButton("Compare with query", self)
        self.compare_button.setToolTip("Show the selected tracklet beside the query (C)")
        self.open_button = QPushButton("Go to its identity", self)
        self.open_button.setToolTip("Show the selected tracklet in its identity, in the review tab (G)")
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
            f"<b>Query: tracklet {tracklet_name(query)}</b> · {query.camera} · {format_time(query.first_time)}"
            f"–{format_time(query.last_time)} · {who}<br>{status}"
        )
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

    # --- keyboard
    def step(self, delta: int) -> None:
        """←/→: select the result ``delta`` places on (the first when none is selected)."""
        n = self.model.rowCount()
        if n == 0:
            return
        row = self.view.currentIndex().row()
        self.select_row(0 if row < 0 else max(0, min(n - 1, row + delta)))
        self.view.setFocus()

    def step_row(self, delta: int) -> None:
        """↑/↓: select the result ``delta`` rows of the grid up or down; on the last row but one, down goes to
        the last result when none is right below; beyond the first or last row it stays."""
        row, n, per_row = self.view.currentIndex().row(), self.model.rowCount(), self.per_row()
        if row < 0:
            self.step(0)
            return
        target = row + delta * per_row
        if target >= n and row // per_row < (n - 1) // per_row:
            target = n - 1
        self.step(target - row if 0 <= target < n else 0)

    def per_row(self) -> int:
        """Results in one row of the grid, as laid out now."""
        n = self.model.rowCount()
        if n == 0:
            return 1
        top = self.view.visualRect(self.model.index(0, 0)).top()
        same = [r for r in range(n) if self.view.visualRect(self.model.index(r, 0)).top() == top]
        return max(1, len(same))

    def focus_first(self) -> None:
        """Give the grid the keyboard, on its first result when none is selected."""
        if not self.view.currentIndex().isValid():
            self.select_row(0)
        self.view.setFocus()

    def request_assign(self) -> None:
        if self.assign_button.isEnabled():  # disabled on a read-only file
            self._emit(self.assign_requested)

    def request_compare(self) -> None:
        self._emit(self.compare_requested)

    def request_open(self) -> None:
        self._emit(self.open_requested)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter on the grid assigns the selected result."""
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        ):
            self.request_assign()
            return True
        return super().eventFilter(watched, event)

    def _emit(self, signal: SignalInstance) -> None:
        tid = self.selected_tracklet()
        if tid is not None:
            signal.emit(tid)
