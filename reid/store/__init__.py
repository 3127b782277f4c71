"""The identity store: one SQLite file with everything the pipeline found and every review decision.

See docs/store.md for the API; the schema lives in ``reid/store/schema.py``.
"""

from reid.store.db import Store
from reid.store.rows import (
    CameraRow,
    DetectionRow,
    IdentitySummary,
    LinkConstraints,
    LinkProposal,
    RecordSource,
    ReviewLogRow,
    TrackletFeature,
    TrackletRecord,
    TrackletRow,
    VideoRecord,
    VideoRow,
)

__all__ = [
    "CameraRow",
    "DetectionRow",
    "IdentitySummary",
    "LinkConstraints",
    "LinkProposal",
    "RecordSource",
    "ReviewLogRow",
    "Store",
    "TrackletFeature",
    "TrackletRecord",
    "TrackletRow",
    "VideoRecord",
    "VideoRow",
]
