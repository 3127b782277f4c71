"""Loads the inspecting tabs for the current tracklet: query by example (nearest tracklets of every camera)
and compare (two tracklets side by side). Queries run in the window's worker; results go to the views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QPixmap

from gui import jobs
from reid.store.rows import TrackletRow

if TYPE_CHECKING:
    from gui.main_window import MainWindow

NEAREST_K = 24


class InspectFlow(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self._nearest_stale = False
        window.nearest_view.assign_requested.connect(lambda tid: window.flow.assign_from_nearest(tid))
        window.nearest_view.compare_requested.connect(lambda tid: self.compare(window.current_tracklet(), tid))
        window.nearest_view.open_requested.connect(lambda tid: window.flow.go_to_tracklet(tid))

    def invalidate(self) -> None:
        """The database changed: marks and memberships shown may be stale."""
        self._nearest_stale = True
        self.w.compare_view.pair = None
        self.refresh()

    def refresh(self) -> None:
        """Fill the visible tab for the current tracklet (called when either changes)."""
        tab, tid = self.w.tabs.currentIndex(), self.w.current_tracklet()
        if tid is None:
            return
        if tab == self.w.NEAREST:
            query = self.w.nearest_view.query
            if query is None or query.id != tid or self._nearest_stale:
                self.load_nearest(tid)
        elif tab == self.w.COMPARE:
            pair = self.w.compare_view.pair
            if pair is None or tid not in (pair[0].id, pair[1].id):
                selected = self.w.strips.selected_tracklets()
                self.compare(tid, selected[1] if len(selected) > 1 else None)

    # --- nearest
    def load_nearest(self, tid: int) -> None:
        if self.w.queries is None:
            return
        self._nearest_stale = False
        self.w.nearest_view.set_query(self.w.tracklet_model.tracklet(tid), None, "searching…")
        self.w.queries.submit(jobs.nearest(tid, NEAREST_K), self._nearest_loaded, self.w.query_failed)

    def _nearest_loaded(self, result: tuple[TrackletRow, list]) -> None:
        query, rows = result
        if query.id != self.w.current_tracklet() or self.w.thumbnails is None:
            return
        self.w.nearest_model.set_rows(rows)
        self.w.nearest_view.set_query(query, self.w.thumbnails.best(query.id),
                                      f"{len(rows)} nearest tracklets from every camera, closest first")

    # --- compare
    def compare(self, a: int | None, b: int | None = None) -> None:
        """Show tracklets ``a`` and ``b`` side by side (``b`` None: the closest other member of a's identity)."""
        if a is None or self.w.queries is None:
            return
        self.w.show_tab(self.w.COMPARE)
        self.w.queries.submit(jobs.compare_pair(a, b), self._compare_loaded, self.w.query_failed)

    def compare_selected(self) -> None:
        selected = self.w.strips.selected_tracklets()
        self.compare(*(selected[:2] or [None]))

    def _compare_loaded(self, result: Any) -> None:
        if result is None:
            self.w.show_status("nothing to compare with: the tracklet has no neighbour")
            return
        ta, tb, dets_a, dets_b, distance, threshold = result
        view = self.w.compare_view
        view.set_pair(ta, tb)
        self.w.show_in_viewer(view.left, ta, dets_a)
        self.w.show_in_viewer(view.right, tb, dets_b)
        view.set_distance(distance, threshold)
        self.fill_strips()

    def fill_strips(self) -> None:
        pair, thumbs = self.w.compare_view.pair, self.w.thumbnails
        if pair is None or thumbs is None:
            return
        strips: list[QPixmap | None] = [thumbs.strip(t.id) if thumbs.has(t.id) else None for t in pair]
        for t, strip in zip(pair, strips, strict=True):
            if strip is None:
                thumbs.request(t.id)
        self.w.compare_view.set_strips(strips[0], strips[1])

    def thumbnail_ready(self, tracklet_id: int) -> None:
        thumbs = self.w.thumbnails
        assert thumbs is not None
        query = self.w.nearest_view.query
        if query is not None and query.id == tracklet_id:
            self.w.nearest_view.set_query_image(thumbs.best(tracklet_id))
        pair = self.w.compare_view.pair
        if pair is not None and tracklet_id in (pair[0].id, pair[1].id):
            self.fill_strips()
            for side, t in ((self.w.compare_view.left, pair[0]), (self.w.compare_view.right, pair[1])):
                if t.id == tracklet_id:
                    side.set_fallback(thumbs.best(tracklet_id))
