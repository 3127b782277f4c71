"""The review window: identity list on the left; for the selected identity its tracklets by camera and the
frame viewer, query by example, compare and overview on the right. Every review action is written to the
database at once through ``reid.store`` (no save button) and can be undone.

The window owns the layout, the open file (``gui.session.Session``) and loading what is selected. It keeps
``self.state`` (``gui.state.ReviewState``) in step with its widgets and serves as the flows' ``Shell``; the
review keys live in ``gui.review_flow``, the nearest and compare tabs in ``gui.inspect_flow``, edits and undo
in ``gui.edits``, and the commands (``gui.actions``) act on those, never on the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import inspect_jobs, jobs, workers
from gui.actions import Context, build_actions, update_undo_actions
from gui.decisions_flow import DecisionsFlow
from gui.edits import ReviewEdits
from gui.inspect_flow import InspectFlow
from gui.models import IdentityListModel, NearestModel, TrackletModel
from gui.review_flow import ReviewFlow
from gui.session import RecentFiles, Session
from gui.state import COMPARE, NEAREST, OVERVIEW, REVIEW, Filters, Job, ReviewState
from gui.widgets.banner import Banner
from gui.widgets.compare import CompareView
from gui.widgets.dialogs import Dialogs
from gui.widgets.empty_state import EmptyState
from gui.widgets.frame_viewer import FrameViewer
from gui.widgets.help_overlay import HelpOverlay
from gui.widgets.history import HistoryDialog
from gui.widgets.identity_list import IdentityList
from gui.widgets.identity_picker import IdentityPictures
from gui.widgets.nearest import NearestView
from gui.widgets.overview import OverviewView
from gui.widgets.tracklet_strips import TrackletStrips
from gui.widgets.vetoes import VetoesDialog
from reid.errors import StoreError
from reid.store.rows import DetectionRow, IdentitySummary, TrackletRow

log = logging.getLogger(__name__)
__all__ = ["COMPARE", "NEAREST", "OVERVIEW", "REVIEW", "MainWindow"]


class MainWindow(QMainWindow):
    """``open_database(path)`` shows a file; ``loaded`` fires once the first screen is filled (identity
    list, first identity and its tracklets). Dialogs go through ``self.dialogs`` (tests replace it)."""

    REVIEW, NEAREST, COMPARE, OVERVIEW = REVIEW, NEAREST, COMPARE, OVERVIEW
    loaded = Signal()
    identity_shown = Signal(int)  # tracklets of this identity are listed

    def __init__(self, settings: QSettings | None = None, dialogs: Dialogs | None = None) -> None:
        super().__init__()
        self.setWindowTitle("reid review")
        self.resize(1400, 860)
        self.settings = settings if settings is not None else QSettings("reid-mc", "review")
        self.recent = RecentFiles(self.settings)
        self.dialogs = dialogs if dialogs is not None else Dialogs()
        self.session: Session | None = None
        self.queries: workers.QueryRunner | None = None
        self.thumbnails: workers.ThumbnailCache | None = None
        self.first_screen = False
        self._shown_tracklet: int | None = None

        self.state = ReviewState()
        self.review = ReviewEdits(self, relink=True)  # a decision relinks its component in a worker
        self.identity_model = IdentityListModel(self)
        self.tracklet_model = TrackletModel(parent=self)
        self.nearest_model = NearestModel(parent=self)
        self._build_widgets()
        self.flow = ReviewFlow(self.state, self.review, self)
        self.vetoes_dialog, self.history_dialog = VetoesDialog(self), HistoryDialog(self)
        self.decisions = DecisionsFlow(
            self.state, self.review, self, self.flow, self.vetoes_dialog, self.history_dialog
        )
        self.inspect = InspectFlow(self.state, self, self.nearest_view, self.nearest_model, self.compare_view)
        self.nearest_view.assign_requested.connect(self.flow.assign_from_nearest)
        self.nearest_view.open_requested.connect(self.flow.go_to_tracklet)
        self.review.changed.connect(self._after_edit)
        self.identity_shown.connect(self.decisions.identity_shown)
        self.actions_by_name = build_actions(
            self, Context(self.state, self.review, self.flow, self.inspect, self, decisions=self.decisions)
        )
        self.help_overlay = HelpOverlay(self)
        self.help_overlay.set_actions(list(self.actions_by_name.values()))
        for dialog in (self.vetoes_dialog, self.history_dialog):  # Ctrl+Z / Ctrl+Shift+Z work there too
            dialog.addActions([self.actions_by_name["undo"], self.actions_by_name["redo"]])
        self._set_open(False)

    @property
    def store(self) -> Any:
        return None if self.session is None else self.session.store

    # ------------------------------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.banner = Banner(self)
        self.empty_state = EmptyState(self)
        self.identity_list = IdentityList(self.identity_model, self)
        self.strips = TrackletStrips(self.tracklet_model, parent=self)
        self.viewer = FrameViewer(self)
        self.nearest_view = NearestView(self.nearest_model, self)
        self.compare_view = CompareView(self)
        self.overview = OverviewView(self)

        review = QSplitter(Qt.Orientation.Vertical, self)
        review.addWidget(self.strips)
        review.addWidget(self.viewer)
        review.setSizes([380, 420])
        self.tabs = QTabWidget(self)
        for widget, title in (
            (review, "Review"),
            (self.nearest_view, "Nearest"),
            (self.compare_view, "Compare"),
            (self.overview, "Overview"),
        ):
            self.tabs.addTab(widget, title)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.identity_list)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([620, 780])
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.splitter)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setMinimumWidth(300)
        self.progress.setToolTip(
            "Share of proposed links that a reviewer confirmed; the rest are in the work queue (Ctrl+N)"
        )
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)

        self.empty_state.open_requested.connect(self.open_dialog)
        self.identity_list.current_changed.connect(self.identity_changed)
        self.identity_list.find_failed.connect(lambda text: self.show_status(f"no identity matches '{text}'"))
        self.identity_list.filters_changed.connect(self._sync_filters)
        self.strips.current_changed.connect(self._tracklet_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        for signal, sync in (
            (self.identity_list.view.selectionModel().selectionChanged, self._sync_identities),
            (self.identity_list.proxy.modelReset, self._sync_identities),
            (self.identity_list.proxy.layoutChanged, self._sync_identities),
            (self.strips.view.selectionModel().selectionChanged, self._sync_tracklets),
            (self.tracklet_model.modelReset, self._sync_tracklets),
            (self.nearest_view.view.selectionModel().currentChanged, self._sync_nearest),
            (self.nearest_model.modelReset, self._sync_nearest),
        ):
            signal.connect(sync)

    # ---------------------------------------------------------------------- the state, in step with the widgets
    def _sync_identities(self) -> None:
        self.state.identity = self.identity_list.current_identity()
        self.state.selected_identities = tuple(self.identity_list.selected_identities())

    def _sync_tracklets(self) -> None:
        self.state.tracklet = self.strips.current_tracklet()
        self.state.selected_tracklets = tuple(self.strips.selected_tracklets())

    def _sync_nearest(self) -> None:
        self.state.nearest_selected = self.nearest_view.selected_tracklet()

    def _sync_filters(self) -> None:
        proxy = self.identity_list.proxy
        self.state.filters = Filters(proxy.camera, proxy.status, proxy.min_cost)

    def _tab_changed(self, index: int) -> None:
        self.state.tab = index
        self.inspect.refresh()

    def show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")
        self.status_label.setText(text)

    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def current_identity(self) -> int | None:
        return self.state.identity

    def current_tracklet(self) -> int | None:
        return self.state.tracklet

    # ------------------------------------------------------------------------------ the flows' Shell
    def submit(self, job: Job, done: Callable[[Any], None]) -> None:
        if self.queries is not None:
            self.queries.submit(job, done, self.query_failed)

    def show_error(self, title: str, text: str) -> None:
        self.dialogs.error(self, title, text)

    def beep(self) -> None:
        QApplication.beep()

    def ask_identity(self, title: str, candidates: Sequence[tuple[int, str]]) -> int | None:
        """The merge dialog: a picture of each candidate, the nearest to the current identity first."""
        anchor = self.state.identity
        pictures = IdentityPictures(
            self.thumbnails, lambda done: self.submit(inspect_jobs.identity_pictures(anchor), done)
        )
        return self.dialogs.choose_identity(self, title, list(candidates), pictures)

    def show_merge(self, tracklet: int, partner: int, identity: int, other: int) -> None:
        self.inspect.show_merge(tracklet, partner, identity, other)

    def ask_annotation(self, identity_id: int, name: str, note: str) -> tuple[str, str] | None:
        return self.dialogs.annotate(self, identity_id, name, note)

    def select_identity(self, identity_id: int) -> bool:
        return self.identity_list.select_identity(identity_id)

    def select_tracklet(self, tracklet_id: int) -> bool:
        return self.strips.select_tracklet(tracklet_id)

    # ------------------------------------------------------------------------------ the window's Commands
    def focus_find(self) -> None:
        self.identity_list.focus_find()

    def move_identity(self, delta: int) -> None:
        """↑/↓: the next identity; on the nearest tab a row of its results."""
        if self.tabs.currentIndex() == NEAREST:
            self.nearest_view.step_row(delta)
        else:
            self.identity_list.move(delta)

    def move_tracklet(self, delta: int) -> None:
        """←/→: the next tracklet; on the nearest tab the next result."""
        if self.tabs.currentIndex() == NEAREST:
            self.nearest_view.step(delta)
        else:
            self.strips.move(delta)

    def extend_tracklets(self, delta: int) -> None:
        self.strips.extend(delta)

    def toggle_help(self) -> None:
        self.help_overlay.toggle()

    # ------------------------------------------------------------------------------------------ files
    def open_dialog(self) -> None:
        recent = self.recent.paths()
        path = self.dialogs.open_database(self, str(Path(recent[0]).parent) if recent else "")
        if path:
            self.open_database(path)

    def open_database(self, path: str | Path) -> bool:
        """Open ``path`` (read-only with a banner when another program holds the write lock). A file that
        cannot be opened leaves the current one open and says why in a dialog."""
        try:
            session = Session(path)
        except StoreError as exc:
            self.dialogs.error(self, "Cannot open database", str(exc))
            return False
        self.close_database()
        self.session = session
        self.setWindowTitle(
            f"{session.path.name} — reid review" + (" [read-only]" if session.readonly else "")
        )
        self.queries = workers.QueryRunner(session.path, parent=self)
        self.thumbnails = workers.ThumbnailCache(session.path, parent=self)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self.tracklet_model.set_thumbnails(self.thumbnails)
        self.nearest_model.set_thumbnails(self.thumbnails)
        self.review.set_store(session.store)
        update_undo_actions(self.actions_by_name, self.review)
        self.banner.set_messages(session.banner_messages())
        self.recent.add(session.path)
        self.first_screen = False
        self.empty_state.show_loading(str(session.path))
        self.stack.setCurrentWidget(self.empty_state)
        self._set_open(True)
        self.queries.submit(lambda s: s.identity_summaries(), self._identities_loaded, self.query_failed)
        return True

    def close_database(self) -> None:
        self.viewer.clear()
        self.compare_view.shutdown()
        for worker in (self.queries, self.thumbnails):
            if worker is not None:
                worker.stop()
                worker.deleteLater()
        self.queries = self.thumbnails = None
        self.review.set_store(None)
        self.decisions.close()
        update_undo_actions(self.actions_by_name, self.review)
        if self.session is not None:
            self.session.close()
        self.session = None
        for model in (self.identity_model, self.tracklet_model, self.nearest_model):
            model.set_rows([])
        self.banner.set_messages([])
        self.empty_state.show_no_database()
        self.stack.setCurrentWidget(self.empty_state)
        self.setWindowTitle("reid review")
        self._set_open(False)

    def recent_files(self) -> list[str]:
        return self.recent.paths()

    def export(self, kind: str) -> None:
        """Export the reviewed result (``reid.export``) into a folder the user picks; runs in the worker."""
        if self.queries is None:
            return
        start = str(self.settings.value("export_dir", "") or "")
        folder = self.dialogs.choose_folder(self, f"Export reviewed result ({kind})", start)
        if not folder:
            return
        self.settings.setValue("export_dir", folder)
        self.show_status(f"exporting {kind} to {folder}…")
        self.queries.submit(
            jobs.export(kind, folder),
            lambda written: self.show_status(f"exported to {folder}: {', '.join(written)}"),
            lambda msg: self.dialogs.error(self, "Export failed", msg),
        )

    def _set_open(self, is_open: bool) -> None:
        writable = is_open and self.session is not None and not self.session.readonly
        for action in getattr(self, "actions_by_name", {}).values():
            needs = action.property("needs")
            if needs == "write":
                action.setEnabled(writable)
            elif needs == "open":
                action.setEnabled(is_open)
        self.nearest_view.assign_button.setEnabled(writable)
        self.progress.setVisible(is_open)

    # ------------------------------------------------------------------------------------------ loading
    def query_failed(self, message: str) -> None:
        self.show_status(f"database error: {message}")
        log.warning("query failed: %s", message)

    def _identities_loaded(self, rows: list[IdentitySummary]) -> None:
        self.state.identities = tuple(rows)
        self.identity_model.set_rows(rows)
        self.identity_list.set_cameras(self.identity_model.cameras())
        if not rows:
            assert self.session is not None
            self.load_overview()
            self.empty_state.show_empty_database(str(self.session.path))
            self.first_screen = True
            self.loaded.emit()
            return
        self.stack.setCurrentWidget(self.splitter)
        self.identity_list.select_row(0)  # queues the first identity's tracklets ...
        self.identity_list.view.setFocus()
        self.load_overview()  # ... before the overview (it reads every link): the first screen never waits

    def load_overview(self) -> None:
        if self.queries is not None:
            self.queries.submit(jobs.overview, self._overview_loaded, self.query_failed)

    def _overview_loaded(self, result: dict[str, Any]) -> None:
        # decisions made against links still open: a reject removes its link, so "reviewed links / links" would
        # shrink its total as the reviewer works; this total only moves when a relink adds or removes links
        done, left = result["decisions"], result["left"]
        share = f"{100 * done / (done + left):.1f} %" if done + left else "—"
        self.progress.setRange(0, max(done + left, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"decisions made: {done}, links left to review: {left} ({share})")
        per_camera: dict[str, int] = {}
        for row in range(self.identity_model.rowCount()):
            for cam in self.identity_model.summary(row).cameras:
                per_camera[cam] = per_camera.get(cam, 0) + 1
        self.overview.set_counts(result["counts"], len(result["costs"]), left)
        self.overview.set_cameras(result["cameras"], per_camera)
        self.overview.set_costs(result["costs"], result["threshold"], result.get("threshold_source"))

    def identity_changed(self, identity_id: int) -> None:
        self._sync_identities()
        if identity_id < 0 or self.queries is None:
            self.tracklet_model.set_rows([])
            self.state.tracklets = ()
            return
        self.queries.submit(
            lambda s: s.identity_tracklets(identity_id),
            lambda rows: self._tracklets_loaded(identity_id, rows),
            self.query_failed,
        )

    def _tracklets_loaded(self, identity_id: int, rows: list[TrackletRow]) -> None:
        if identity_id != self.current_identity():
            return  # the user moved on
        keep, self.state.want_tracklet = self.state.want_tracklet or self.current_tracklet(), None
        self.tracklet_model.set_rows(rows)
        self.state.tracklets = tuple(self.tracklet_model.rows())
        ids = [t.id for t in self.tracklet_model.rows()]
        if keep not in ids:  # the least confident proposed link, where review starts
            proposed = [t for t in rows if t.state == "proposed" and t.cost is not None]
            keep = (
                min(proposed, key=lambda t: t.confidence if t.confidence is not None else 1.0).id
                if proposed
                else (ids[0] if ids else None)
            )
        row = self.identity_model.row_of(identity_id)
        name = self.identity_model.summary(row).name if row is not None else ""
        self.overview.set_identity(
            f"Identity #{identity_id} {name}".strip(), sorted({t.camera for t in rows}), rows
        )
        self.identity_shown.emit(identity_id)
        if keep is not None:
            self._shown_tracklet = None
            self.strips.select_tracklet(keep)
        if not self.first_screen:
            self.first_screen = True
            self.loaded.emit()

    def _tracklet_changed(self, tracklet_id: int) -> None:
        self._sync_tracklets()
        if tracklet_id < 0:
            self.viewer.clear()
            return
        if tracklet_id != self._shown_tracklet and self.queries is not None:
            self._shown_tracklet = tracklet_id
            row = self.tracklet_model.tracklet(tracklet_id)
            self.queries.submit(
                lambda s: s.detections(tracklet_id),
                lambda dets: self.show_in_viewer(self.viewer, row, dets),
                self.query_failed,
            )
        self.inspect.refresh()

    def show_in_viewer(self, viewer: FrameViewer, t: TrackletRow | None, dets: list[DetectionRow]) -> None:
        """Play ``t`` in ``viewer`` from its video, or show its best crop when the video file is missing."""
        if t is None or self.session is None or self.thumbnails is None:
            return
        video = self.session.videos.get(t.video_id)
        path = self.session.video_file(t.video_id)
        size = (video.width, video.height) if video is not None else None
        fallback = self.thumbnails.best(t.id) if self.thumbnails.has(t.id) else None
        viewer.show_tracklet(
            t,
            dets,
            path,
            video.fps if video else 25.0,
            size,
            fallback,
            "" if path else f"video missing: {t.video_path}",
        )

    def _thumbnail_ready(self, tracklet_id: int) -> None:
        assert self.thumbnails is not None
        if self.viewer.tracklet is not None and self.viewer.tracklet.id == tracklet_id:
            self.viewer.set_fallback(self.thumbnails.best(tracklet_id))
        self.inspect.thumbnail_ready(tracklet_id)

    # ------------------------------------------------------------------------------------------ after an edit
    def _after_edit(self) -> None:
        """Reload what an edit, undo or redo may have changed, keeping the reviewer's place."""
        update_undo_actions(self.actions_by_name, self.review)
        self.inspect.invalidate()
        if self.queries is None:
            return
        self.queries.submit(lambda s: s.identity_summaries(), self._identities_refreshed, self.query_failed)
        self.load_overview()
        if self.review.message:
            self.show_status(self.review.message)

    def _identities_refreshed(self, rows: list[IdentitySummary]) -> None:
        want, self.state.want_identity = self.state.want_identity, None
        current = self.current_identity()
        self.state.identities = tuple(rows)
        self.identity_model.update_rows(rows)
        self.identity_list.set_cameras(self.identity_model.cameras())
        if not rows:
            self.stack.setCurrentWidget(self.empty_state)
            return
        target = want if want is not None else current
        if target is not None and self.identity_list.select_identity(target):
            if target == current:
                self.identity_changed(target)  # the same row stays current: reload its tracklets
        else:
            self.identity_list.select_row(0)

    # ------------------------------------------------------------------------------------------ misc
    def toggle_play(self) -> None:
        (self.compare_view if self.tabs.currentIndex() == COMPARE else self.viewer).toggle_play()

    def step_frame(self, delta: int) -> None:
        self.viewer.pause()
        self.viewer.step(delta)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_database()
        self.viewer.shutdown()
        super().closeEvent(event)

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Process events until no query, thumbnail, decision's relink or frame is pending (``--screenshot`` and
        tests)."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop, QThread

        deadline = QDeadlineTimer(timeout_ms)
        while not deadline.hasExpired():
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            runners = [
                self.queries,
                self.thumbnails.runner if self.thumbnails is not None else None,
                self.review.relinker,
            ]
            viewers = (self.viewer, self.compare_view.left, self.compare_view.right)
            if not any(r is not None and r.pending for r in runners) and not any(v.busy for v in viewers):
                QCoreApplication.processEvents()
                return True
            QThread.msleep(5)
        return False
