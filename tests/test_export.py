"""Exports: CSV, JSON, MOTChallenge, Market-1501 crops, and the ``reid export`` command."""

from __future__ import annotations

import argparse
import builtins
import csv
import errno
import io
import json
import os
import re
import sys
from collections.abc import Callable
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
    crops = [
        Crop(int(frames[0]), np.full((34, 20, 3), 200, np.uint8), 1.0),
        Crop(int(frames[-1]), np.full((34, 20, 3), 100, np.uint8), 0.5),
    ]
    e = np.asarray(emb, np.float32)
    return Tracklet(
        camera,
        video,
        track_id,
        frames,
        frames / 10.0,
        boxes,
        np.full(n, 0.8, np.float32),
        crops,
        e / np.linalg.norm(e),
    )


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
        s.commit_video(
            VideoRecord("cam1", str(real), 10.0, 30, 64, 48),
            [tracklet(1, 2, 5, "cam1", str(real), [1, 0]), tracklet(2, 10, 4, "cam1", str(real), [0, 1])],
        )
        s.commit_video(
            VideoRecord("cam1", "/missing/later.mp4", 10.0, 30, 64, 48),
            [tracklet(1, 0, 3, "cam1", "/missing/later.mp4", [1, 0.1])],
        )
        s.commit_video(
            VideoRecord("cam2", "/missing/b.mp4", 10.0, 30, 64, 48),
            [
                tracklet(4, 3, 6, "cam2", "/missing/b.mp4", [1, 0.2]),
                tracklet(5, 0, 2, "cam2", "/missing/b.mp4", [0, 1]),
            ],
        )
        s.apply_links(
            [[LinkProposal(1), LinkProposal(3, 0.1, 0.8), LinkProposal(4, 0.2, 0.6)], [LinkProposal(2)]]
        )
        s.conn.execute("DELETE FROM identity_members WHERE tracklet_id = 5")  # an unlinked tracklet
        s.conn.execute("DELETE FROM identities WHERE id NOT IN (SELECT identity_id FROM identity_members)")
        s.confirm(1)
        s.confirm(3)
        s.annotate(s.tracklet(1).identity_id, 'Alice, "the" first', "note")
    with Store(tmp_path / "s.db", readonly=True) as s:
        yield s


def test_csv_columns_and_rows(db, tmp_path):
    path = export_csv(db, tmp_path / "out")
    rows = list(csv.DictReader(open(path, newline="")))
    assert list(rows[0]) == [
        "camera",
        "video",
        "frame",
        "time",
        "track_id",
        "identity",
        "x1",
        "y1",
        "x2",
        "y2",
        "score",
        "tracklet_id",
        "state",
        "identity_name",
    ]
    assert len(rows) == db.counts()["detections"] == 5 + 4 + 3 + 6 + 2
    alice = db.tracklet(1).identity_id
    first = [r for r in rows if r["tracklet_id"] == "1"][0]
    assert (first["camera"], first["frame"], first["track_id"], first["identity"], first["state"]) == (
        "cam1",
        "2",
        "1",
        str(alice),
        "confirmed",
    )
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
        1: "a-v.txt",
        2: "a-v-2.txt",
        3: "b.txt",
    }


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


# ----------------------------------------------------------------------------------- faults: nothing partial
def listing(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative) with its bytes (None for a folder): what a failed export must
    leave exactly as it was."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))
    }


def _is_under(file: object, folder: Path) -> bool:
    return isinstance(file, str | os.PathLike) and Path(file).resolve().is_relative_to(folder.resolve())


def patch_writes(monkeypatch, folder: Path, fault: Callable[[int], BaseException | None]) -> None:
    """Files opened for writing under ``folder`` (by ``open``, ``io.open`` or ``pathlib``) raise
    ``fault(n)`` at their n-th write (counted over all of them, 1-based) when it is not None."""
    real_open = builtins.open
    writes = [0]

    class Faulty:
        def __init__(self, f):
            self._f = f

        def write(self, data):
            writes[0] += 1
            exc = fault(writes[0])
            if exc is not None:
                raise exc
            return self._f.write(data)

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return self._f.__exit__(*exc_info)

    def faulty_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return Faulty(f) if any(c in mode for c in "wxa") and _is_under(file, folder) else f

    monkeypatch.setattr(builtins, "open", faulty_open)
    monkeypatch.setattr(io, "open", faulty_open)


