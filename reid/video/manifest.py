"""Which cameras there are, their video files and clocks: from ``--camera`` flags or a YAML manifest.

Manifest format (paths relative to the manifest's folder)::

    cameras:
      lobby:
        files: [lobby_0900.mp4, lobby_0930.mp4]   # played in this order, back to back
        start_time: 0            # seconds; puts this camera's clock on the site's common clock
      street:
        files: [street.mp4]
        start_time: 12.5
    transit:                     # optional: allowed gap in seconds between leaving one camera and entering another
      lobby->street: [2, 60]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reid.errors import ReidError


class ManifestError(ReidError):
    """A camera manifest or ``--camera`` flag that cannot be used."""


@dataclass(frozen=True)
class CameraSpec:
    """One camera: its name, video files in playing order, and its start on the common clock (s)."""

    name: str
    files: tuple[str, ...]
    start_time: float = 0.0


@dataclass(frozen=True)
class Manifest:
    cameras: tuple[CameraSpec, ...]
    transit: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def parse_camera_flags(flags: Sequence[str]) -> Manifest:
    """``["lobby=a.mp4", "lobby=b.mp4", "street=c.mp4@12.5"]`` → cameras; ``@S`` sets the start time."""
    files: dict[str, list[str]] = {}
    starts: dict[str, float] = {}
    for flag in flags:
        name, sep, path = flag.partition("=")
        if not sep or not name or not path:
            raise ManifestError(f"--camera {flag!r}: expected NAME=VIDEO (e.g. lobby=videos/lobby.mp4)")
        path, at, start = path.partition("@")
        if at:
            try:
                starts[name] = float(start)
            except ValueError:
                raise ManifestError(f"--camera {flag!r}: start time {start!r} is not a number") from None
        files.setdefault(name, []).append(path)
    cams = tuple(CameraSpec(n, tuple(f), starts.get(n, 0.0)) for n, f in files.items())
    return Manifest(cams)


def load_manifest(path: str | Path) -> Manifest:
    """Read a YAML manifest; errors name the file and the entry."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cameras"), Mapping) or not doc["cameras"]:
        raise ManifestError(f"{path}: expected a 'cameras:' mapping of camera name -> files")
    unknown = set(doc) - {"cameras", "transit"}
    if unknown:
        raise ManifestError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: cameras, transit")
    cams = []
    for name, entry in doc["cameras"].items():
        if isinstance(entry, str | list):
            entry = {"files": entry}
        if not isinstance(entry, Mapping) or "files" not in entry:
            raise ManifestError(f"{path}: camera {name!r} needs 'files:'")
        extra = set(entry) - {"files", "start_time"}
        if extra:
            raise ManifestError(f"{path}: camera {name!r}: unknown key(s) {', '.join(sorted(extra))}")
        raw = [entry["files"]] if isinstance(entry["files"], str) else list(entry["files"])
        files = tuple(str((path.parent / f).resolve()) if not Path(f).is_absolute() else f for f in raw)
        try:
            start = float(entry.get("start_time", 0.0))
        except (TypeError, ValueError):
            raise ManifestError(f"{path}: camera {name!r}: start_time must be a number") from None
        cams.append(CameraSpec(str(name), files, start))
    transit = {}
    for key, window in (doc.get("transit") or {}).items():
        if "->" not in str(key) or not isinstance(window, list | tuple) or len(window) != 2:
            raise ManifestError(f"{path}: transit {key!r}: expected 'camA->camB: [min_s, max_s]'")
        a, b = (s.strip() for s in str(key).split("->", 1))
        names = {c.name for c in cams}
        if a not in names or b not in names:
            raise ManifestError(f"{path}: transit {key!r} names a camera that is not in 'cameras:'")
        transit[f"{a}->{b}"] = (float(window[0]), float(window[1]))
    return Manifest(tuple(cams), transit)
