"""What the review actions act on, as plain typed state: ``ReviewState`` (the current identity and tracklet,
the selections, the identity-list filters, where to land after the next reload) and ``Shell``, the few
things a flow asks of the window (run a query, say or ask something, select something). No Qt here: the
window keeps the state in step with its widgets' signals, and a test can drive a flow with a fake shell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reid.store.rows import DetectionRow, IdentitySummary, TrackletRow

REVIEW, NEAREST, COMPARE, OVERVIEW = range(4)  # the window's tabs


@dataclass(frozen=True)
class Filters:
    """The identity list's filters; None means any."""

    camera: str | None = None
    status: str | None = None
    min_cost: float | None = None


@dataclass
class ReviewState:
    """Where the reviewer is. Selections list the current item first."""

    identity: int | None = None
    tracklet: int | None = None
    selected_identities: tuple[int, ...] = ()
    selected_tracklets: tuple[int, ...] = ()
    identities: tuple[IdentitySummary, ...] = ()  # every identity of the list (filtered or not)
    tracklets: tuple[TrackletRow, ...] = ()  # the current identity's tracklets, in display order
    filters: Filters = field(default_factory=Filters)
    tab: int = REVIEW
    query: TrackletRow | None = None  # the nearest tab's query
    nearest_selected: int | None = None  # the nearest tab's selected result
    want_identity: int | None = None  # select after the next reload of the identity list
    want_tracklet: int | None = None  # select after the next load of an identity's tracklets

    def summary(self, identity_id: int | None) -> IdentitySummary | None:
        return next((r for r in self.identities if r.id == identity_id), None)

    def tracklet_row(self, tracklet_id: int | None) -> TrackletRow | None:
        return next((t for t in self.tracklets if t.id == tracklet_id), None)

    def neighbour(self, tracklet_id: int) -> int | None:
        """The tracklet to stay on when ``tracklet_id`` leaves the identity: the next one, else the previous."""
        ids = [t.id for t in self.tracklets]
        i = ids.index(tracklet_id) if tracklet_id in ids else -1
        rest = ids[i + 1 :] + ids[:i][::-1]
        return rest[0] if rest else None

    def forget_wanted(self) -> None:
        self.want_identity = self.want_tracklet = None


Job = Callable[[Any], Any]  # a plain function of a read-only ``reid.store.Store`` (``gui.jobs``)


class Shell(Protocol):
    """What the flows ask of the window; ``gui.main_window.MainWindow`` implements it."""

    thumbnails: Any  # gui.workers.ThumbnailCache | None

    def submit(self, job: Job, done: Callable[[Any], None]) -> None:
        """Run ``job`` in the worker thread and hand its result to ``done`` (nothing when no file is open)."""

    def show_status(self, text: str, error: bool = False) -> None: ...

    def show_error(self, title: str, text: str) -> None: ...

    def beep(self) -> None: ...

    def ask_identity(self, title: str, candidates: Sequence[tuple[int, str]]) -> int | None: ...

    def ask_annotation(self, identity_id: int, name: str, note: str) -> tuple[str, str] | None: ...

    def show_tab(self, index: int) -> None: ...

    def select_identity(self, identity_id: int) -> bool: ...

    def select_tracklet(self, tracklet_id: int) -> bool: ...

    def show_in_viewer(self, viewer: Any, t: TrackletRow | None, dets: list[DetectionRow]) -> None: ...

    def show_merge(self, tracklet: int, partner: int, identity: int, other: int) -> None:
        """Both sides of a suggested merge side by side (``tracklet`` of ``identity``, ``partner`` of
        ``other``), the current tracklet unchanged."""
