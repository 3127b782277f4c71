"""What the review keys do in the window: take the tracklet or identity from the selection, push the
command (``gui.commands``), and after the database changed reload the views keeping the reviewer's place.
Also the work queue: next unreviewed, least confident first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from gui import jobs
from reid.store.rows import IdentitySummary, TrackletRow

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class ReviewFlow(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        window.review.changed.connect(self.after_edit)
        window.review.refused.connect(self.edit_refused)
        window.review.failed.connect(self.edit_failed)

    # --- edits of the current tracklet
    def confirm(self) -> None:
        tid = self.w.current_tracklet()
        if tid is not None:
            self.w.review.confirm(tid)

    def reject(self) -> None:
        tid = self.w.current_tracklet()
        if tid is not None:
            self.w.want_tracklet = self._neighbour(tid)  # stay in the identity, on the next tracklet
            self.w.review.reject(tid)

    def split(self) -> None:
        tid = self.w.current_tracklet()
        if tid is not None:
            self.w.want_tracklet = self._neighbour(tid)
            self.w.review.split(tid)

    def _neighbour(self, tid: int) -> int | None:
        ids = [t.id for t in self.w.tracklet_model.rows()]
        i = ids.index(tid) if tid in ids else -1
        rest = ids[i + 1:] + ids[:i][::-1]
        return rest[0] if rest else None

    # --- edits of identities
    def merge(self) -> None:
        """Merge the second selected identity (or one chosen in a dialog) into the current one."""
        keep = self.w.current_identity()
        if keep is None:
            return
        selected = self.w.identity_list.selected_identities()
        other = selected[1] if len(selected) > 1 else None
        if other is None:
            model = self.w.identity_model
            rows = (model.summary(i) for i in range(model.rowCount()))
            candidates = [(r.id, _label(r)) for r in rows if r.id != keep]
            other = self.w.dialogs.choose_identity(self.w, f"Merge into identity #{keep}", candidates)
        if other is None or other == keep:
            return
        self.w.want_identity = keep
        self.w.review.merge(keep, other)

    def annotate(self) -> None:
        ident = self.w.current_identity()
        row = self.w.identity_model.row_of(ident) if ident is not None else None
        if ident is None or row is None:
            return
        summary = self.w.identity_model.summary(row)
        answer = self.w.dialogs.annotate(self.w, ident, summary.name, summary.note)
        if answer is not None:
            self.w.review.annotate(ident, *answer)

    def assign_from_nearest(self, tracklet_id: int | None = None) -> None:
        """Move a query-by-example result into the query's identity, confirmed."""
        view = self.w.nearest_view
        tracklet_id = tracklet_id if tracklet_id is not None else view.selected_tracklet()
        if tracklet_id is None or view.query is None or view.query.identity_id is None:
            return
        self.w.review.assign(tracklet_id, view.query.identity_id)

    # --- work queue and navigation
    def next_unreviewed(self) -> None:
        if self.w.queries is not None:
            self.w.queries.submit(jobs.next_unreviewed(self.w.current_tracklet()), self.go_to,
                                  self.w.query_failed)

    def go_to_tracklet(self, tracklet_id: int) -> None:
        if self.w.queries is not None:
            self.w.queries.submit(lambda s: s.tracklet(tracklet_id), self.go_to, self.w.query_failed)

    def go_to(self, row: TrackletRow | None) -> None:
        """Select ``row``'s identity and then ``row`` in the review tab."""
        if row is None:
            self.w.show_status("nothing left to review: every link is confirmed")
            return
        if row.identity_id is None:
            return
        self.w.show_tab(self.w.REVIEW)
        if row.identity_id == self.w.current_identity() and self.w.strips.select_tracklet(row.id):
            return
        self.w.want_tracklet = row.id
        self.w.identity_list.select_identity(row.identity_id)

    # --- after the database changed
    def after_edit(self) -> None:
        """Reload what an edit, undo or redo may have changed."""
        self.w.inspect.invalidate()
        if self.w.queries is None:
            return
        self.w.queries.submit(lambda s: s.identity_summaries(), self._identities_refreshed, self.w.query_failed)
        self.w.load_overview()
        done = self.w.review.stack.undoText()
        if done:
            self.w.show_status(f"saved: {done}")

    def _identities_refreshed(self, rows: list[IdentitySummary]) -> None:
        want, self.w.want_identity = self.w.want_identity, None
        current = self.w.current_identity()
        self.w.identity_model.update_rows(rows)
        self.w.identity_list.set_cameras(self.w.identity_model.cameras())
        if not rows:
            self.w.stack.setCurrentWidget(self.w.empty_state)
            return
        target = want if want is not None else current
        if target is not None and self.w.identity_list.select_identity(target):
            if target == current:
                self.w.identity_changed(target)  # the same row stays current: reload its tracklets
        else:
            self.w.identity_list.select_row(0)

    def edit_refused(self, message: str) -> None:
        """The store refused an edit (nothing written): say why in the status bar, keep reviewing."""
        self.w.want_identity = self.w.want_tracklet = None
        self.w.show_status(f"not done: {message}", error=True)
        QApplication.beep()

    def edit_failed(self, message: str) -> None:
        """Undo/redo found the database changed elsewhere: the history was cleared; worth a dialog."""
        self.w.want_identity = self.w.want_tracklet = None
        self.w.show_status(message, error=True)
        self.w.dialogs.error(self.w, "Undo history cleared", message)


def _label(r: IdentitySummary) -> str:
    return f"#{r.id} {r.name}".strip() + f" — {', '.join(r.cameras)}"
