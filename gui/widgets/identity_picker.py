"""The merge dialog: pick an identity from a list with a picture of each (its first tracklet's best crop), its
cameras and time span, the nearest to the current identity first once a worker has measured them.

Nothing is preselected (a stray Enter merges nothing). Typing filters the list by identity number (or name);
an exact number selects that identity; Enter accepts the selected one (or a typed number that is not listed),
Esc cancels. Pictures and distances arrive while the dialog is open (``IdentityPictures.load``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

ICON = QSize(40, 80)
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
LABEL_ROLE = ID_ROLE + 1  # the caller's label, before a distance is added


class IdentityPictures(NamedTuple):
    """Where the pictures come from: ``thumbnails`` (``gui.workers.ThumbnailCache``) and ``load(done)``, which
    runs ``gui.inspect_jobs.identity_pictures`` in a worker and hands ``done`` its ``{identity:
    IdentityPicture}``."""

    thumbnails: Any
    load: Callable[[Callable[[dict[int, Any]], None]], None]


class IdentityPicker(QDialog):
    """``candidates``: ``(identity id, label)`` in the caller's order; ``choice`` after ``exec()``."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        candidates: Sequence[tuple[int, str]],
        pictures: IdentityPictures | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(680, 600)
        self.choice: int | None = None
        self._thumbnails = pictures.thumbnails if pictures is not None else None
        self._tracklet_of: dict[int, int] = {}  # identity -> tracklet pictured
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Type an identity number to filter; Enter merges the selected one")
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.installEventFilter(self)
        self.hint = QLabel(
            "Nothing selected: pick an identity (click, or ↓ then arrows), or type its number", self
        )
        self.list = QListWidget(self)
        self.list.setIconSize(ICON)
        self.list.setSpacing(2)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.itemSelectionChanged.connect(self._selection_changed)
        for ident, label in candidates:
            item = QListWidgetItem(label, self.list)
            item.setData(ID_ROLE, ident)
            item.setData(LABEL_ROLE, label)
            item.setSizeHint(QSize(0, ICON.height() + 8))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Merge")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.list.clearSelection()
        self._selection_changed()
        if self._thumbnails is not None:
            self._thumbnails.ready.connect(self._thumbnail_ready)
        if pictures is not None:
            pictures.load(lambda result: self.set_pictures(result) if Shiboken.isValid(self) else None)
        self.filter.setFocus()

    # --- plain state in
    def set_pictures(self, pictures: dict[int, Any]) -> None:
        """Picture each identity (``IdentityPicture``: ``tracklet``, ``distance``) and put the nearest first."""
        selected = self.selected_identity()
        items = [self.list.takeItem(0) for _ in range(self.list.count())]
        order = {id(item): k for k, item in enumerate(items)}

        def key(item: QListWidgetItem) -> tuple[float, int]:
            pic = pictures.get(int(item.data(ID_ROLE)))
            dist = pic.distance if pic is not None and pic.distance is not None else float("inf")
            return dist, order[id(item)]

        for item in sorted(items, key=key):
            self.list.addItem(item)
            pic = pictures.get(int(item.data(ID_ROLE)))
            if pic is None:
                continue
            self._tracklet_of[int(item.data(ID_ROLE))] = pic.tracklet
            if pic.distance is not None:
                item.setText(f"{item.data(LABEL_ROLE)} · d {pic.distance:.3f}")
                item.setToolTip(
                    f"embedding distance {pic.distance:.3f} between the nearest tracklets of the two"
                )
            self._set_icon(item)
        self._filter_changed(self.filter.text())
        if selected is not None:
            self._select(selected)
        else:
            self.list.clearSelection()

    # --- plain state out
    def identities(self) -> list[int]:
        """Identities in the list's order (visible or filtered out)."""
        return [int(self.list.item(i).data(ID_ROLE)) for i in range(self.list.count())]

    def selected_identity(self) -> int | None:
        items = [i for i in self.list.selectedItems() if not i.isHidden()]
        return int(items[0].data(ID_ROLE)) if items else None

    def typed_identity(self) -> int | None:
        text = self.filter.text().strip().lstrip("#")
        return int(text) if text.isdigit() else None

    def accept(self) -> None:
        choice = self.selected_identity()
        if choice is None:
            choice = self.typed_identity()
        if choice is None:
            self.hint.setText("<b>Select an identity first</b> (or type its number), Esc cancels")
            return
        self.choice = choice
        super().accept()

    # --- internals
    def _set_icon(self, item: QListWidgetItem) -> None:
        tid = self._tracklet_of.get(int(item.data(ID_ROLE)))
        if tid is None or self._thumbnails is None:
            return
        pix = self._thumbnails.best(tid)  # a placeholder until decoded (``ready`` then repaints)
        item.setIcon(QIcon(pix.scaled(ICON, Qt.AspectRatioMode.KeepAspectRatio)))

    def _thumbnail_ready(self, tracklet_id: int) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if self._tracklet_of.get(int(item.data(ID_ROLE))) == tracklet_id:
                self._set_icon(item)

    def _filter_changed(self, text: str) -> None:
        text = text.strip().lstrip("#").lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            ident = str(item.data(ID_ROLE))
            hidden = bool(text) and not (
                ident.startswith(text) if text.isdigit() else text in item.text().lower()
            )
            item.setHidden(hidden)
            if hidden:
                item.setSelected(False)
        if text.isdigit():
            self._select(int(text))
        self._selection_changed()

    def _select(self, identity_id: int) -> bool:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if int(item.data(ID_ROLE)) == identity_id and not item.isHidden():
                self.list.setCurrentItem(item)
                item.setSelected(True)
                self.list.scrollToItem(item)
                return True
        return False

    def _selection_changed(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.selected_identity() is not None or self.typed_identity() is not None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """↓ in the filter box goes to the list and selects its first visible identity."""
        if (
            watched is self.filter
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
        ):
            visible = [
                self.list.item(i) for i in range(self.list.count()) if not self.list.item(i).isHidden()
            ]
            if visible:
                self.list.setFocus()
                if self.selected_identity() is None:
                    self.list.setCurrentItem(visible[0])
                    visible[0].setSelected(True)
            return True
        return super().eventFilter(watched, event)
