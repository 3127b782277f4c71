"""The tracklets' embedding column as a whole: which tracklets there are, and replacing every embedding at once
(``reid relink`` after re-embedding the stored crops with another model).

Embeddings of different models are not comparable, so a replacement is all or nothing: one transaction sets
the given tracklets' embeddings, clears the others' (they drop out of linking), and records the embedder's
name in ``meta`` and in every video row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import numpy as np

from reid.errors import StoreError
from reid.store import writer


def tracklet_ids(conn: sqlite3.Connection) -> list[int]:
    """Every tracklet id, ascending."""
    return [int(r[0]) for r in conn.execute("SELECT id FROM tracklets ORDER BY id")]


def replace_embeddings(conn: sqlite3.Connection, embeddings: Mapping[int, np.ndarray], embedder: str) -> int:
    """Set each tracklet's embedding to ``embeddings[id]`` ((D,) float32, L2-normalised, one D for all) and
    clear the embedding of every tracklet not in ``embeddings``; returns how many were cleared.

    Runs inside the caller's write transaction (``Store.write``): a bad vector raises ``StoreError`` before
    anything is applied.
    """
    known = set(tracklet_ids(conn))
    unknown = sorted(set(embeddings) - known)
    if unknown:
        raise StoreError(f"replace_embeddings: no tracklet {unknown[0]}")
    rows: list[tuple[bytes, int]] = []
    dims = set()
    for tid, vec in embeddings.items():
        v = np.asarray(vec, dtype="<f4")
        if v.ndim != 1 or not np.all(np.isfinite(v)):
            raise StoreError(f"replace_embeddings: tracklet {tid}: need a finite (D,) vector, got shape {v.shape}")
        dims.add(v.shape[0])
        rows.append((v.tobytes(), int(tid)))
    if len(dims) > 1:
        raise StoreError(f"replace_embeddings: embeddings differ in size ({', '.join(map(str, sorted(dims)))})")
    conn.execute("UPDATE tracklets SET embedding = NULL")
    conn.executemany("UPDATE tracklets SET embedding = ? WHERE id = ?", rows)
    conn.execute("UPDATE videos SET embedder = ?", (embedder,))
    writer.set_meta(conn, "embedder", embedder)
    return len(known) - len(rows)
