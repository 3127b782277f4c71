"""Overview of the whole database: counts, per-camera counts, the link-cost histogram with the threshold
and the per-camera timeline of the selected identity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models import CameraCountModel
from gui.widgets.histogram import CostHistogram
from gui.widgets.timeline import IdentityTimeline
from reid.store.rows import CameraRow, TrackletRow


class OverviewView(QWidget):
    """Displays what the window hands it: ``set_counts``, ``set_cameras``, ``set_costs``, ``set_identity``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts_label = QLabel(self)
        self.counts_label.setWordWrap(True)
        self.camera_model = CameraCountModel(self)
        self.camera_table = QTableView(self)
        self.camera_table.setModel(self.camera_model)
        self.camera_table.verticalHeader().hide()
        self.camera_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.camera_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.camera_table.setMinimumWidth(220)
        self.histogram = CostHistogram(self)
        self.timeline = IdentityTimeline(self)
        counts_box = QGroupBox("Database", self)
        QVBoxLayout(counts_box).addWidget(self.counts_label)
        cams_box = QGroupBox("Cameras", self)
        QVBoxLayout(cams_box).addWidget(self.camera_table)
        grid = QGridLayout(self)
        grid.addWidget(counts_box, 0, 0)
        grid.addWidget(cams_box, 0, 1)
        grid.addWidget(self.histogram, 1, 0, 1, 2)
        grid.addWidget(self.timeline, 2, 0, 1, 2)
        grid.setRowStretch(1, 2)
        grid.setRowStretch(2, 2)

    def set_counts(self, counts: Mapping[str, Any], links: int, left: int) -> None:
        """``counts``: ``Store.counts()``; ``links``: proposed or confirmed links (members with a cost);
        ``left``: links still in the work queue."""
        done = links - left
        share = f"{100 * done / links:.1f} %" if links else "—"
        lines = [
            f"Identities: <b>{counts.get('identities', 0)}</b>",
            f"Tracklets: <b>{counts.get('tracklets', 0)}</b> ({counts.get('confirmed', 0)} confirmed)",
            f"Detections: <b>{counts.get('detections', 0)}</b>",
            f"Links reviewed: <b>{done}</b> of {links} ({share}); {left} in the work queue",
        ]
        self.counts_label.setText("<br>".join(lines))

    def set_cameras(self, cameras: Sequence[CameraRow], identities_per_camera: Mapping[str, int]) -> None:
        self.camera_model.set_rows(cameras, dict(identities_per_camera))

    def set_costs(self, costs: np.ndarray, threshold: float | None, source: str | None = None) -> None:
        self.histogram.set_costs(costs, threshold, source)

    def set_identity(self, title: str, cameras: Sequence[str], tracklets: Sequence[TrackletRow]) -> None:
        self.timeline.set_tracklets(title, cameras, tracklets)
