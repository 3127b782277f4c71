"""Decisions that say what the reviewer means, beside the review keys of ``gui.review_flow``:

- Shift+S splits the selected tracklets off together: one new identity, confirmed, vetoes (cannot-links)
  between the two groups and none inside either. The reviewer stays on the old identity, on a tracklet that
  remained, as after S and N: what is left there is what still needs a look.
- N rejects a proposed link against its partner only (``reid.link.partner.link_partner``: the member the link
  stands on), not against every member; Shift+N rejects against every member (``reject_whole``, also on a
  queue item); N on a suggested merge or a "looks mixed" item of the work queue answers it (``ReviewFlow``).
- V lists the vetoes of the current identity (``VetoesDialog``; it follows the identity shown while open),
  each of which can be removed.
- Ctrl+H lists the decision history (``HistoryDialog``); one decision can be reverted as a new edit, keeping
  every later one (refused, with the reason in the status bar, when a later one changed the same rows).

Works on the state, the edits and a ``Shell`` like ``ReviewFlow``, and fills the two dialogs it is given;
reads run in the window's worker (``shell.submit``), edits through ``ReviewEdits``.
"""

from __future__ import annotations

from typing import Any

from gui.edits import ReviewEdits
from gui.review_flow import ReviewFlow
from gui.state import Job, ReviewState, Shell
from gui.widgets.history import HistoryDialog
from gui.widgets.vetoes import Veto, VetoesDialog


# --- jobs: plain functions of the worker's read-only store (no Qt)
def partner_of(tracklet_id: int) -> Job:
    """The member of the tracklet's identity its link stands on (None: alone, or no embeddings)."""

    def job(store: Any) -> int | None:
        from reid.link.partner import link_partner  # reads embeddings: in the worker

        return link_partner(store, tracklet_id)

    return job


def vetoes_of(identity_id: int) -> Job:
    """Every cannot-link touching the identity's tracklets as ``(member, other)`` rows, in strip order."""

    def job(store: Any) -> list[Veto]:
        members = {t.id: t for t in store.identity_tracklets(identity_id)}
        rows = []
        for a, b in store.cannot_links(sorted(members)):
            mine, other = (a, b) if a in members else (b, a)
            rows.append((members[mine], members.get(other) or store.tracklet(other)))
        return sorted(rows, key=lambda r: (r[0].camera, r[0].first_time, r[0].id, r[1].id))

    return job


def review_log(store: Any) -> Any:
    return store.review_log()


