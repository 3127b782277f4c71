"""Every command of the review window as a ``QAction`` with its shortcut, in its menu. One table drives the
menus, the shortcuts and the help overlay, so what the overlay lists is what the keys do."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class Spec(NamedTuple):
    name: str
    menu: str
    text: str
    keys: tuple[str, ...]
    slot: Callable[[MainWindow], object]
    needs: str = ""  # "open": a database is open; "write": ... and writable; "": always


SPECS: tuple[Spec, ...] = (
    Spec("open", "&File", "&Open…", ("Ctrl+O",), lambda w: w.open_dialog()),
    Spec("export_csv", "&File/&Export", "CSV…", (), lambda w: w.export("csv"), "open"),
    Spec("export_json", "&File/&Export", "JSON…", (), lambda w: w.export("json"), "open"),
    Spec("export_mot", "&File/&Export", "MOTChallenge…", (), lambda w: w.export("mot"), "open"),
    Spec("export_market", "&File/&Export", "Market-1501 crops…", (), lambda w: w.export("market"), "open"),
    Spec("export_all", "&File/&Export", "Export all formats…", ("Ctrl+E",), lambda w: w.export("all"), "open"),
    Spec("close", "&File", "&Close", ("Ctrl+W",), lambda w: w.close_database(), "open"),
    Spec("quit", "&File", "&Quit", ("Ctrl+Q",), lambda w: w.close()),
    Spec("find", "&Edit", "&Find identity…", ("Ctrl+F",), lambda w: w.identity_list.focus_find(), "open"),
    Spec("confirm", "&Review", "&Confirm link", ("Y",), lambda w: w.flow.confirm(), "write"),
    Spec("reject", "&Review", "&Reject link", ("N",), lambda w: w.flow.reject(), "write"),
    Spec("merge", "&Review", "&Merge identities…", ("M",), lambda w: w.flow.merge(), "write"),
    Spec("split", "&Review", "&Split tracklet out", ("S",), lambda w: w.flow.split(), "write"),
    Spec("annotate", "&Review", "&Annotate identity…", ("A",), lambda w: w.flow.annotate(), "write"),
    Spec("assign", "&Review", "Assign nearest to query's identity", ("Ctrl+Return",),
         lambda w: w.flow.assign_from_nearest(), "write"),
    Spec("next", "&Review", "&Next unreviewed (least confident)", ("Ctrl+N", "Tab"),
         lambda w: w.flow.next_unreviewed(), "open"),
    Spec("prev_identity", "&Go", "Previous identity", ("Up",), lambda w: w.identity_list.move(-1), "open"),
    Spec("next_identity", "&Go", "Next identity", ("Down",), lambda w: w.identity_list.move(1), "open"),
    Spec("prev_tracklet", "&Go", "Previous tracklet", ("Left",), lambda w: w.strips.move(-1), "open"),
    Spec("next_tracklet", "&Go", "Next tracklet", ("Right",), lambda w: w.strips.move(1), "open"),
    Spec("play", "&Go", "Play / pause", ("Space",), lambda w: w.toggle_play(), "open"),
    Spec("frame_back", "&Go", "Frame back", (",",), lambda w: w.step_frame(-1), "open"),
    Spec("frame_fwd", "&Go", "Frame forward", (".",), lambda w: w.step_frame(1), "open"),
    Spec("tab_review", "&View", "Review", ("Ctrl+1",), lambda w: w.show_tab(0)),
    Spec("tab_nearest", "&View", "Nearest (query by example)", ("Ctrl+2",), lambda w: w.show_tab(1)),
    Spec("tab_compare", "&View", "Compare", ("Ctrl+3",), lambda w: w.show_tab(2)),
    Spec("tab_overview", "&View", "Overview", ("Ctrl+4",), lambda w: w.show_tab(3)),
    Spec("compare_selected", "&View", "Compare selected tracklets", ("C",), lambda w: w.inspect.compare_selected(),
         "open"),
    Spec("help", "&Help", "Keyboard shortcuts", ("F1", "?"), lambda w: w.help_overlay.toggle()),
)


def build_actions(window: MainWindow) -> dict[str, QAction]:
    """Create the actions of ``SPECS`` (plus undo/redo from the undo stack) on ``window`` and its menus."""
    menus: dict[str, object] = {}

    def menu(path: str) -> object:
        if path not in menus:
            head, _, tail = path.rpartition("/")
            parent = menu(head) if head else window.menuBar()
            menus[path] = parent.addMenu(tail)  # type: ignore[attr-defined]
        return menus[path]

    actions: dict[str, QAction] = {}
    for spec in SPECS:
        if spec.name == "find":  # undo/redo go first in the Edit menu
            _undo_redo(window, menu("&Edit"), actions)
        action = QAction(spec.text, window)
        action.setShortcuts([QKeySequence(k) for k in spec.keys])
        action.setProperty("needs", spec.needs)
        action.triggered.connect(partial(_run, spec.slot, window))
        window.addAction(action)  # shortcuts work whatever has focus (menus of a hidden bar too)
        menu(spec.menu).addAction(action)  # type: ignore[attr-defined]
        actions[spec.name] = action
        if spec.name == "open":
            recent = menu("&File/Open &Recent")
            recent.aboutToShow.connect(partial(_fill_recent, window, recent))  # type: ignore[attr-defined]
    return actions


def _run(slot: Callable[[MainWindow], object], window: MainWindow, _checked: bool = False) -> None:
    slot(window)


def _undo_redo(window: MainWindow, edit_menu: object, actions: dict[str, QAction]) -> None:
    stack = window.review.stack
    undo = stack.createUndoAction(window, "&Undo")
    undo.setShortcuts([QKeySequence("Ctrl+Z")])
    redo = stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for name, action in (("undo", undo), ("redo", redo)):
        action.setProperty("needs", "")  # the stack enables them; it is empty when read-only
        window.addAction(action)
        edit_menu.addAction(action)  # type: ignore[attr-defined]
        actions[name] = action


def _fill_recent(window: MainWindow, recent_menu: object) -> None:
    recent_menu.clear()  # type: ignore[attr-defined]
    files = window.recent_files()
    for path in files:
        action = recent_menu.addAction(path)  # type: ignore[attr-defined]
        action.triggered.connect(partial(lambda p, _c=False: window.open_database(p), path))
    if not files:
        recent_menu.addAction("(none)").setEnabled(False)  # type: ignore[attr-defined]
