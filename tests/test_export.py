"""Exports: CSV, JSON, MOTChallenge, Market-1501 crops, and the ``reid export`` command."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from reid.cli import export as export_cli
from reid.errors import ReidError
from reid.export import export_all, export_csv, export_json, export_market, export_mot
from reid.export.mot import file_names
from reid.store import LinkProposal, Store, VideoRecord
from reid.video.types import Crop, Tracklet

MARKET_RE = re.compile(r"^(\d{4,})_c(\d{2,})_f(\d{6,})_(\d{2})\.jpg$")
GENERIC_RE = re.compile(r"^(-?\d+)_c(\d+)")  # what the generic training reader parses


def tracklet(track_id: int, first: int, n: int, camera: str, video: str, emb: list[float]) -> Tracklet:
    frames = np.arange(first, first + n)
    boxes = np.array([[4 + i, 6, 24 + i, 40] for i in range(n)], np.float32)
    crops = [Crop(int(frames[0]), np.full((34, 20, 3), 200, np.uint8), 1.0),
             Crop(int(frames[-1]), np.full((34, 20, 3), 100, np.uint8), 0.5)]
    e = np.asarray(emb, np.float32)
    return Tracklet(camera, video, track_id, frames, frames / 10.0, boxes, np.full(n, 0.8, np.float32), crops,
                    e / np.linalg.norm(e))


def write_video(path: Path, n: int = 30) -> None:
    """A 64x48 video whose frame k is solid grey level 8 * k."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    assert w.isOpened()
    for k in range(n):
        w.write(np.full((48, 64, 3), 8 * k, np.uint8))
    w.release()


@pytest.fixture
def db(tmp_path):
    """cam1 with two videos (one real file), cam2 with one; identities {1, 3, 4} (1, 3 confirmed) and {2};
    tracklet 5 is not linked."""
    real = tmp_path / "cam1-real.avi"
    write_video(real)
    with Store(tmp_path / "s.db") as s:
        s.commit_video(VideoRecord("cam1", str(real), 10.0, 30, 64, 48),
                       [tracklet(1, 2, 5, "cam1", str(real), [1, 0]), tracklet(2, 10, 4, "cam1", str(real), [0, 1])])
        s.commit_video(VideoRecord("cam1", "/missing/later.mp4", 10.0, 30, 64, 48),
                       [tracklet(1, 0, 3, "cam1", "/missing/later.mp4", [1, 0.1])])
        s.commit_video(VideoRecord("cam2", "/missing/b.mp4", 10.0, 30, 64, 48),
                       [tracklet(4, 3, 6, "cam2", "/missing/b.mp4", [1, 0.2]),
                        tracklet(5, 0, 2, "cam2", "/missing/b.mp4", [0, 1])])
        s.apply_links([[LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(4, 0.2, 0.6)], [LinkProposal(2)]])
        s.conn.execute("DELETE FROM identity_members WHERE tracklet_id = 5")  # an unlinked tracklet
        s.conn.execute("DELETE FROM identities WHERE id NOT IN (SELECT identity_id FROM identity_members)")
        s.confirm(1)
        s.confirm(3)
        s.annotate(s.tracklet(1).identity_id, "Alice, \"the\" first", "note")
    with Store(tmp_path / "s.db", readonly=True) as s:
        yield s


def test_csv_columns_and_rows(db, tmp_path):
    path = export_csv(db, tmp_path / "out")
    rows = list(csv.DictReader(open(path, newline="")))
    assert list(rows[0]) == ["camera", "video", "frame", "time", "track_id", "identity", "x1", "y1", "x2", "y2",
                             "score", "tracklet_id", "state", "identity_name"]
    assert len(rows) == db.counts()["detections"] == 5 + 4 + 3 + 6 + 2
    alice = db.tracklet(1).identity_id
    first = [r for r in rows if r["tracklet_id"] == "1"][0]
    assert (first["camera"], first["frame"], first["track_id"], first["identity"], first["state"]) == (
        "cam1", "2", "1", str(alice), "confirmed")
    assert float(first["time"]) == pytest.approx(0.2) and float(first["x2"]) == 24.0
    assert first["identity_name"] == 'Alice, "the" first'
    assert {r["identity"] for r in rows if r["tracklet_id"] == "5"} == {""}


