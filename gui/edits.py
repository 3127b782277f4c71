"""Review edits and their undo/redo, with one undo history: the store's ``review_log``.

Each edit is one store call (one transaction, one ``review_log`` row, written at once); undo and redo are
``store.undo()`` / ``store.redo()``, which revert or re-apply exactly the newest entry of the log. The window
keeps no stack of its own, only the ids of the log entries it wrote (``mine``): it undoes an entry only when
it is the one the store would revert next and this window wrote it. When the next entry is someone else's
(another program edited or relinked the file), the window forgets its entries instead of undoing theirs.

A decision (confirm, reject, split, merge, assign, split_group, confirm_group, revert) then relinks the part
of the site it touched (``reid.link.relink_component.relink_after``) in a worker thread with its own read-write
store, into the decision's own log entry: ``changed`` fires again when it is written, and one undo reverts
both. A relink that finds its entry no longer the newest (the reviewer undid it or decided again first) writes
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from PySide6.QtCore import QObject, Signal

from gui.workers import QueryRunner
from reid.config import LinkConfig
from reid.errors import ReidError
from reid.store import review as store_review
from reid.store.rows import ReviewLogRow

if TYPE_CHECKING:
    from reid.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReviewStore(Protocol):
    """The edit methods of ``reid.store.Store`` the review app uses."""

    readonly: bool

    def confirm(self, tracklet_id: int) -> None: ...

    def reject(self, tracklet_id: int, against: Iterable[int] | None = None) -> int: ...

    def split_group(self, tracklet_ids: Iterable[int]) -> int: ...

    def confirm_group(self, tracklet_ids: Iterable[int]) -> int: ...

    def remove_veto(self, tracklet_a: int, tracklet_b: int) -> None: ...

    def revert(self, entry_id: int) -> None: ...

    def cannot_links(self, tracklet_ids: Iterable[int]) -> list[tuple[int, int]]: ...

    def split(self, tracklet_id: int) -> int: ...

    def merge(self, keep_id: int, other_id: int) -> None: ...

    def assign(self, tracklet_id: int, identity_id: int) -> None: ...

    def annotate(self, identity_id: int, name: str, note: str = "") -> None: ...

    def undo(self) -> str | None: ...

    def redo(self) -> str | None: ...

    def review_log(self) -> list[ReviewLogRow]: ...

    def write(self, fn: Callable[..., T], *args: Any) -> T: ...


if TYPE_CHECKING:  # mypy checks here that the real store provides the protocol

    def _store_is_a_review_store(store: Store) -> ReviewStore:
        return store


class ReviewEdits(QObject):
    """Edits of the open store and their undo/redo.

    ``changed`` fires after every edit, undo and redo (the window reloads its views), and again when a
    decision's relink was written; ``refused(message)`` when an edit was refused (``ReviewError``, or the file
    is read-only: nothing was written); ``failed(message)`` when undo/redo found the log changed elsewhere (this
    window's history is then forgotten). ``message`` says what the last edit, undo, redo or relink did.
    ``relink``: decisions relink their component (needs a file with a stored link threshold); ``link_cfg``: the
    linker's settings for it (the threshold is always the database's own).
    """

    changed = Signal()
    refused = Signal(str)
    failed = Signal(str)

    def __init__(
        self, parent: QObject | None = None, relink: bool = False, link_cfg: LinkConfig | None = None
    ) -> None:
        super().__init__(parent)
        self.store: ReviewStore | None = None
        self.mine: set[int] = set()  # review_log ids this window wrote
        self.message = ""
        self.relink = relink
        self.link_cfg = link_cfg or LinkConfig()
        self._relinker: QueryRunner | None = None

    def set_store(self, store: ReviewStore | None) -> None:
        if self._relinker is not None:
            self._relinker.stop()
            self._relinker = None
        self.store, self.mine, self.message = store, set(), ""
        path = getattr(store, "path", None)
        if (
            store is not None
            and not store.readonly
            and self.relink
            and path is not None
            and _has_threshold(store)
        ):
            self._relinker = QueryRunner(Path(path), parent=self, readonly=False)

    @property
    def relinking(self) -> bool:
        """True while a decision's relink is queued or running."""
        return self._relinker is not None and self._relinker.pending > 0

    @property
    def relinker(self) -> QueryRunner | None:
        """The worker that relinks decisions (its ``idle`` fires when none is pending); None when off."""
        return self._relinker

    @property
    def writable(self) -> bool:
        return self.store is not None and not self.store.readonly

    # --- the edits
    def confirm(self, tracklet_id: int) -> bool:
        return self._edit(lambda s: s.confirm(tracklet_id), relink=True)

    def reject(self, tracklet_id: int, against: Iterable[int] | None = None) -> bool:
        """N: the tracklet leaves its identity, vetoed against every other member or only ``against`` (e.g.
        its link partner, ``reid.link.partner.link_partner``)."""
        named = None if against is None else list(against)
        return self._edit(lambda s: s.reject(tracklet_id, named), relink=True)

    def split_group(self, tracklet_ids: Iterable[int]) -> bool:
        """The selected members of one identity leave it together, confirmed, vetoed against the rest."""
        ids = list(tracklet_ids)
        return self._edit(lambda s: s.split_group(ids), relink=True)

    def confirm_group(self, tracklet_ids: Iterable[int]) -> bool:
        ids = list(tracklet_ids)
        return self._edit(lambda s: s.confirm_group(ids), relink=True)

    def confirm_identity(self, identity_id: int) -> bool:
        """N to "looks mixed": every member the identity holds now confirmed as one person."""
        return self._edit(lambda s: s.write(store_review.confirm_identity, identity_id), relink=True)

    def remove_veto(self, tracklet_a: int, tracklet_b: int) -> bool:
        """The cannot-link between two tracklets goes (no membership changes: the next relink may join them)."""
        return self._edit(lambda s: s.remove_veto(tracklet_a, tracklet_b))

    def revert(self, entry_id: int) -> bool:
        """Revert one earlier decision of the log alone, as a new (undoable) edit; then relink what it touched."""
        return self._edit(lambda s: s.revert(entry_id), relink=True)

    def split(self, tracklet_id: int) -> bool:
        return self._edit(lambda s: s.split(tracklet_id), relink=True)

    def merge(self, keep_id: int, other_id: int) -> bool:
        return self._edit(lambda s: s.merge(keep_id, other_id), relink=True)

    def assign(self, tracklet_id: int, identity_id: int) -> bool:
        return self._edit(lambda s: s.assign(tracklet_id, identity_id), relink=True)

    def annotate(self, identity_id: int, name: str, note: str = "") -> bool:
        return self._edit(lambda s: s.annotate(identity_id, name, note))

    def join(self, keep_id: int, other_id: int, pair: tuple[int, int]) -> bool:
        """Y to a suggested merge: merge ``other_id`` into ``keep_id``, confirming the ``pair`` of tracklets
        compared (so relinks keep them together), as ``reid evaluate-review``'s reviewer does."""
        return self._edit(lambda s: s.write(store_review.merge, keep_id, other_id, pair), relink=True)

    def keep_apart(self, identity_a: int, identity_b: int) -> bool:
        """N to a suggested merge: cannot-links between every tracklet of one and every tracklet of the other
        (no membership changes, so nothing to relink)."""
        return self._edit(lambda s: s.write(store_review.keep_apart, identity_a, identity_b))

    def after_relinks(
        self, job: Callable[[Any], Any], done: Callable[[Any], None], failed: Callable[[str], None]
    ) -> bool:
        """Run the read-only ``job(store)`` after every queued relink (in the relinker's thread, so it sees
        what they wrote); False when decisions do not relink (the caller runs it elsewhere)."""
        if self._relinker is None:
            return False
        self._relinker.submit(job, done, failed)
        return True

    def _edit(self, call: Callable[[ReviewStore], Any], relink: bool = False) -> bool:
        """Run one store edit (and queue the relink of what it touched); True if the database changed."""
        if self.store is None or not self.writable:
            self.refused.emit("the database is open read-only")
            return False
        try:
            call(self.store)
        except ReidError as exc:
            self.refused.emit(str(exc))
            return False
        entries = self.store.review_log()
        if entries:
            self.mine.add(entries[-1].id)
            self._done("saved", entries[-1])
        self.changed.emit()
        if relink and entries and self._relinker is not None:
            self._queue_relink(entries[-1])
        return True

    def _queue_relink(self, entry: ReviewLogRow) -> None:
        cfg = self.link_cfg

        def job(store: Any) -> Any:
            from reid.link.relink_component import relink_after

            return relink_after(store, entry.id, cfg)

        def done(change: Any) -> None:
            if change.moved or change.created or change.deleted:
                self.message = (
                    f"saved: {entry.description}; relinked {len(change.component)} tracklets, "
                    f"{len(change.moved)} moved"
                )
                log.info("review: %s", self.message)
                self.changed.emit()

        def failed(message: str) -> None:  # undone or followed by another edit first: nothing was written
            log.info("review: no relink after '%s': %s", entry.description, message)

        assert self._relinker is not None
        self._relinker.submit(job, done, failed)

    # --- undo / redo on the store's log
    def history(self) -> list[ReviewLogRow]:
        """This window's entries of the store's current undo history, oldest first."""
        if self.store is None or not self.mine:
            return []
        return [e for e in self.store.review_log() if e.id in self.mine and e.undoable]

    def count(self) -> int:
        """How many edits this window can undo or redo (``QUndoStack.count``)."""
        return len(self.history())

    def index(self) -> int:
        """How many of them are applied (``QUndoStack.index``)."""
        return sum(not e.undone for e in self.history())

    def next_undo(self) -> ReviewLogRow | None:
        """The entry ``store.undo()`` would revert, when this window wrote it (no read of the log before this
        window wrote anything: the log of a large site takes a while to read)."""
        entry = _next(self.store, undone=False) if self.mine else None
        return entry if entry is not None and entry.id in self.mine else None

    def next_redo(self) -> ReviewLogRow | None:
        entry = _next(self.store, undone=True) if self.mine else None
        return entry if entry is not None and entry.id in self.mine else None

    def undo(self) -> bool:
        return self._step("undo", undone=False)

    def redo(self) -> bool:
        return self._step("redo", undone=True)

    def _step(self, verb: str, undone: bool) -> bool:
        if self.store is None or not self.writable:
            return False
        written = [e for e in self.store.review_log() if e.id in self.mine]
        mine = [e for e in written if e.undoable and e.undone == undone]
        relinked = [e for e in written if not e.undoable]  # a relink or re-commit started a new history
        if not mine and not relinked:
            return False  # nothing of this window's to undo (redo): the action is disabled anyway
        entry = _next(self.store, undone=undone)
        try:
            if not mine or entry is None or entry.id not in self.mine:
                what = (mine or relinked)[-1 if verb == "undo" else 0].description
                raise _OutOfStep(
                    f"cannot {verb} '{what}': the database's review log changed elsewhere "
                    "(another program edited or relinked it); undo history cleared"
                )
            action = self.store.undo() if verb == "undo" else self.store.redo()
            if action != entry.action:
                raise _OutOfStep(
                    f"{verb} of '{entry.description}' found '{action}' in the database's review "
                    "log; the file was edited elsewhere, undo history cleared"
                )
        except ReidError as exc:
            self.mine.clear()
            self.message = ""  # the views reload, the error stays in the status bar
            self.failed.emit(str(exc))
            self.changed.emit()
            return False
        self._done("undone" if verb == "undo" else "redone", entry)
        self.changed.emit()
        return True

    def _done(self, what: str, entry: ReviewLogRow) -> None:
        self.message = f"{what}: {entry.description}"
        log.info("review: %s", self.message)


class _OutOfStep(ReidError):
    pass


def _next(store: ReviewStore | None, undone: bool) -> ReviewLogRow | None:
    """The entry ``store.undo()`` would revert (``undone=False``: the newest applied one) or ``store.redo()``
    would re-apply (``undone=True``: the oldest undone one) in the current history."""
    if store is None:
        return None
    entries = [e for e in store.review_log() if e.undoable and e.undone == undone]
    if not entries:
        return None
    return entries[0] if undone else entries[-1]


def _has_threshold(store: Any) -> bool:
    """Whether the database records the threshold its last full link resolved (what a relink reuses)."""
    try:
        return bool(store.get_meta("link_threshold"))
    except (AttributeError, ReidError):
        return False
