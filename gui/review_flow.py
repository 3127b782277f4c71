"""What the review keys do: take the tracklet or identity from the ``ReviewState``, make the edit through
``ReviewEdits`` (the store's review log is the undo history), and say where the reviewer should land after
the views reload (``state.want_identity`` / ``want_tracklet``). Works on the state, the edits and a
``Shell``; it never sees the window.

The work queue (``gui.jobs.next_item``: ``reid.link.review_queue.review_items``, proposed links and suggested
merges, most valuable decision first) starts at its top (Ctrl+N). While its item is on screen (its tracklet
current), Y and N answer it: a link is confirmed or rejected, a suggested merge joined (``ReviewEdits.join``)
or kept apart (``keep_apart``), a mixed-looking identity split in two (``split_group``) or confirmed as one
person (``confirm_group``); then the queue moves on to its next item, read after the decision's relink.
Ctrl+N skips the item: a skipped item is not shown again until the queue has nothing else, and then only
after the reviewer is told and presses Ctrl+N again. Away from the item, Y and N act on the current tracklet.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gui import jobs
from gui.edits import ReviewEdits
from gui.model_base import format_time
from gui.state import REVIEW, ReviewState, Shell
from reid.store.rows import IdentitySummary, TrackletRow

if TYPE_CHECKING:
    from reid.link.review_queue import ReviewItem  # imported by the queue's job, in the worker (torch)


class ReviewFlow:
    def __init__(self, state: ReviewState, edits: ReviewEdits, shell: Shell) -> None:
        self.state, self.edits, self.shell = state, edits, shell
        self.item: ReviewItem | None = None  # the work queue's item on screen
        self.skipped: set[tuple[Any, ...]] = set()  # jobs.item_key of the items skipped with Ctrl+N
        edits.refused.connect(self.edit_refused)
        edits.failed.connect(self.edit_failed)

    # --- edits of the current tracklet
    def confirm(self) -> None:
        """Y: confirm the current tracklet's link, join the suggested merge on screen, or split the group of a
        mixed-looking identity off (a new identity, kept apart from the rest)."""
        tid, item = self.state.tracklet, self.item_on_screen()
        if tid is None:
            return
        if item is not None and item.kind == "merge" and item.other is not None and item.partner is not None:
            done = self.edits.join(item.identity, item.other, (item.tracklet, item.partner))
        elif item is not None and item.kind == "mixed":
            self.state.want_tracklet = item.partner  # stay in the identity, on the rest's closest tracklet
            done = self.edits.split_group(item.group)
        else:
            done = self.edits.confirm(tid)
        if item is not None and done:
            self.next_item()

    def reject(self) -> None:
        """N: reject the current tracklet's link, keep the suggested merge on screen apart, or confirm every
        member of a mixed-looking identity as one person."""
        tid, item = self.state.tracklet, self.item_on_screen()
        if tid is None:
            return
        if item is not None and item.kind == "merge" and item.other is not None:
            done = self.edits.keep_apart(item.identity, item.other)
        elif item is not None and item.kind == "mixed":
            done = self.edits.confirm_identity(item.identity)  # its members now, not the view's
        else:
            self.state.want_tracklet = self.state.neighbour(tid)  # stay in the identity, on the next tracklet
            done = self.edits.reject(tid)
        if item is not None and done:
            self.next_item()

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
    def item_on_screen(self) -> ReviewItem | None:
        """The queue's item, while the reviewer is on it (its tracklet current)."""
        item = self.item
        return item if item is not None and self.state.tracklet == item.tracklet else None

    def next_unreviewed(self) -> None:
        """Ctrl+N: skip the item on screen (if any) and go to the queue's next one."""
        if self.item is not None:
            self.skipped.add(jobs.item_key(self.item))
        self.next_item()

    def next_item(self) -> None:
        """Go to the queue's first item not skipped, read after every queued relink."""
        self.item = None
        job = jobs.next_item(frozenset(self.skipped))
        if not self.edits.after_relinks(job, self.show_item, self.queue_failed):
            self.shell.submit(job, self.show_item)

    def queue_failed(self, message: str) -> None:
        self.shell.show_status(f"work queue: {message}", error=True)

    def show_item(self, step: jobs.QueueStep) -> None:
        if step.item is None:
            if step.skipped:
                self.skipped.clear()  # the next Ctrl+N starts over with them
                self.shell.show_status(
                    f"end of the work queue: {step.skipped} skipped item(s) left; Ctrl+N "
                    "goes through them again"
                )
            else:
                self.shell.show_status(
                    "nothing left to review: every link is confirmed and no merge suggested"
                )
            return
        item, row = step.item, step.row
        if row is None or row.identity_id is None:
            return
        self.item = item
        self.go_to(row, keep=True)
        if item.kind == "mixed":
            self.shell.show_status(
                f"looks mixed ({step.total} in the queue): identity #{item.identity}, tracklets "
                f"{list(item.group)} vs the rest, {item.cost:.3f} apart{_chance(item)} — Y splits them off, "
                "N says one person, Ctrl+N skips"
            )
        elif item.kind == "merge":
            self.shell.show_status(
                f"suggested merge ({step.total} in the queue): identity #{item.identity} "
                f"and #{item.other}, tracklets {item.tracklet} and {item.partner} "
                f"{item.cost:.3f} apart{_chance(item)} — Y joins them, N keeps them apart, Ctrl+N skips"
            )
            if item.partner is not None and item.other is not None:  # both sides, in the compare tab
                self.shell.show_merge(item.tracklet, item.partner, item.identity, item.other)
        else:
            self.shell.show_status(
                f"proposed link ({step.total} in the queue): tracklet {item.tracklet}, "
                f"cost {item.cost:.3f}{_chance(item)} — Y confirms, N rejects, Ctrl+N skips"
            )

    def go_to_tracklet(self, tracklet_id: int) -> None:
        self.shell.submit(lambda s: s.tracklet(tracklet_id), self.go_to)

    def go_to(self, row: TrackletRow | None, keep: bool = False) -> None:
        """Select ``row``'s identity and then ``row`` in the review tab. ``keep``: also after views that are
        still reloading (an edit's) come back, and select the identity once the list holds it."""
        if row is None or row.identity_id is None:
            return
        self.shell.show_tab(REVIEW)
        if keep:
            self.state.want_tracklet = row.id
        if row.identity_id == self.state.identity and self.shell.select_tracklet(row.id):
            return
        self.state.want_tracklet = row.id
        if not self.shell.select_identity(row.identity_id) and keep:
            self.state.want_identity = row.identity_id

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
    """A merge candidate: number and name, cameras, time span, size."""
    span = f"{format_time(r.first_time)}–{format_time(r.last_time)}"
    n = f"{r.n_tracklets} tracklet{'s' if r.n_tracklets != 1 else ''}"
    return f"#{r.id} {r.name}".strip() + f" — {', '.join(r.cameras)} · {span} · {n}"


def _chance(item: ReviewItem) -> str:
    """The item's link probability beside its cost (``reid.link.probability``); nothing when the file records
    no threshold to read the cost against."""
    return f", p(right) {item.p:.2f}" if math.isfinite(item.p) else ""
