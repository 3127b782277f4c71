"""SQLite schema of the identity store, its version and the migrations between versions."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

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
    action  TEXT NOT NULL,                     -- confirm | reject | merge | split | assign | annotate
    payload TEXT NOT NULL,                     -- JSON: description + row images before/after (reid/store/review.py)
    undone  INTEGER NOT NULL DEFAULT 0         -- 1: reverted by undo, redoable
);
"""

# MIGRATIONS[v] upgrades a database of version v to v + 1 (SQL run inside one transaction).
MIGRATIONS: dict[int, str] = {
    # v2: indexes that ON DELETE CASCADE and the review queue need (re-committing a video scanned every
    # tracklet and every cannot_link row without them).
    1: """
CREATE INDEX IF NOT EXISTS tracklets_video ON tracklets(video_id);
CREATE INDEX IF NOT EXISTS cannot_link_b ON cannot_link(tracklet_b);
CREATE INDEX IF NOT EXISTS members_state ON identity_members(state, confidence);
""",
    # v3: why the linker proposed a member (e.g. "appearance 0.41, transit 1.2 s, zone right→left"), shown to
    # the reviewer; NULL for members linked before, anchors, and members a review edit moved.
    2: """
ALTER TABLE identity_members ADD COLUMN reason TEXT;
""",
}


def _script(body: str, version: int) -> str:
    return f"BEGIN IMMEDIATE;\n{body}\nINSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '{version}');\nCOMMIT;"


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def read_version(conn: sqlite3.Connection) -> int | None:
    """The schema version of an existing database, or None for an empty one.

    Raises ``ValueError`` for a database that is not ours.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables:
        raise ValueError("not a reid database (no meta table)")
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise ValueError("not a reid database (no schema_version)")
    return int(row[0])


def create_or_migrate(conn: sqlite3.Connection) -> int:
    """Create the schema in an empty database or migrate an older one; returns the version found
    (``SCHEMA_VERSION`` for a new file). A fresh file is built as v1 plus every migration, so new and migrated
    databases are the same.

    Raises ``ValueError`` for a database newer than this code or one that is not ours.
    """
    found = read_version(conn)
    if found is None:
        body = DDL_V1 + "".join(MIGRATIONS[v] for v in range(1, SCHEMA_VERSION))
        _run_script(conn, _script(body, SCHEMA_VERSION))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise ValueError(f"schema version {found} is newer than this program's {SCHEMA_VERSION}; upgrade reid")
    for v in range(found, SCHEMA_VERSION):
        _run_script(conn, _script(MIGRATIONS[v], v + 1))
    return found
