"""Review edits and their undo/redo, with one undo history: the store's ``review_log``.

Each edit is one store call (one transaction, one ``review_log`` row, written at once); undo and redo are
``store.undo()`` / ``store.redo()``, which revert or re-apply exactly the newest entry of the log. The window
keeps no stack of its own, only the ids of the log entries it wrote (``mine``): it undoes an entry only when
it is the one the store would revert next and this window wrote it. When the next entry is someone else's
(another program edited or relinked the file), the window forgets its entries instead of undoing theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal

from reid.errors import ReidError
from reid.store.rows import ReviewLogRow

if TYPE_CHECKING:
    from reid.store import Store

log = logging.getLogger(__name__)


class ReviewStore(Protocol):
    """The edit methods of ``reid.store.Store`` the review app uses."""

    readonly: bool

    def confirm(self, tracklet_id: int) -> None: ...

    def reject(self, tracklet_id: int) -> int: ...

    def split(self, tracklet_id: int) -> int: ...

    def merge(self, keep_id: int, other_id: int) -> None: ...

    def assign(self, tracklet_id: int, identity_id: int) -> None: ...

    def annotate(self, identity_id: int, name: str, note: str = "") -> None: ...

    def undo(self) -> str | None: ...

    def redo(self) -> str | None: ...

    def review_log(self) -> list[ReviewLogRow]: ...


if TYPE_CHECKING:  # mypy checks here that the real store provides the protocol

    def _store_is_a_review_store(store: Store) -> ReviewStore:
        return store


class ReviewEdits(QObject):
    """Edits of the open store and their undo/redo.

    ``changed`` fires after every edit, undo and redo (the window reloads its views); ``refused(message)``
    when an edit was refused (``ReviewError``, or the file is read-only: nothing was written); ``failed(message)``
    when undo/redo found the log changed elsewhere (this window's history is then forgotten).
    ``message`` says what the last edit, undo or redo did.
    """

    changed = Signal()
    refused = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: ReviewStore | None = None
        self.mine: set[int] = set()  # review_log ids this window wrote
        self.message = ""

    def set_store(self, store: ReviewStore | None) -> None:
        self.store, self.mine, self.message = store, set(), ""

    @property
    def writable(self) -> bool:
        return self.store is not None and not self.store.readonly

    # --- the edits
    def confirm(self, tracklet_id: int) -> bool:
        return self._edit(lambda s: s.confirm(tracklet_id))

    def reject(self, tracklet_id: int) -> bool:
        return self._edit(lambda s: s.reject(tracklet_id))

    def split(self, tracklet_id: int) -> bool:
        return self._edit(lambda s: s.split(tracklet_id))

    def merge(self, keep_id: int, other_id: int) -> bool:
        return self._edit(lambda s: s.merge(keep_id, other_id))

    def assign(self, tracklet_id: int, identity_id: int) -> bool:
        return self._edit(lambda s: s.assign(tracklet_id, identity_id))

    def annotate(self, identity_id: int, name: str, note: str = "") -> bool:
        return self._edit(lambda s: s.annotate(identity_id, name, note))

    def _edit(self, call: Callable[[ReviewStore], Any]) -> bool:
        """Run one store edit; True if the database changed."""
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
        return True

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
        """The entry ``store.undo()`` would revert, when this window wrote it."""
        entry = _next(self.store, undone=False)
        return entry if entry is not None and entry.id in self.mine else None

    def next_redo(self) -> ReviewLogRow | None:
        entry = _next(self.store, undone=True)
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
                raise _OutOfStep(f"cannot {verb} '{what}': the database's review log changed elsewhere "
                                 "(another program edited or relinked it); undo history cleared")
            action = self.store.undo() if verb == "undo" else self.store.redo()
            if action != entry.action:
                raise _OutOfStep(f"{verb} of '{entry.description}' found '{action}' in the database's review "
                                 "log; the file was edited elsewhere, undo history cleared")
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