def test_json_structure(db, tmp_path):
    doc = json.loads(export_json(db, tmp_path / "out").read_text())
    idents = {i["id"]: i for i in doc["identities"]}
    alice = idents[db.tracklet(1).identity_id]
    assert alice["name"] == 'Alice, "the" first' and alice["note"] == "note"
    assert alice["cameras"] == ["cam1", "cam2"] and alice["status"] == "partly reviewed"
    assert [t["id"] for t in alice["tracklets"]] == [3, 1, 4]  # by first time
    t4 = alice["tracklets"][2]
    assert (t4["camera"], t4["video"], t4["state"], t4["cost"]) == ("cam2", "/missing/b.mp4", "proposed", 0.2)
    assert t4["first_time"] == pytest.approx(0.3) and t4["last_time"] == pytest.approx(0.8)
    assert len(doc["identities"]) == 2


def test_mot_lines(db, tmp_path):
    out = export_mot(db, tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cam1-cam1-real.txt", "cam1-later.txt", "cam2.txt"]
    alice = db.tracklet(1).identity_id
    lines = (out / "cam2.txt").read_text().splitlines()
    assert len(lines) == 6  # tracklet 5 is not linked: left out
    first = lines[0].split(",")
    assert len(first) == 10 and first[7:] == ["-1", "-1", "-1"]
    assert first[:2] == ["4", str(alice)]  # frame 3 -> 4 (1-based)
    assert [float(x) for x in first[2:7]] == [4.0, 6.0, 20.0, 34.0, 0.8]
    real = (out / "cam1-cam1-real.txt").read_text().splitlines()
    frames = [int(line.split(",")[0]) for line in real]
    assert frames == sorted(frames) and len(real) == 9


def test_mot_file_names_with_repeated_stems():
    assert file_names([("a", 1, "/x/v.mp4"), ("a", 2, "/y/v.mp4"), ("b", 3, "/z/w.mp4")]) == {
        1: "a-v.txt", 2: "a-v-2.txt", 3: "b.txt"}


def test_market_crops_from_video_and_thumbnails(db, tmp_path):
    out = export_market(db, tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    # confirmed members only: tracklets 1 (real video) and 3 (missing file), two thumbnails each
    assert len(names) == 4
    alice = db.tracklet(1).identity_id
    for name in names:
        m = MARKET_RE.match(name)
        assert m, name
        g = GENERIC_RE.match(name)
        assert int(g.group(1)) == alice and int(g.group(2)) == db.camera_id("cam1")
    by_frame = {int(MARKET_RE.match(n).group(3)): n for n in names}
    assert set(by_frame) == {2, 6, 0}  # tracklet 1: frames 2 and 6; tracklet 3: frames 0 and 2 of "later"
    assert sorted(n[-6:-4] for n in names if "_f000002_" in n) == ["00", "01"]  # same frame: indices 00, 01
    crop = cv2.imread(str(out / f"{alice:04d}_c01_f000006_00.jpg"))
    assert crop.shape[:2] == (34, 20)  # box x 8..28, y 6..40 cut from frame 6 of the real video
    assert abs(float(crop.mean()) - 8 * 6) < 6
    thumb = [n for n in names if n.endswith("_f000000_00.jpg")][0]  # from the stored thumbnail (solid 200)
    assert abs(float(cv2.imread(str(out / thumb)).mean()) - 200) < 6


def test_market_all_members_and_custom_reader(db, tmp_path):
    calls = []

    def reader(path, frames):
        calls.append((path, list(frames)))
        return {f: np.full((48, 64, 3), 77, np.uint8) for f in frames}

    out = export_market(db, tmp_path / "out", reviewed_only=False, video_reader=reader)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 8  # tracklets 1, 2, 3, 4 with two thumbnails each; 5 not linked
    assert len(calls) == 3 and all(frames == sorted(frames) for _, frames in calls)
    assert all(abs(float(cv2.imread(str(out / n)).mean()) - 77) < 3 for n in names)
    assert len({GENERIC_RE.match(n).group(1) for n in names}) == 2


def test_export_all(db, tmp_path):
    paths = export_all(db, tmp_path / "all")
    assert set(paths) == {"csv", "json", "mot", "market"} and all(p.exists() for p in paths.values())


def cli_main(argv: list[str]) -> int:
    """``reid`` with only the export subcommand (as reid.cli.main runs it, without importing torch users)."""
    parser = argparse.ArgumentParser(prog="reid")
    export_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def test_cli_export(db, tmp_path, capsys):
    assert cli_main(["export", "--db", str(db.path), "--format", "csv", "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "detections.csv").exists()
    assert "csv:" in capsys.readouterr().out


def test_cli_export_missing_db_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert cli_main(["export", "--db", str(missing), "--format", "all", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {missing}: no such database"
    assert not missing.exists() and not (tmp_path / "o").exists()

