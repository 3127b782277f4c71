"""Loads the inspecting tabs for the current tracklet: query by example (nearest tracklets of every camera,
each judged by ``gui.timing.timing_fit`` against the query) and compare (two tracklets side by side: a pair
asked for, e.g. the two sides of a suggested merge, stays until another is asked for). Reads the
``ReviewState``, runs queries through the ``Shell`` and fills the two views it is given."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QPixmap

from gui import inspect_jobs, jobs
from gui.models import NearestModel
from gui.state import COMPARE, NEAREST, ReviewState, Shell
from gui.timing import queue_limits, timing_fit
from gui.widgets.compare import CompareView
from gui.widgets.nearest import NearestView
from reid.store.rows import TrackletRow

NEAREST_K = 24


class InspectFlow:
    def __init__(
        self,
        state: ReviewState,
        shell: Shell,
        nearest_view: NearestView,
        nearest_model: NearestModel,
        compare_view: CompareView,
    ) -> None:
        self.state, self.shell = state, shell
        self.nearest_view, self.nearest_model, self.compare_view = nearest_view, nearest_model, compare_view
        self._nearest_stale = False
        self._asked: tuple[int, int | None] | None = None  # the compare pair last asked for
        self._switching = False
        self._limits: tuple[float, float] | None = None  # QueueConfig's (max_gap_s, max_overlap_s)
        nearest_view.compare_requested.connect(self._compare_with_query)

    def invalidate(self) -> None:
        """The database changed: marks and memberships shown may be stale."""
        self._nearest_stale = True
        self.compare_view.pair = None
        self._asked = None
        self.refresh()

    def refresh(self) -> None:
        """Fill the visible tab for the current tracklet (called when either changes)."""
        tab, tid = self.state.tab, self.state.tracklet
        if tid is None or self._switching:
            return
        if tab == NEAREST:
            query = self.nearest_view.query
            if query is None or query.id != tid or self._nearest_stale:
                self.load_nearest(tid)
            else:
                self.nearest_view.focus_first()
        elif tab == COMPARE:
            asked = self._asked
            if asked is None or tid not in asked:
                selected = self.state.selected_tracklets
                self.compare(tid, selected[1] if len(selected) > 1 else None)

    # --- nearest
    def load_nearest(self, tid: int) -> None:
        self._nearest_stale = False
        self._set_query(self.state.tracklet_row(tid), None, "searching…")
        self.shell.submit(inspect_jobs.nearest_timed(tid, NEAREST_K), self._nearest_loaded)

    def _set_query(self, query: TrackletRow | None, image: QPixmap | None, status: str) -> None:
        self.state.query = query
        self.nearest_view.set_query(query, image, status)

    def _nearest_loaded(self, result: inspect_jobs.NearestResult) -> None:
        query, rows = result.query, result.rows
        self._limits = (result.max_gap_s, result.max_overlap_s)
        thumbs = self.shell.thumbnails
        if query.id != self.state.tracklet or thumbs is None:
            return
        timing = [timing_fit(query, row, result.max_gap_s, result.max_overlap_s) for row, _, _ in rows]
        self.nearest_model.set_rows(rows, timing)
        misfits = sum(not fits for fits, _ in timing)
        self._set_query(
            query,
            thumbs.best(query.id),
            f"{len(rows)} nearest tracklets from every camera, "
            f"closest first; {misfits} dimmed: their timing cannot fit the query's (transit ≤ "
            f"{result.max_gap_s:g} s, cameras overlap ≤ {result.max_overlap_s:g} s)",
        )
        if self.state.tab == NEAREST:
            self.nearest_view.focus_first()

    def nearest_result(self) -> int | None:
        """The selected result of the nearest tab, while the tab is shown."""
        return self.nearest_view.selected_tracklet() if self.state.tab == NEAREST else None

    def go_to_result(self) -> None:
        """G: show the selected nearest result in its identity."""
        if self.nearest_result() is not None:
            self.nearest_view.request_open()

    # --- compare
    def compare(self, a: int | None, b: int | None = None, note: str = "") -> None:
        """Show tracklets ``a`` and ``b`` side by side (``b`` None: the closest other member of a's identity),
        with ``note`` above them (e.g. what Y and N do)."""
        if a is None:
            return
        self._asked = (a, b)
        self.compare_view.set_note(note)
        self._switching = True  # the tab's refresh must not ask for the current tracklet's pair instead
        try:
            self.shell.show_tab(COMPARE)
        finally:
            self._switching = False
        self.shell.submit(jobs.compare_pair(a, b), self._compare_loaded)

    def show_merge(self, a: int, b: int, identity: int, other: int) -> None:
        """Both sides of a suggested merge: tracklet ``a`` of ``identity`` beside ``b`` of ``other``, in the
        compare tab; the current tracklet stays ``a``, so Y and N still answer the queue's item."""
        self.compare(
            a,
            b,
            f"<b>Suggested merge</b> of identity #{identity} (left) and #{other} (right): "
            "Y joins them, N keeps them apart, Ctrl+N skips",
        )

    def compare_selected(self) -> None:
        """C: on the nearest tab its selected result with the query; elsewhere the selected tracklets."""
        result = self.nearest_result()
        if result is not None:
            self._compare_with_query(result)
            return
        selected = self.state.selected_tracklets
        self.compare(*(selected[:2] or [None]))

    def _compare_with_query(self, tracklet_id: int) -> None:
        query = self.state.query
        self.compare(query.id if query is not None else self.state.tracklet, tracklet_id)

    def _compare_loaded(self, result: Any) -> None:
        if result is None:
            self.shell.show_status("nothing to compare with: the tracklet has no neighbour")
            return
        ta, tb, dets_a, dets_b, distance, threshold = result
        view = self.compare_view
        view.set_pair(ta, tb)
        self.shell.show_in_viewer(view.left, ta, dets_a)
        self.shell.show_in_viewer(view.right, tb, dets_b)
        self._show_distance(distance, threshold)
        self.fill_strips()

    def _show_distance(self, distance: float | None, threshold: float) -> None:
        """The pair's distance, and its timing once ``QueueConfig``'s limits are known (read in the worker)."""
        pair, limits = self.compare_view.pair, self._limits
        if pair is None:
            return
        if limits is None:
            self.compare_view.set_distance(distance, threshold)
            ids = (pair[0].id, pair[1].id)
            self.shell.submit(
                lambda _store: queue_limits(), lambda got: self._limits_loaded(got, ids, distance, threshold)
            )
            return
        self.compare_view.set_distance(distance, threshold, timing_fit(pair[0], pair[1], *limits))

    def _limits_loaded(
        self, limits: tuple[float, float], ids: tuple[int, int], distance: float | None, threshold: float
    ) -> None:
        self._limits = limits
        pair = self.compare_view.pair
        if pair is not None and (pair[0].id, pair[1].id) == ids:  # still the pair the distance is of
            self._show_distance(distance, threshold)

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
