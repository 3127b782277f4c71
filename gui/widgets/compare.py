"""Two tracklets side by side, played in step (one slider moves both through their own length), with the
distance between their embeddings against the link threshold and each one's link cost."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.models import format_cost, format_time, tracklet_name
from gui.widgets.frame_viewer import FrameViewer
from reid.store.rows import TrackletRow

STEPS = 1000  # resolution of the shared slider


class CompareView(QWidget):
    """Left and right ``FrameViewer`` without their own controls, driven by one slider and one play button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = FrameViewer(self, controls=False)
        self.right = FrameViewer(self, controls=False)
        self.left_info = QLabel(self)
        self.right_info = QLabel(self)
        for label in (self.left_info, self.right_info):
            label.setWordWrap(True)
        self.left_strip = QLabel(self)
        self.right_strip = QLabel(self)
        self.cost_label = QLabel(
            "Select two tracklets (Ctrl+click in the tracklet list) or compare from the nearest view", self
        )
        self.cost_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cost_label.setWordWrap(True)
        self.note_label = QLabel(self)  # what the pair is asked for (a suggested merge: what Y and N do)
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("background: #fff4d6; padding: 4px;")
        self.note_label.hide()
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, STEPS)
        self.slider.valueChanged.connect(self._sync)
        self.play_button = QToolButton(self)
        self.play_button.setText("▶")
        self.play_button.clicked.connect(self.toggle_play)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._step = 10

        grid = QGridLayout()
        grid.addWidget(self.left_info, 0, 0)
        grid.addWidget(self.right_info, 0, 1)
        grid.addWidget(self.left, 1, 0)
        grid.addWidget(self.right, 1, 1)
        grid.addWidget(self.left_strip, 2, 0)
        grid.addWidget(self.right_strip, 2, 1)
        grid.setRowStretch(1, 1)
        bar = QHBoxLayout()
        bar.addWidget(self.play_button)
        bar.addWidget(self.slider, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note_label)
        layout.addWidget(self.cost_label)
        layout.addLayout(grid, 1)
        layout.addLayout(bar)
        self.pair: tuple[TrackletRow, TrackletRow] | None = None

    def set_pair(self, left: TrackletRow, right: TrackletRow) -> None:
        """Remember the pair and describe it; the window then fills the viewers (``left``/``right``)."""
        self.pause()
        self.pair = (left, right)
        for label, t in ((self.left_info, left), (self.right_info, right)):
            who = f"identity #{t.identity_id}" if t.identity_id is not None else "unlinked"
            reason = getattr(t, "reason", None)  # why the linker proposed the link (stores before v3: none)
            label.setText(
                f"<b>{tracklet_name(t)}</b> · {t.camera} · {format_time(t.first_time)}–{format_time(t.last_time)}"
                f" · {who} · {t.state or 'unlinked'} · cost {format_cost(t.cost)}"
                + (f"<br><i>linked: {html.escape(reason)}</i>" if reason else "")
            )
        self.cost_label.setText(f"Tracklet #{left.id} vs #{right.id}: computing distance…")
        self.slider.setValue(0)
        frames = max(left.last_frame - left.first_frame, right.last_frame - right.first_frame, 1)
        self._step = max(1, round(STEPS / frames))

    def set_note(self, text: str) -> None:
        """A line above the pair (rich text); hidden when empty."""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def set_distance(
        self, distance: float | None, threshold: float, timing: tuple[bool, str] | None = None
    ) -> None:
        """The pair's embedding distance against the link threshold and, when given, whether their timing can
        fit one person (``gui.timing.timing_fit``: the right one relative to the left)."""
        if self.pair is None:
            return
        a, b = self.pair
        when = ""
        if timing is not None:
            fits, text = timing
            when = f" · timing: {html.escape(text)}" + (
                "" if fits else " <span style='color:#b00020'>(cannot be one person)</span>"
            )
        if distance is None:
            self.cost_label.setText(f"Tracklet #{a.id} vs #{b.id}: no embedding stored{when}")
            return
        verdict = "below" if distance <= threshold else "above"
        same = a.identity_id is not None and a.identity_id == b.identity_id
        self.cost_label.setText(
            f"<b>Tracklet #{a.id} vs #{b.id}</b>: embedding distance <b>{distance:.3f}</b> ({verdict} the link "
            f"threshold {threshold:.2f}) · {'same identity' if same else 'different identities'}{when}"
        )

    def set_strips(self, left: QPixmap | None, right: QPixmap | None) -> None:
        for label, pix in ((self.left_strip, left), (self.right_strip, right)):
            if pix is not None:
                label.setPixmap(pix)

    # --- shared playback
    def _sync(self, value: int) -> None:
        self.left.set_position(value / STEPS)
        self.right.set_position(value / STEPS)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        elif self.pair is not None:
            if self.slider.value() >= STEPS:
                self.slider.setValue(0)
            self.timer.start(max(1, round(1000 / max(self.left.fps, self.right.fps))))
            self.play_button.setText("⏸")

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("▶")

    def _tick(self) -> None:
        if self.slider.value() >= STEPS:
            self.pause()
        else:
            self.slider.setValue(min(STEPS, self.slider.value() + self._step))

    def shutdown(self) -> None:
        self.pause()
        self.left.shutdown()
        self.right.shutdown()
