"""Loads the inspecting tabs for the current tracklet: query by example (nearest tracklets of every camera)
and compare (two tracklets side by side). Reads the ``ReviewState``, runs queries through the ``Shell`` and
fills the two views it is given."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QPixmap

from gui import jobs
from gui.models import NearestModel
from gui.state import COMPARE, NEAREST, ReviewState, Shell
from gui.widgets.compare import CompareView
from gui.widgets.nearest import NearestView
from reid.store.rows import TrackletRow

NEAREST_K = 24


class InspectFlow:
    def __init__(self, state: ReviewState, shell: Shell, nearest_view: NearestView, nearest_model: NearestModel,
                 compare_view: CompareView) -> None:
        self.state, self.shell = state, shell
        self.nearest_view, self.nearest_model, self.compare_view = nearest_view, nearest_model, compare_view
        self._nearest_stale = False
        nearest_view.compare_requested.connect(lambda tid: self.compare(self.state.tracklet, tid))

    def invalidate(self) -> None:
        """The database changed: marks and memberships shown may be stale."""
        self._nearest_stale = True
        self.compare_view.pair = None
        self.refresh()

    def refresh(self) -> None:
        """Fill the visible tab for the current tracklet (called when either changes)."""
        tab, tid = self.state.tab, self.state.tracklet
        if tid is None:
            return
        if tab == NEAREST:
            query = self.nearest_view.query
            if query is None or query.id != tid or self._nearest_stale:
                self.load_nearest(tid)
        elif tab == COMPARE:
            pair = self.compare_view.pair
            if pair is None or tid not in (pair[0].id, pair[1].id):
                selected = self.state.selected_tracklets
                self.compare(tid, selected[1] if len(selected) > 1 else None)

    # --- nearest
    def load_nearest(self, tid: int) -> None:
        self._nearest_stale = False
        self._set_query(self.state.tracklet_row(tid), None, "searching…")
        self.shell.submit(jobs.nearest(tid, NEAREST_K), self._nearest_loaded)

    def _set_query(self, query: TrackletRow | None, image: QPixmap | None, status: str) -> None:
        self.state.query = query
        self.nearest_view.set_query(query, image, status)

    def _nearest_loaded(self, result: tuple[TrackletRow, list]) -> None:
        query, rows = result
        thumbs = self.shell.thumbnails
        if query.id != self.state.tracklet or thumbs is None:
            return
        self.nearest_model.set_rows(rows)
        self._set_query(query, thumbs.best(query.id), f"{len(rows)} nearest tracklets from every camera, "
                        "closest first")

    # --- compare
    def compare(self, a: int | None, b: int | None = None) -> None:
        """Show tracklets ``a`` and ``b`` side by side (``b`` None: the closest other member of a's identity)."""
        if a is None:
            return
        self.shell.show_tab(COMPARE)
        self.shell.submit(jobs.compare_pair(a, b), self._compare_loaded)

    def compare_selected(self) -> None:
        selected = self.state.selected_tracklets
        self.compare(*(selected[:2] or [None]))

    def _compare_loaded(self, result: Any) -> None:
        if result is None:
            self.shell.show_status("nothing to compare with: the tracklet has no neighbour")
            return
        ta, tb, dets_a, dets_b, distance, threshold = result
        view = self.compare_view
        view.set_pair(ta, tb)
        self.shell.show_in_viewer(view.left, ta, dets_a)
        self.shell.show_in_viewer(view.right, tb, dets_b)
        view.set_distance(distance, threshold)
        self.fill_strips()

    def fill_strips(self) -> None:
        pair, thumbs = self.compare_view.pair, self.shell.thumbnails
        if pair is None or thumbs is None:
            return
        strips: list[QPixmap | None] = [thumbs.strip(t.id) if thumbs.has(t.id) else None for t in pair]
        for t, strip in zip(pair, strips, strict=True):
            if strip is None:
                thumbs.request(t.id)
        self.compare_view.set_strips(strips[0], strips[1])

    def thumbnail_ready(self, tracklet_id: int) -> None:
        thumbs = self.shell.thumbnails
        if thumbs is None:
            return
        query = self.nearest_view.query
        if query is not None and query.id == tracklet_id:
            self.nearest_view.set_query_image(thumbs.best(tracklet_id))
        pair = self.compare_view.pair
        if pair is not None and tracklet_id in (pair[0].id, pair[1].id):
            self.fill_strips()
            for side, t in ((self.compare_view.left, pair[0]), (self.compare_view.right, pair[1])):
                if t.id == tracklet_id:
                    side.set_fallback(thumbs.best(tracklet_id))
