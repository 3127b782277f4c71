"""The source frame of a tracklet with its box drawn; a slider through the tracklet and play/pause at the
video's fps. Frames are decoded by ``gui.workers.FrameDecoder`` in its own thread; the newest request wins,
so a slow decoder drops frames instead of freezing the window."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget

from gui.models import DetectionModel, format_time
from gui.workers import FrameDecoder
from reid.store.rows import DetectionRow, TrackletRow


class _Canvas(QWidget):
    """Paints an image scaled to fit, the box (``xyxy`` in source pixels) and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | QPixmap | None = None
        self.source_size: tuple[int, int] | None = None  # (w, h) the box coordinates refer to
        self.box: tuple[float, float, float, float] | None = None
        self.caption = ""
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 30))
        if self.image is not None and not self.image.isNull():
            iw, ih = self.image.width(), self.image.height()
            scale = min(self.width() / iw, self.height() / ih)
            target = QRectF((self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2,
                            iw * scale, ih * scale)
            if isinstance(self.image, QImage):
                p.drawImage(target, self.image)
            else:
                p.drawPixmap(target.toRect(), self.image)
            if self.box is not None and self.source_size is not None:
                sx, sy = target.width() / self.source_size[0], target.height() / self.source_size[1]
                x1, y1, x2, y2 = self.box
                p.setPen(QPen(QColor(0, 230, 80), 2))
                p.drawRect(QRectF(target.x() + x1 * sx, target.y() + y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy))
        if self.caption:
            p.setPen(QColor(255, 255, 255))
            p.drawText(self.rect().adjusted(8, 6, -8, -6),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                       self.caption)
        p.end()


class FrameViewer(QWidget):
    """Plays one tracklet: frames ``first_frame..last_frame`` of its video with the box interpolated
    between detections. Without the video file it shows the tracklet's best crop and says why."""

    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, controls: bool = True) -> None:
        super().__init__(parent)
        self.detections = DetectionModel(self)
        self.tracklet: TrackletRow | None = None
        self.video_path: str | None = None
        self.video_size: tuple[int, int] | None = None
        self.fps = 25.0
        self.missing = ""
        self._decoder: FrameDecoder | None = None
        self._pending = 0
        self._frame = 0
        self.canvas = _Canvas(self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.play_button = QToolButton(self)
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.position_label = QLabel(self)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.slider.valueChanged.connect(self.set_frame)
        bar = QHBoxLayout()
        bar.addWidget(self.play_button)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.position_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        self._controls = QWidget(self)
        self._controls.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._controls)
        self._controls.setVisible(controls)
        self.clear()

    # --- content
    def clear(self, message: str = "Select a tracklet") -> None:
        self.pause()
        self._pending = 0
        self.tracklet = None
        self.detections.set_rows([])
        self.canvas.image, self.canvas.box, self.canvas.caption = None, None, message
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        self.position_label.clear()
        self.canvas.update()

    def show_tracklet(self, tracklet: TrackletRow, detections: list[DetectionRow], video_path: str | None,
                      fps: float, video_size: tuple[int, int] | None, fallback: QPixmap | None = None,
                      missing: str = "") -> None:
        """Show ``tracklet`` from its first frame. ``video_path`` None (with ``missing`` saying why) shows
        ``fallback`` (the best crop) instead of decoded frames."""
        self.pause()
        self.tracklet = tracklet
        self.detections.set_rows(detections)
        self.video_path, self.fps, self.video_size, self.missing = video_path, fps or 25.0, video_size, missing
        self.canvas.image = None if video_path else fallback
        self.canvas.source_size = video_size
        first, last = tracklet.first_frame, tracklet.last_frame
        self.slider.blockSignals(True)
        self.slider.setRange(first, max(first, last))
        self.slider.setValue(first)
        self.slider.blockSignals(False)
        self.slider.setEnabled(last > first)
        self.play_button.setEnabled(last > first and video_path is not None)
        self.set_frame(first)

    def set_fallback(self, pixmap: QPixmap) -> None:
        """Replace the crop shown for a missing video (thumbnails arrive after the tracklet is shown)."""
        if self.tracklet is not None and self.video_path is None:
            self.canvas.image = pixmap
            self.canvas.update()

    @property
    def frame(self) -> int:
        return self._frame

    def set_frame(self, frame: int) -> None:
        if self.tracklet is None:
            return
        frame = max(self.slider.minimum(), min(self.slider.maximum(), frame))
        self._frame = frame
        if self.slider.value() != frame:
            self.slider.blockSignals(True)
            self.slider.setValue(frame)
            self.slider.blockSignals(False)
        t = self.tracklet
        time = t.first_time + (frame - t.first_frame) / self.fps
        self.position_label.setText(f"frame {frame} · {format_time(time)}")
        if self.video_path is not None:
            self.canvas.box = self.detections.box_at(frame)
            self.canvas.caption = f"{t.camera} · tracklet #{t.id}"
            self._pending = self._ensure_decoder().request(self.video_path, frame)
        else:
            self.canvas.box = None
            self.canvas.caption = f"{t.camera} · tracklet #{t.id}\n{self.missing}"
        self.canvas.update()
        self.frame_changed.emit(frame)

    def set_position(self, fraction: float) -> None:
        """Jump to ``fraction`` (0..1) of the tracklet (the compare view keeps two viewers in step)."""
        if self.tracklet is not None:
            lo, hi = self.slider.minimum(), self.slider.maximum()
            self.set_frame(lo + round(fraction * (hi - lo)))

    def step(self, delta: int) -> None:
        self.set_frame(self._frame + delta)

    # --- playback
    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.tracklet is None or self.video_path is None:
            return
        if self._frame >= self.slider.maximum():
            self.set_frame(self.slider.minimum())
        self.timer.start(max(1, round(1000 / self.fps)))
        self.play_button.setText("⏸")

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("▶")

    def _tick(self) -> None:
        if self._frame >= self.slider.maximum():
            self.pause()
        else:
            self.set_frame(self._frame + 1)

    # --- decoding
    def _ensure_decoder(self) -> FrameDecoder:
        if self._decoder is None:
            self._decoder = FrameDecoder(self)
            self._decoder.frame_ready.connect(self._frame_ready)
            self._decoder.frame_failed.connect(self._frame_failed)
            self._decoder.start()
        return self._decoder

    @property
    def busy(self) -> bool:
        """A frame was asked for and has not arrived (or failed) yet."""
        return self._pending != 0

    def _frame_ready(self, request: int, image: QImage) -> None:
        if request != self._pending:
            return  # an older frame arriving after a newer request
        self._pending = 0
        self.canvas.image = image
        if self.video_size is None:
            self.canvas.source_size = (image.width(), image.height())
        self.canvas.update()

    def _frame_failed(self, request: int, message: str) -> None:
        if request == self._pending:
            self._pending = 0
            self.pause()
            self.canvas.caption = message
            self.canvas.update()

    def shutdown(self) -> None:
        """Stop playback and the decoder thread (the window calls this when it closes)."""
        self.pause()
        self._pending = 0
        if self._decoder is not None:
            self._decoder.stop()
            self._decoder = None
