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

import math
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


MAX_ABS_TIME_S = 1e10  # start times are seconds on the site's clock; Unix epoch seconds (~1.8e9) fit with room


def _seconds(value: object, what: str) -> float:
    """``value`` as a finite time in seconds within ``MAX_ABS_TIME_S``, else ``ManifestError`` naming ``what``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ManifestError(f"{what} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(t) or abs(t) > MAX_ABS_TIME_S:
        raise ManifestError(f"{what} must be a finite number of seconds within ±{MAX_ABS_TIME_S:g}, got {value!r}")
    return t


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
            starts[name] = _seconds(start, f"--camera {flag!r}: start time")
        files.setdefault(name, []).append(path)
    cams = tuple(CameraSpec(n, tuple(f), starts.get(n, 0.0)) for n, f in files.items())
    return Manifest(cams)


def _unknown_keys(doc: Mapping) -> list[str]:
    """Every unknown key of the manifest, camera keys as ``camera 'a': key``."""
    found = sorted(map(str, set(doc) - {"cameras", "transit"}))
    for name, entry in doc["cameras"].items():
        if isinstance(entry, Mapping):
            found += [f"camera {name!r}: {k}" for k in sorted(map(str, set(entry) - {"files", "start_time"}))]
    return found


def load_manifest(path: str | Path) -> Manifest:
    """Read a YAML manifest; every value is checked here, before anything runs. Errors name the file and the
    entry (every unknown key at once; a YAML error its line and column)."""
    from reid.config import yaml_problem

    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: {yaml_problem(exc)}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cameras"), Mapping) or not doc["cameras"]:
        raise ManifestError(f"{path}: expected a 'cameras:' mapping of camera name -> files")
    for name, entry in doc["cameras"].items():
        if not isinstance(entry, str | list) and (not isinstance(entry, Mapping) or "files" not in entry):
            raise ManifestError(f"{path}: camera {name!r} needs 'files:'")
    unknown = _unknown_keys(doc)
    if unknown:
        raise ManifestError(f"{path}: unknown key(s) {', '.join(unknown)}; known: cameras (files, start_time), "
                            "transit")
    cams = []
    for name, entry in doc["cameras"].items():
        if isinstance(entry, str | list):
            entry = {"files": entry}
        raw = [entry["files"]] if isinstance(entry["files"], str) else list(entry["files"])
        if not raw or not all(isinstance(f, str) and f for f in raw):
            raise ManifestError(f"{path}: camera {name!r}: files must be a list of file names")
        files = tuple(str((path.parent / f).resolve()) if not Path(f).is_absolute() else f for f in raw)
        start = _seconds(entry.get("start_time", 0.0), f"{path}: camera {name!r}: start_time")
        cams.append(CameraSpec(str(name), files, start))
    transit = {}
    names = {c.name for c in cams}
    for key, window in (doc.get("transit") or {}).items():
        if "->" not in str(key) or not isinstance(window, list | tuple) or len(window) != 2:
            raise ManifestError(f"{path}: transit {key!r}: expected 'camA->camB: [min_s, max_s]'")
        a, b = (s.strip() for s in str(key).split("->", 1))
        if a not in names or b not in names:
            raise ManifestError(f"{path}: transit {key!r} names a camera that is not in 'cameras:'")
        lo, hi = (_seconds(w, f"{path}: transit {key!r}") for w in window)
        if lo > hi:
            raise ManifestError(f"{path}: transit {key!r}: min {lo:g} s is above max {hi:g} s")
        transit[f"{a}->{b}"] = (lo, hi)
    return Manifest(tuple(cams), transit)