class DecisionsFlow:
    def __init__(
        self,
        state: ReviewState,
        edits: ReviewEdits,
        shell: Shell,
        review: ReviewFlow,
        vetoes: VetoesDialog,
        history: HistoryDialog,
    ) -> None:
        self.state, self.edits, self.shell, self.review = state, edits, shell, review
        self.vetoes, self.history = vetoes, history
        vetoes.remove_requested.connect(self.remove_veto)
        history.revert_requested.connect(self.revert)
        edits.changed.connect(self.refresh)

    # --- splitting and rejecting
    def split_group(self) -> None:
        """Shift+S: the selected tracklets leave together for one new identity, kept apart from the rest."""
        ids = list(self.state.selected_tracklets)
        if not ids:
            return
        order = [t.id for t in self.state.tracklets]
        rest = [t for t in order if t not in ids]
        current = self.state.tracklet
        if current in rest:  # the reviewer's tracklet stays: stay on it
            self.state.want_tracklet = current
        elif current in order:  # it leaves: the first remaining tracklet after it, else before it
            i = order.index(current)
            self.state.want_tracklet = next((t for t in order[i + 1 :] + order[:i][::-1] if t in rest), None)
        else:
            self.state.want_tracklet = rest[0] if rest else None
        if self.edits.split_group(ids):
            n = len(ids)
            self.shell.show_status(
                f"split {n} tracklet{'s' if n != 1 else ''} ({', '.join(map(str, sorted(ids)))}) off as a new "
                f"identity, kept apart from the {len(rest)} left in #{self.state.identity}"
            )

    def reject_whole(self) -> None:
        """Shift+N: reject the current tracklet's link against every other member of its identity, whatever
        queue item is on screen (Y / N answer those); the queue moves on when its link item was the one."""
        tid, item = self.state.tracklet, self.review.item_on_screen()
        if tid is None:
            return
        self.state.want_tracklet = self.state.neighbour(tid)
        if self.edits.reject(tid) and item is not None and item.kind == "link":
            self.review.next_item()

    def reject_link(self) -> None:
        """N: reject the current tracklet's link against its partner only (found in the worker), or answer the
        queue's suggested merge on screen as before (``ReviewFlow.reject``)."""
        tid, item = self.state.tracklet, self.review.item_on_screen()
        if tid is None:
            return
        if item is not None and item.kind != "link":
            self.review.reject()
            return
        self.shell.show_status(f"rejecting tracklet {tid}: finding the tracklet its link stands on…")
        self.shell.submit(partner_of(tid), lambda partner: self._reject_against(tid, partner, item))

    def _reject_against(self, tid: int, partner: int | None, item: Any) -> None:
        # no partner (alone, or no embeddings): the whole-identity reject, or the store's reason it cannot
        if partner is None:
            self.state.want_tracklet = self.state.neighbour(tid) if self.state.tracklet == tid else None
            done = self.edits.reject(tid)
        else:
            if self.state.tracklet == tid:
                self.state.want_tracklet = self.state.neighbour(tid)  # stay in the identity, on the next one
            done = self.edits.reject(tid, against=[partner])
            if done:
                self.shell.show_status(f"rejected tracklet {tid} against tracklet {partner}")
        if item is not None and done:
            self.review.next_item()

    # --- vetoes
    def show_vetoes(self) -> None:
        """V: the vetoes of the current identity, in a dialog that stays open beside the window."""
        identity = self.state.identity
        if identity is None:
            return
        self.vetoes.identity = identity
        self._load_vetoes(identity)
        self.vetoes.show()
        self.vetoes.raise_()
        self.vetoes.activateWindow()

    def identity_shown(self, identity_id: int) -> None:
        """The window lists another identity: an open vetoes dialog follows it."""
        if self.vetoes.isVisible() and identity_id != self.vetoes.identity:
            self.vetoes.identity = identity_id
            self._load_vetoes(identity_id)

    def remove_veto(self, a: int, b: int) -> None:
        if self.edits.remove_veto(a, b):
            self.shell.show_status(f"removed the veto between tracklets {a} and {b}")

    def _load_vetoes(self, identity: int) -> None:
        self.shell.submit(
            vetoes_of(identity),
            lambda rows: self.vetoes.set_vetoes(identity, rows, self.shell.thumbnails),
        )

    # --- history
    def show_history(self) -> None:
        """Ctrl+H: the decisions of this database, newest first, each revertible on its own."""
        self.shell.submit(review_log, self.history.set_entries)
        self.history.show()
        self.history.raise_()
        self.history.activateWindow()

    def revert(self, entry_id: int) -> None:
        self.edits.revert(entry_id)  # refused: ReviewFlow.edit_refused puts the reason in the status bar

    # --- keeping the dialogs in step
    def refresh(self) -> None:
        """After every edit, undo, redo and relink: reload the dialogs that are open."""
        if self.vetoes.isVisible() and self.vetoes.identity is not None:
            self._load_vetoes(self.vetoes.identity)
        if self.history.isVisible():
            self.shell.submit(review_log, self.history.set_entries)

    def close(self) -> None:
        """The file was closed: nothing of it stays on screen."""
        self.vetoes.hide()
        self.history.hide()
        self.vetoes.model.set_rows([])
        self.history.model.set_rows([])
