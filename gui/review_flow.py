"""What the review keys do: take the tracklet or identity from the ``ReviewState``, make the edit through
``ReviewEdits`` (the store's review log is the undo history), and say where the reviewer should land after
the views reload (``state.want_identity`` / ``want_tracklet``). Also the work queue: next unreviewed, least
confident first. Works on the state, the edits and a ``Shell``; it never sees the window."""

from __future__ import annotations

from gui import jobs
from gui.edits import ReviewEdits
from gui.state import REVIEW, ReviewState, Shell
from reid.store.rows import IdentitySummary, TrackletRow


class ReviewFlow:
    def __init__(self, state: ReviewState, edits: ReviewEdits, shell: Shell) -> None:
        self.state, self.edits, self.shell = state, edits, shell
        edits.refused.connect(self.edit_refused)
        edits.failed.connect(self.edit_failed)

    # --- edits of the current tracklet
    def confirm(self) -> None:
        if self.state.tracklet is not None:
            self.edits.confirm(self.state.tracklet)

    def reject(self) -> None:
        tid = self.state.tracklet
        if tid is not None:
            self.state.want_tracklet = self.state.neighbour(tid)  # stay in the identity, on the next tracklet
            self.edits.reject(tid)

    def split(self) -> None:
        tid = self.state.tracklet
        if tid is not None:
            self.state.want_tracklet = self.state.neighbour(tid)
            self.edits.split(tid)

    # --- edits of identities
    def merge(self) -> None:
        """Merge the second selected identity (or one chosen in a dialog) into the current one."""
        keep = self.state.identity
        if keep is None:
            return
        selected = self.state.selected_identities
        other = selected[1] if len(selected) > 1 else None
        if other is None:
            candidates = [(r.id, _label(r)) for r in self.state.identities if r.id != keep]
            other = self.shell.ask_identity(f"Merge into identity #{keep}", candidates)
        if other is None or other == keep:
            return
        self.state.want_identity = keep
        self.edits.merge(keep, other)

    def annotate(self) -> None:
        summary = self.state.summary(self.state.identity)
        if summary is None:
            return
        answer = self.shell.ask_annotation(summary.id, summary.name, summary.note)
        if answer is not None:
            self.edits.annotate(summary.id, *answer)

    def assign_from_nearest(self, tracklet_id: int | None = None) -> None:
        """Move a query-by-example result (default: the selected one) into the query's identity, confirmed."""
        tracklet_id = tracklet_id if tracklet_id is not None else self.state.nearest_selected
        query = self.state.query
        if tracklet_id is None or query is None or query.identity_id is None:
            return
        self.edits.assign(tracklet_id, query.identity_id)

    def undo(self) -> None:
        self.edits.undo()

    def redo(self) -> None:
        self.edits.redo()

    # --- work queue and navigation
    def next_unreviewed(self) -> None:
        self.shell.submit(jobs.next_unreviewed(self.state.tracklet), self.go_to)

    def go_to_tracklet(self, tracklet_id: int) -> None:
        self.shell.submit(lambda s: s.tracklet(tracklet_id), self.go_to)

    def go_to(self, row: TrackletRow | None) -> None:
        """Select ``row``'s identity and then ``row`` in the review tab."""
        if row is None:
            self.shell.show_status("nothing left to review: every link is confirmed")
            return
        if row.identity_id is None:
            return
        self.shell.show_tab(REVIEW)
        if row.identity_id == self.state.identity and self.shell.select_tracklet(row.id):
            return
        self.state.want_tracklet = row.id
        self.shell.select_identity(row.identity_id)

    # --- when an edit did not happen
    def edit_refused(self, message: str) -> None:
        """The store refused an edit (nothing written): say why in the status bar, keep reviewing."""
        self.state.forget_wanted()
        self.shell.show_status(f"not done: {message}", error=True)
        self.shell.beep()

    def edit_failed(self, message: str) -> None:
        """Undo/redo found the database changed elsewhere: the history was cleared; worth a dialog."""
        self.state.forget_wanted()
        self.shell.show_status(message, error=True)
        self.shell.show_error("Undo history cleared", message)


def _label(r: IdentitySummary) -> str:
    return f"#{r.id} {r.name}".strip() + f" — {', '.join(r.cameras)}"