def disk_full_at(n: int) -> Callable[[int], BaseException | None]:
    return lambda k: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if k >= n else None


def deny_writes(monkeypatch, folder: Path) -> None:
    """``folder`` read-only, as a user other than root sees it: ``chmod 0o500`` where that is enforced, else
    every file or folder creation in it raises ``PermissionError``."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return
    real_open, real_mkdir = builtins.open, os.mkdir

    def denied(path):
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    def ro_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wxa") and _is_under(file, folder):
            raise denied(file)
        return real_open(file, mode, *args, **kwargs)

    def ro_mkdir(path, *args, **kwargs):
        if _is_under(path, folder) and Path(path).resolve() != folder.resolve():
            raise denied(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", ro_open)
    monkeypatch.setattr(io, "open", ro_open)
    monkeypatch.setattr(os, "mkdir", ro_mkdir)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def export_argv(db, out: Path, fmt: str, *extra: str) -> list[str]:
    return ["export", "--db", str(db.path), "--format", fmt, "--out", str(out), *extra]


def test_read_only_folder_is_one_line_and_writes_nothing(db, tmp_path, monkeypatch, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    deny_writes(monkeypatch, ro)
    try:
        assert cli_main(export_argv(db, ro, "all")) == 2
    finally:
        ro.chmod(0o700)
    err = one_error_line(capsys)
    assert err == (
        f"error: {ro / 'detections.csv'}: permission denied: the folder is not writable; "
        "choose another --out or change its permissions (detections.csv not written)"
    )
    assert listing(ro) == {}


@pytest.mark.parametrize("fmt", ["mot", "market"])
def test_read_only_folder_for_folder_exports(db, tmp_path, monkeypatch, capsys, fmt):
    ro = tmp_path / "ro"
    ro.mkdir()
    deny_writes(monkeypatch, ro)
    try:
        assert cli_main(export_argv(db, ro, fmt)) == 2
    finally:
        ro.chmod(0o700)
    assert "permission denied: the folder is not writable" in one_error_line(capsys)
    assert listing(ro) == {}


def test_existing_file_is_refused_unless_overwrite(db, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "detections.csv").write_text("earlier export\n")
    assert cli_main(export_argv(db, out, "all")) == 2
    err = one_error_line(capsys)
    assert err == (
        f"error: {out / 'detections.csv'} already exists; pass --overwrite to replace, or choose "
        "another --out (nothing was written)"
    )
    assert listing(out) == {"detections.csv": b"earlier export\n"}  # nothing else written either

    assert cli_main(export_argv(db, out, "csv", "--overwrite")) == 0
    rows = list(csv.DictReader(open(out / "detections.csv", newline="")))
    assert len(rows) == db.counts()["detections"]
    assert sorted(p.name for p in out.iterdir()) == ["detections.csv"]  # no temporary left


def test_overwrite_replaces_a_folder_export_whole(db, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli_main(export_argv(db, out, "mot")) == 0
    (out / "mot" / "stale-camera.txt").write_text("1,1,0,0,1,1,1,-1,-1,-1\n")
    assert cli_main(export_argv(db, out, "mot")) == 2
    assert "mot already exists; pass --overwrite" in one_error_line(capsys)
    assert (out / "mot" / "stale-camera.txt").exists()
    assert cli_main(export_argv(db, out, "mot", "--overwrite")) == 0
    assert sorted(p.name for p in (out / "mot").iterdir()) == [
        "cam1-cam1-real.txt",
        "cam1-later.txt",
        "cam2.txt",
    ]
    assert sorted(p.name for p in out.iterdir()) == ["mot"]


@pytest.mark.parametrize(("fmt", "nth"), [("csv", 3), ("json", 1), ("mot", 5), ("market", 2)])
def test_disk_full_leaves_the_earlier_export_as_it_was(db, tmp_path, monkeypatch, capsys, fmt, nth):
    out = tmp_path / "o"
    assert cli_main(export_argv(db, out, fmt)) == 0  # an earlier, complete export
    capsys.readouterr()
    before = listing(out)
    patch_writes(monkeypatch, out, disk_full_at(nth))
    assert cli_main(export_argv(db, out, fmt, "--overwrite")) == 2
    err = one_error_line(capsys)
    target = out / {"csv": "detections.csv", "json": "identities.json", "mot": "mot", "market": "market"}[fmt]
    assert err == (
        f"error: {target}: no space left on device; free some space or choose another --out "
        f"({target.name} left as it was)"
    )
    assert listing(out) == before


def test_disk_full_on_a_first_export_leaves_no_file(db, tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    out.mkdir()
    patch_writes(monkeypatch, out, disk_full_at(3))
    assert cli_main(export_argv(db, out, "csv")) == 2
    assert one_error_line(capsys).endswith("(detections.csv not written)")
    assert listing(out) == {}  # no truncated detections.csv, no temporary


def test_ctrl_c_during_export_leaves_nothing_partial(db, tmp_path, monkeypatch):
    out = tmp_path / "o"
    out.mkdir()
    (out / "detections.csv").write_text("earlier export\n")
    patch_writes(monkeypatch, out, lambda k: KeyboardInterrupt() if k >= 4 else None)
    with pytest.raises(KeyboardInterrupt):
        export_csv(db, out)
    with pytest.raises(KeyboardInterrupt):
        export_market(db, out)
    assert listing(out) == {"detections.csv": b"earlier export\n"}


def test_out_is_a_file_or_target_is_a_folder(db, tmp_path, capsys):
    a_file = tmp_path / "report.txt"
    a_file.write_text("x")
    assert cli_main(export_argv(db, a_file, "csv")) == 2
    assert one_error_line(capsys) == (
        f"error: {a_file}: cannot create the output folder: a file stands where "
        "a folder is needed; rename it or choose another --out"
    )
    out = tmp_path / "o"
    (out / "detections.csv").mkdir(parents=True)
    assert cli_main(export_argv(db, out, "csv", "--overwrite")) == 2
    assert "detections.csv: is a folder, not a file" in one_error_line(capsys)
    (out / "mot").write_text("a file where the MOT folder goes\n")
    assert cli_main(export_argv(db, out, "mot", "--overwrite")) == 2
    assert "mot: is a file, not a folder" in one_error_line(capsys)
    assert listing(out) == {"detections.csv": None, "mot": b"a file where the MOT folder goes\n"}


def test_library_default_replaces_an_earlier_export(db, tmp_path):
    """``reid demo`` and the review app export into the same folder again: the library replaces by default."""
    first = export_all(db, tmp_path / "o")
    again = export_all(db, tmp_path / "o")
    assert first == again and all(p.exists() for p in again.values())
    assert not [p for p in (tmp_path / "o").rglob("*") if p.name.startswith(".")]


def test_exported_file_gets_the_usual_permissions(db, tmp_path):
    old = os.umask(0o022)
    try:
        path = export_csv(db, tmp_path / "o")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0o600 of a mkstemp file


def test_leftovers_of_a_killed_export_are_removed_by_the_next_one(tmp_path: Path) -> None:
    """``kill -9`` runs no clean-up: the next export to the same place removes the dead writer's temporaries
    (a live writer's stay)."""
    import subprocess

    from reid.export.atomic import atomic_write

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale_file = tmp_path / f".detections.csv.{dead.pid}-0badc0de.part"
    stale_file.write_text("half a row")
    live = tmp_path / f".detections.csv.{os.getpid()}-0badcafe.part"
    live.write_text("being written")
    with atomic_write(tmp_path / "detections.csv") as f:
        f.write("frame\n")
    assert (tmp_path / "detections.csv").read_text() == "frame\n"
    assert not stale_file.exists() and live.exists()
