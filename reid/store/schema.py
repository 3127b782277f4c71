"""SQLite schema of the identity store, its version and the migrations between versions."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

# Boxes are xyxy pixels in the source frame; times are seconds on the camera's clock plus its start offset,
# so times of different cameras are comparable. Embeddings are float32 little-endian blobs, L2-normalised.
DDL_V1 = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cameras (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    start_time REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS videos (
    id          INTEGER PRIMARY KEY,
    camera_id   INTEGER NOT NULL REFERENCES cameras(id),
    path        TEXT NOT NULL,
    offset_s    REAL NOT NULL DEFAULT 0,       -- start of this file on the camera's clock
    fps         REAL NOT NULL,
    frames      INTEGER NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bad_frames  INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL CHECK (status IN ('done')),  -- rows exist only for fully committed videos
    detector    TEXT NOT NULL DEFAULT '',
    embedder    TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE (camera_id, path)
);
CREATE TABLE IF NOT EXISTS tracklets (
    id          INTEGER PRIMARY KEY,
    video_id    INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    camera_id   INTEGER NOT NULL REFERENCES cameras(id),
    track_id    INTEGER NOT NULL,              -- the tracker's id within the video
    first_frame INTEGER NOT NULL,
    last_frame  INTEGER NOT NULL,
    first_time  REAL NOT NULL,
    last_time   REAL NOT NULL,
    n_detections INTEGER NOT NULL,
    quality     REAL NOT NULL DEFAULT 0,
    embedding   BLOB                           -- (D,) float32, L2-normalised
);
CREATE INDEX IF NOT EXISTS tracklets_camera ON tracklets(camera_id);
CREATE TABLE IF NOT EXISTS detections (
    id          INTEGER PRIMARY KEY,
    tracklet_id INTEGER NOT NULL REFERENCES tracklets(id) ON DELETE CASCADE,
    frame       INTEGER NOT NULL,
    time        REAL NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    score       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS detections_tracklet ON detections(tracklet_id, frame);
CREATE TABLE IF NOT EXISTS thumbnails (
    tracklet_id INTEGER NOT NULL REFERENCES tracklets(id) ON DELETE CASCADE,
    rank        INTEGER NOT NULL,              -- 0 = best crop
    frame       INTEGER NOT NULL,
    jpeg        BLOB NOT NULL,
    PRIMARY KEY (tracklet_id, rank)
);
CREATE TABLE IF NOT EXISTS identities (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL DEFAULT '',
    note   TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged'))
);
CREATE TABLE IF NOT EXISTS identity_members (
    tracklet_id INTEGER PRIMARY KEY REFERENCES tracklets(id) ON DELETE CASCADE,
    identity_id INTEGER NOT NULL REFERENCES identities(id),
    cost        REAL,                          -- link cost to the rest of the identity; NULL for its first member
    confidence  REAL,                          -- 0..1, 1 - cost / threshold
    state       TEXT NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'confirmed'))
);
CREATE INDEX IF NOT EXISTS members_identity ON identity_members(identity_id);
-- Reviewer said "these two tracklets are not the same person"; the linker never joins them again.
CREATE TABLE IF NOT EXISTS cannot_link (
    tracklet_a INTEGER NOT NULL REFERENCES tracklets(id) ON DELETE CASCADE,
    tracklet_b INTEGER NOT NULL REFERENCES tracklets(id) ON DELETE CASCADE,
    PRIMARY KEY (tracklet_a, tracklet_b),
    CHECK (tracklet_a < tracklet_b)
);
CREATE TABLE IF NOT EXISTS review_log (
    id      INTEGER PRIMARY KEY,
    ts      TEXT NOT NULL DEFAULT (datetime('now')),
    action  TEXT NOT NULL,                     -- confirm | reject | merge | split | annotate
    payload TEXT NOT NULL,                     -- JSON: what changed, enough to undo it
    undone  INTEGER NOT NULL DEFAULT 0
);
"""

# MIGRATIONS[v] upgrades a database of version v to v + 1.
MIGRATIONS: dict[int, str] = {}


def create_or_migrate(conn: sqlite3.Connection) -> int:
    """Create the schema in an empty database or migrate an older one; returns the version found.

    Raises ``ValueError`` for a database newer than this code or one that is not ours.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        with conn:
            conn.executescript(DDL_V1)
            conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return SCHEMA_VERSION
    if "meta" not in tables:
        raise ValueError("not a reid database (no meta table)")
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        raise ValueError("not a reid database (no schema_version)")
    found = int(row[0])
    if found > SCHEMA_VERSION:
        raise ValueError(f"schema version {found} is newer than this program's {SCHEMA_VERSION}; upgrade reid")
    for v in range(found, SCHEMA_VERSION):
        with conn:
            conn.executescript(MIGRATIONS[v])
            conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(v + 1),))
    return found
