"""Ultralytics imported offline: nothing downloads, auto-installs, checks for updates or reports usage."""

from __future__ import annotations

import os
from types import ModuleType


def import_ultralytics() -> ModuleType:
    """Import ultralytics offline: no downloads, no pip auto-install, no update checks, no usage analytics."""
    os.environ["YOLO_OFFLINE"] = "1"  # read once, when ultralytics.utils is first imported
    os.environ["YOLO_AUTOINSTALL"] = "false"
    import ultralytics
    from ultralytics import utils
    from ultralytics.utils import checks, events

    # In case ultralytics was imported before this function ran, switch off what read the environment then.
    utils.ONLINE = checks.ONLINE = events.ONLINE = False
    events.events.enabled = False
    return ultralytics
