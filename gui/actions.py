"""Every command of the review window as a ``QAction`` with its shortcut, in its menu. One table drives the
menus, the shortcuts and the help overlay, so what the overlay lists is what the keys do.

A command is a function of a ``Context``: the review state, the edits, the review and inspect flows, and
``Commands`` (what only the window can do: files, tabs, playback, moving through its lists). No command sees
the window; it is only the Qt parent of the actions and menus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Protocol

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from gui.decisions_flow import DecisionsFlow
from gui.edits import ReviewEdits
from gui.inspect_flow import InspectFlow
from gui.review_flow import ReviewFlow
from gui.state import ReviewState


class Commands(Protocol):
    """The window's own commands (``gui.main_window.MainWindow`` implements them)."""

    def open_dialog(self) -> None: ...

    def open_database(self, path: str) -> bool: ...

    def recent_files(self) -> list[str]: ...

    def export(self, kind: str) -> None: ...

    def close_database(self) -> None: ...

    def close(self) -> bool: ...

    def focus_find(self) -> None: ...

    def move_identity(self, delta: int) -> None: ...

    def move_tracklet(self, delta: int) -> None: ...

    def extend_tracklets(self, delta: int) -> None: ...

    def toggle_play(self) -> None: ...

    def step_frame(self, delta: int) -> None: ...

    def show_tab(self, index: int) -> None: ...

    def toggle_help(self) -> None: ...


@dataclass(frozen=True)
class Context:
    state: ReviewState
    edits: ReviewEdits
    review: ReviewFlow
    inspect: InspectFlow
    window: Commands
    decisions: DecisionsFlow


class Spec(NamedTuple):
    name: str
    menu: str
    text: str
    keys: tuple[str, ...]
    slot: Callable[[Context], object]
    needs: str = ""  # "open": a database is open; "write": ... and writable; "undo"/"redo": one to undo/redo


SPECS: tuple[Spec, ...] = (
    Spec("open", "&File", "&Open…", ("Ctrl+O",), lambda c: c.window.open_dialog()),
    Spec("export_csv", "&File/&Export", "CSV…", (), lambda c: c.window.export("csv"), "open"),
    Spec("export_json", "&File/&Export", "JSON…", (), lambda c: c.window.export("json"), "open"),
    Spec("export_mot", "&File/&Export", "MOTChallenge…", (), lambda c: c.window.export("mot"), "open"),
    Spec(
        "export_market",
        "&File/&Export",
        "Market-1501 crops…",
        (),
        lambda c: c.window.export("market"),
        "open",
    ),
    Spec(
        "export_all",
        "&File/&Export",
        "Export all formats…",
        ("Ctrl+E",),
        lambda c: c.window.export("all"),
        "open",
    ),
    Spec("close", "&File", "&Close", ("Ctrl+W",), lambda c: c.window.close_database(), "open"),
    Spec("quit", "&File", "&Quit", ("Ctrl+Q",), lambda c: c.window.close()),
    Spec("undo", "&Edit", "&Undo", ("Ctrl+Z",), lambda c: c.review.undo(), "undo"),
    Spec("redo", "&Edit", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), lambda c: c.review.redo(), "redo"),
    Spec("find", "&Edit", "&Find identity…", ("Ctrl+F",), lambda c: c.window.focus_find(), "open"),
    Spec("confirm", "&Review", "&Confirm link", ("Y",), lambda c: c.review.confirm(), "write"),
    Spec(
        "reject",
        "&Review",
        "&Reject link (against its partner)",
        ("N",),
        lambda c: c.decisions.reject_link(),
        "write",
    ),
    Spec(
        "reject_identity",
        "&Review",
        "Reject link against the whole identity",
        ("Shift+N",),
        lambda c: c.decisions.reject_whole(),
        "write",
    ),
    Spec("merge", "&Review", "&Merge identities…", ("M",), lambda c: c.review.merge(), "write"),
    Spec("split", "&Review", "&Split tracklet out", ("S",), lambda c: c.review.split(), "write"),
    Spec(
        "split_group",
        "&Review",
        "Split selected off as a &group",
        ("Shift+S",),
        lambda c: c.decisions.split_group(),
        "write",
    ),
    Spec(
        "vetoes",
        "&Review",
        "Show &vetoes of this identity…",
        ("V",),
        lambda c: c.decisions.show_vetoes(),
        "open",
    ),
    Spec(
        "history",
        "&Edit",
        "Decision &history…",
        ("Ctrl+H",),
        lambda c: c.decisions.show_history(),
        "open",
    ),
    Spec("annotate", "&Review", "&Annotate identity…", ("A",), lambda c: c.review.annotate(), "write"),
    Spec(
        "assign",
        "&Review",
        "Assign nearest to query's identity",
        ("Ctrl+Return",),
        lambda c: c.review.assign_from_nearest(),
        "write",
    ),
    Spec(
        "next",
        "&Review",
        "&Next in the work queue (skip)",
        ("Ctrl+N", "Tab"),
        lambda c: c.review.next_unreviewed(),
        "open",
    ),
    Spec(
        "prev_identity",
        "&Go",
        "Previous identity (nearest tab: a row of results up)",
        ("Up",),
        lambda c: c.window.move_identity(-1),
        "open",
    ),
    Spec(
        "next_identity",
        "&Go",
        "Next identity (nearest tab: a row down)",
        ("Down",),
        lambda c: c.window.move_identity(1),
        "open",
    ),
    Spec(
        "prev_tracklet",
        "&Go",
        "Previous tracklet (nearest tab: previous result)",
        ("Left",),
        lambda c: c.window.move_tracklet(-1),
        "open",
    ),
    Spec(
        "next_tracklet",
        "&Go",
        "Next tracklet (nearest tab: next result)",
        ("Right",),
        lambda c: c.window.move_tracklet(1),
        "open",
    ),
    Spec(
        "extend_prev",
        "&Go",
        "Extend selection to previous tracklet",
        ("Shift+Left",),
        lambda c: c.window.extend_tracklets(-1),
        "open",
    ),
    Spec(
        "extend_next",
        "&Go",
        "Extend selection to next tracklet",
        ("Shift+Right",),
        lambda c: c.window.extend_tracklets(1),
        "open",
    ),
    Spec("play", "&Go", "Play / pause", ("Space",), lambda c: c.window.toggle_play(), "open"),
    Spec("frame_back", "&Go", "Frame back", (",",), lambda c: c.window.step_frame(-1), "open"),
    Spec("frame_fwd", "&Go", "Frame forward", (".",), lambda c: c.window.step_frame(1), "open"),
    Spec("tab_review", "&View", "Review", ("Ctrl+1",), lambda c: c.window.show_tab(0)),
    Spec("tab_nearest", "&View", "Nearest (query by example)", ("Ctrl+2",), lambda c: c.window.show_tab(1)),
    Spec("tab_compare", "&View", "Compare", ("Ctrl+3",), lambda c: c.window.show_tab(2)),
    Spec("tab_overview", "&View", "Overview", ("Ctrl+4",), lambda c: c.window.show_tab(3)),
    Spec(
        "compare_selected",
        "&View",
        "Compare selected tracklets (nearest tab: the result with the query)",
        ("C",),
        lambda c: c.inspect.compare_selected(),
        "open",
    ),
    Spec(
        "go_to_result",
        "&Go",
        "Go to the nearest result's identity",
        ("G", "Ctrl+G"),
        lambda c: c.inspect.go_to_result(),
        "open",
    ),
    Spec("help", "&Help", "Keyboard shortcuts", ("F1", "?"), lambda c: c.window.toggle_help()),
)


