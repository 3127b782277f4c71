"""The open database as plain state: its store, its videos and which of their files are missing, what the
banner must say; and the recent-files list. No Qt (the settings object is passed in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import reid.store
from reid.errors import StoreError, StoreLockedError
from reid.store.rows import VideoRow

MAX_RECENT = 8


class Session:
    """Opens ``path`` read-write, or read-only when another program holds the write lock (``locked``).

    Raises ``StoreError`` (one line naming the file) for a missing file, a file that is not a database,
    a schema newer than this program. Opening never creates a database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"{self.path}: file not found")
        self.locked = False
        try:
            self.store: Any = reid.store.Store(self.path)
        except StoreLockedError:
            self.store, self.locked = reid.store.Store(self.path, readonly=True), True
        self.videos: dict[int, VideoRow] = {v.id: v for v in self.store.videos()}
        self.files: dict[int, str | None] = {vid: self._find_file(v) for vid, v in self.videos.items()}

    @property
    def readonly(self) -> bool:
        return bool(self.store.readonly)

    def close(self) -> None:
        self.store.close()

    def video_file(self, video_id: int) -> str | None:
        """The video's file on disk, None when it is missing."""
        return self.files.get(video_id)

    def missing_files(self) -> list[str]:
        return sorted({self.videos[vid].path for vid, f in self.files.items() if f is None})

    def _find_file(self, video: VideoRow) -> str | None:
        """The stored path, else the same file moved along with the database: the path's last three, two or
        one components under the database's folder."""
        stored = Path(video.path)
        folder = self.path.parent
        candidates = [stored, folder / stored]
        candidates += [folder.joinpath(*stored.parts[-k:]) for k in (3, 2, 1) if len(stored.parts) >= k]
        for candidate in candidates:
            if candidate.is_file():
                return str(candidate)
        return None

    def banner_messages(self) -> list[str]:
        messages = []
        if self.readonly:
            why = "is locked by another program, so it was opened" if self.locked else "is open"
            messages.append(f"{self.path.name} {why} read-only: review actions are disabled.")
        missing = self.missing_files()
        if missing:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            messages.append(f"Video file{'s' if len(missing) > 1 else ''} missing: {shown} — thumbnails still "
                            "work, frames of these videos cannot be shown.")
        return messages


class RecentFiles:
    """The most recently opened databases, newest first, kept in a ``QSettings``-like object."""

    def __init__(self, settings: Any, key: str = "recent") -> None:
        self.settings, self.key = settings, key

    def paths(self) -> list[str]:
        value = self.settings.value(self.key, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        self.settings.setValue(self.key, ([entry] + [p for p in self.paths() if p != entry])[:MAX_RECENT])
