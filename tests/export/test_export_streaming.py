"""Exports stream: the JSON export runs a fixed number of queries whatever the number of identities and writes
one identity at a time (the same text as ``json.dumps`` of the whole document); the Market export reads the
stored thumbnails one video at a time, and only those no video frame could replace."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fake_store import populate  # tests/fake_store.py

from reid.export import export_json, export_market
from reid.store import Store


def reference(store: Store) -> dict:
    """The document as the store's per-identity reads give it (what ``identities.json`` must hold)."""
    identities = []
    for s in store.identity_summaries():
        tracklets = [
            {
                "id": t.id,
                "camera": t.camera,
                "video": t.video_path,
                "track_id": t.track_id,
                "first_frame": t.first_frame,
                "last_frame": t.last_frame,
                "first_time": t.first_time,
                "last_time": t.last_time,
                "state": t.state,
                "cost": t.cost,
                "confidence": t.confidence,
            }
            for t in store.identity_tracklets(s.id)
        ]
        identities.append(
            {
                "id": s.id,
                "name": s.name,
                "note": s.note,
                "cameras": list(s.cameras),
                "status": s.status,
                "n_confirmed": s.n_confirmed,
                "first_time": s.first_time,
                "last_time": s.last_time,
                "tracklets": tracklets,
            }
        )
    return {
        "database": str(store.path),
        "schema_version": store.get_meta("schema_version"),
        "identities": identities,
    }


def statements(store: Store, out: Path) -> list[str]:
    """SQL statements ``export_json`` runs on the store's connection."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        export_json(store, out)
    finally:
        store.conn.set_trace_callback(None)
    return seen


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[int, Path]:
    """Fake sites of 30 and 150 tracklets (10 and 50 persons), 3 cameras."""
    out = {}
    for n in (30, 150):
        db = tmp_path_factory.mktemp("site") / f"site{n}.db"
        with Store(db) as store:
            populate(store, n_tracklets=n, n_cameras=3, seed=1)
        out[n] = db
    return out


def test_json_queries_do_not_grow_with_identities(sites, tmp_path):
    counts = {}
    for n, db in sites.items():
        with Store(db, readonly=True) as store:
            assert len(store.identity_summaries()) > 5
            counts[n] = len(statements(store, tmp_path / str(n)))
    assert counts[30] == counts[150] <= 4  # no query per identity


def test_json_holds_what_the_store_says_in_json_dumps_text(sites, tmp_path):
    with Store(sites[150]) as store:
        ids = [s.id for s in store.identity_summaries()]
        store.merge(ids[3], ids[4])  # ids[4] is no longer active
        store.annotate(ids[0], 'Ann "A"\nnewline', "note ü")
        text = export_json(store, tmp_path).read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc == reference(store)
    assert text == json.dumps(doc, indent=1)
    assert ids[4] not in {i["id"] for i in doc["identities"]}


def test_json_of_an_empty_store(tmp_path):
    with Store(tmp_path / "empty.db") as store:
        text = export_json(store, tmp_path / "out").read_text()
    doc = json.loads(text)
    assert doc["identities"] == [] and text == json.dumps(doc, indent=1)


def traced(store: Store, fn, *args, **kwargs) -> list[str]:
    """SQL statements run on the store's connection while ``fn(*args, **kwargs)`` runs."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        fn(*args, **kwargs)
    finally:
        store.conn.set_trace_callback(None)
    return seen


def test_market_crops_cut_from_video_read_no_thumbnail(sites, tmp_path):
    frame = np.full((1080, 1920, 3), 90, np.uint8)  # the fake site's videos are 1920x1080
    with Store(sites[30], readonly=True) as store:
        sql = traced(
            store,
            export_market,
            store,
            tmp_path,
            reviewed_only=False,
            video_reader=lambda path, frames: dict.fromkeys(frames, frame),
        )
    assert len(list((tmp_path / "market").iterdir())) > 30
    assert not [s for s in sql if "jpeg" in s]  # the plan holds names and boxes, never the thumbnails


def test_market_reads_missing_thumbnails_one_video_at_a_time(sites, tmp_path):
    with Store(sites[30], readonly=True) as store:
        sql = traced(store, export_market, store, tmp_path, reviewed_only=False)  # no video file exists
        videos = {v for (v,) in store.conn.execute("SELECT DISTINCT video_id FROM tracklets")}
        stored = {bytes(j) for (j,) in store.conn.execute("SELECT jpeg FROM thumbnails")}
    reads = [s for s in sql if "jpeg" in s]
    assert len(reads) == len(videos) > 1
    crops = list((tmp_path / "market").iterdir())
    assert len(crops) > 30 and {p.read_bytes() for p in crops} <= stored