def build_actions(host: QMainWindow, context: Context) -> dict[str, QAction]:
    """Create the actions of ``SPECS`` on ``host`` (their Qt parent) and its menus; each runs on ``context``."""
    menus: dict[str, object] = {}

    def menu(path: str) -> object:
        if path not in menus:
            head, _, tail = path.rpartition("/")
            parent = menu(head) if head else host.menuBar()
            menus[path] = parent.addMenu(tail)  # type: ignore[attr-defined]
        return menus[path]

    actions: dict[str, QAction] = {}
    for spec in SPECS:
        action = QAction(spec.text, host)
        action.setShortcuts([QKeySequence(k) for k in spec.keys])
        action.setProperty("needs", spec.needs)
        action.triggered.connect(partial(_run, spec.slot, context))
        host.addAction(action)  # shortcuts work whatever has focus (menus of a hidden bar too)
        menu(spec.menu).addAction(action)  # type: ignore[attr-defined]
        actions[spec.name] = action
        if spec.name == "open":
            recent = menu("&File/Open &Recent")
            recent.aboutToShow.connect(partial(_fill_recent, context.window, recent))  # type: ignore[attr-defined]
    return actions


def update_undo_actions(actions: dict[str, QAction], edits: ReviewEdits) -> None:
    """Enable undo/redo when the store's next entry to revert/re-apply is this window's, and name it."""
    for name, entry, text in (("undo", edits.next_undo(), "&Undo"), ("redo", edits.next_redo(), "&Redo")):
        actions[name].setEnabled(entry is not None)
        actions[name].setText(f"{text} {entry.description}" if entry is not None else text)


def _run(slot: Callable[[Context], object], context: Context, _checked: bool = False) -> None:
    slot(context)


def _fill_recent(window: Commands, recent_menu: object) -> None:
    recent_menu.clear()  # type: ignore[attr-defined]
    files = window.recent_files()
    for path in files:
        action = recent_menu.addAction(path)  # type: ignore[attr-defined]
        action.triggered.connect(partial(lambda p, _c=False: window.open_database(p), path))
    if not files:
        recent_menu.addAction("(none)").setEnabled(False)  # type: ignore[attr-defined]
