"""Review edits as ``QUndoCommand``s. The database is the record: each command's first ``redo`` calls the
store's edit (one transaction, one ``review_log`` row, written at once); later ``undo``/``redo`` call
``store.undo()``/``store.redo()``, which revert or re-apply exactly the newest entry of the log.

The ``QUndoStack`` and the store's log stay in step: every edit of this window goes through the stack, each
command remembers the id of the log entry its edit wrote, and before ``undo``/``redo`` it checks that this
entry is the one the store would revert or re-apply next. When it is not (another program edited or relinked
the file), the stack is cleared and nothing is undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from reid.errors import ReidError

log = logging.getLogger(__name__)


class ReviewCommand(QUndoCommand):
    """One review edit. Subclasses set ``action`` (the store's log name) and implement ``apply``."""

    action = ""

    def __init__(self, store: Any, text: str) -> None:
        super().__init__(text)
        self.store = store
        self.done_once = False
        self.log_id: int | None = None  # the review_log row this edit wrote
        self.error: str | None = None
        self.result: Any = None
        self.on_error: Callable[[str], None] | None = None

    def apply(self) -> Any:
        raise NotImplementedError

    def redo(self) -> None:
        try:
            if not self.done_once:
                self.result = self.apply()
                self.done_once = True
                entries = self.store.review_log()
                self.log_id = entries[-1].id if entries else None
                log.info("review: %s", self.text())
            else:
                self._expect(_next_redo(self.store), "redo")
                self._check(self.store.redo(), "redo")
        except ReidError as exc:
            self.error = str(exc)
            if not self.done_once:
                self.setObsolete(True)  # QUndoStack.push drops it: nothing was written
            elif self.on_error is not None:
                self.on_error(self.error)

    def undo(self) -> None:
        try:
            self._expect(_next_undo(self.store), "undo")
            self._check(self.store.undo(), "undo")
        except ReidError as exc:
            self.error = str(exc)
            if self.on_error is not None:
                self.on_error(self.error)

    def _expect(self, entry_id: int | None, verb: str) -> None:
        if entry_id is None or entry_id != self.log_id:
            raise _OutOfStep(f"cannot {verb} '{self.text()}': the database's review log changed elsewhere "
                             "(another program edited or relinked it); undo history cleared")

    def _check(self, action: str | None, verb: str) -> None:
        if action != self.action:
            raise _OutOfStep(f"{verb} of '{self.text()}' found '{action}' in the database's review log; "
                             "the file was edited elsewhere, undo history cleared")
        log.info("review: %s %s", verb, self.text())


class _OutOfStep(ReidError):
    pass


def _next_undo(store: Any) -> int | None:
    """Id of the log entry ``store.undo()`` would revert: the newest not undone in the current history."""
    entries = [e for e in store.review_log() if e.undoable and not e.undone]
    return entries[-1].id if entries else None


def _next_redo(store: Any) -> int | None:
    """Id of the log entry ``store.redo()`` would re-apply: the oldest undone in the current history."""
    entries = [e for e in store.review_log() if e.undoable and e.undone]
    return entries[0].id if entries else None


class Confirm(ReviewCommand):
    action = "confirm"

    def __init__(self, store: Any, tracklet_id: int) -> None:
        super().__init__(store, f"Confirm tracklet #{tracklet_id}")
        self.tracklet_id = tracklet_id

    def apply(self) -> None:
        self.store.confirm(self.tracklet_id)


class Reject(ReviewCommand):
    action = "reject"

    def __init__(self, store: Any, tracklet_id: int) -> None:
        super().__init__(store, f"Reject link of tracklet #{tracklet_id}")
        self.tracklet_id = tracklet_id

    def apply(self) -> int:
        return self.store.reject(self.tracklet_id)


class Merge(ReviewCommand):
    action = "merge"

    def __init__(self, store: Any, keep_id: int, other_id: int) -> None:
        super().__init__(store, f"Merge identity #{other_id} into #{keep_id}")
        self.keep_id, self.other_id = keep_id, other_id

    def apply(self) -> None:
        self.store.merge(self.keep_id, self.other_id)


class Split(ReviewCommand):
    action = "split"

    def __init__(self, store: Any, tracklet_id: int) -> None:
        super().__init__(store, f"Split tracklet #{tracklet_id} out")
        self.tracklet_id = tracklet_id

    def apply(self) -> int:
        return self.store.split(self.tracklet_id)


class Assign(ReviewCommand):
    action = "assign"

    def __init__(self, store: Any, tracklet_id: int, identity_id: int) -> None:
        super().__init__(store, f"Assign tracklet #{tracklet_id} to identity #{identity_id}")
        self.tracklet_id, self.identity_id = tracklet_id, identity_id

    def apply(self) -> None:
        self.store.assign(self.tracklet_id, self.identity_id)


class Annotate(ReviewCommand):
    action = "annotate"

    def __init__(self, store: Any, identity_id: int, name: str, note: str) -> None:
        super().__init__(store, f"Name identity #{identity_id} '{name}'" if name else
                         f"Annotate identity #{identity_id}")
        self.identity_id, self.name, self.note = identity_id, name, note

    def apply(self) -> None:
        self.store.annotate(self.identity_id, self.name, self.note)


class ReviewController(QObject):
    """Pushes review commands onto the undo stack and reports what happened.

    ``changed`` fires after every edit, undo and redo (the window reloads its views); ``refused(message)``
    when the store refused an edit (``ReviewError``: nothing was written); ``failed(message)`` when an undo
    or redo found the database's log out of step and the stack was cleared.
    """

    changed = Signal()
    refused = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self.store: Any = None
        self.stack.indexChanged.connect(lambda _i: self.changed.emit())

    def set_store(self, store: Any) -> None:
        self.stack.clear()
        self.store = store

    @property
    def writable(self) -> bool:
        return self.store is not None and not self.store.readonly

    def push(self, command: ReviewCommand) -> bool:
        """Run ``command``; True if the database changed."""
        if not self.writable:
            self.refused.emit("the database is open read-only")
            return False
        command.on_error = self._out_of_step
        self.stack.push(command)
        if command.error is not None and not command.done_once:
            self.refused.emit(command.error)
            return False
        return True

    def _out_of_step(self, message: str) -> None:
        self.failed.emit(message)
        QTimer.singleShot(0, self.stack.clear)  # not from inside the stack's own undo()/redo()
        self.changed.emit()

    # --- the edits
    def confirm(self, tracklet_id: int) -> bool:
        return self.push(Confirm(self.store, tracklet_id))

    def reject(self, tracklet_id: int) -> bool:
        return self.push(Reject(self.store, tracklet_id))

    def merge(self, keep_id: int, other_id: int) -> bool:
        return self.push(Merge(self.store, keep_id, other_id))

    def split(self, tracklet_id: int) -> bool:
        return self.push(Split(self.store, tracklet_id))

    def assign(self, tracklet_id: int, identity_id: int) -> bool:
        return self.push(Assign(self.store, tracklet_id, identity_id))

    def annotate(self, identity_id: int, name: str, note: str = "") -> bool:
        return self.push(Annotate(self.store, identity_id, name, note))
