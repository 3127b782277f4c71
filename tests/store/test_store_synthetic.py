"""The fake database generator used by GUI tests and benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from fake_store import populate

from reid.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_populate_small_is_consistent(tmp_path):
    with Store(tmp_path / "fake.db") as s:
        counts = populate(s, n_tracklets=300, n_cameras=3, seed=1, embedding_dim=16)
        assert counts["tracklets"] == 300 and set(counts["per_camera"]) == {"cam1", "cam2", "cam3"}
        assert counts["confirmed"] > 0 and counts["proposed"] > 0
        assert counts["confirmed"] + counts["proposed"] == 300  # every tracklet belongs to an identity
        summaries = s.identity_summaries()
        assert any(x.name for x in summaries) and any(len(x.cameras) > 1 for x in summaries)
        assert len(s.link_constraints().cannot_link) > 0
        feats = s.tracklet_features()
        assert feats[0].embedding.shape == (16,)
        jpeg = s.thumbnails(feats[0].id)[0][1]
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape[0] <= 128
        for t in s.identity_tracklets(summaries[0].id):
            dets = s.detections(t.id)
            assert len(dets) == t.n_detections and dets[0].frame == t.first_frame
        assert s.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert s.undo() == "reject"  # review edits of the fake are undoable


def test_populate_is_deterministic(tmp_path):
    out = []
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name) as s:
            populate(s, n_tracklets=200, seed=3)
            out.append([(x.id, x.n_tracklets, x.cameras) for x in s.identity_summaries()])
    assert out[0] == out[1]


def test_populate_10k_takes_seconds(tmp_path):
    start = time.perf_counter()
    with Store(tmp_path / "big.db") as s:
        counts = populate(s)
    elapsed = time.perf_counter() - start
    assert counts["tracklets"] == 10_000 and counts["per_camera"].keys() == {"cam1", "cam2", "cam3", "cam4"}
    assert elapsed < 15, f"populate(10_000) took {elapsed:.1f} s"


def test_make_fake_db_tool(tmp_path):
    out = tmp_path / "t.db"
    cmd = [sys.executable, str(ROOT / "tools" / "make_fake_db.py"), str(out), "--tracklets", "120"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "120 tracklets" in r.stdout
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "exists" in r.stderr
