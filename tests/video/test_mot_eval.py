"""Tracking metrics on hand-computed cases: per camera with local ids, across cameras with global ids."""

from __future__ import annotations

import pytest

from reid.data.motio import write_mot
from reid.video.mot_eval import TrackRow, evaluate_tracks, format_table

P = (10.0, 10.0, 50.0, 110.0)  # person 1's box (xyxy), every frame
Q = (200.0, 20.0, 240.0, 120.0)  # person 2's box


def gt_file(tmp_path, name: str, frames: int = 10):
    path = tmp_path / f"{name}.txt"
    write_mot(path, [(f, pid, box, 1.0) for f in range(1, frames + 1) for pid, box in ((1, P), (2, Q))])
    return path


def perfect(frames: int = 10, ids: tuple[int, int] = (1, 2)) -> list[TrackRow]:
    return [TrackRow(f, 100 + pid, gid, box) for f in range(1, frames + 1)
            for pid, gid, box in ((1, ids[0], P), (2, ids[1], Q))]


def test_perfect_prediction(tmp_path) -> None:
    gts = {"a": gt_file(tmp_path, "a"), "b": gt_file(tmp_path, "b")}
    res = evaluate_tracks(gts, {"a": perfect(), "b": perfect()})
    for m in [*res["cameras"].values(), res["cross_camera"]]:
        assert m["idf1"] == pytest.approx(1.0) and m["mota"] == pytest.approx(1.0)
        assert m["num_switches"] == 0
    assert res["cross_camera"]["num_frames"] == 20 and res["cross_camera"]["num_unique_objects"] == 2
    text = format_table(res)
    assert "cross-camera" in text and "100.0" in text


def test_fragmented_track_within_a_camera(tmp_path) -> None:
    """Person 2 is tracked as track 102 in frames 1-5 and as new track 103 in frames 6-10.

    Best id matching: 1<->101 (10 frames), 2<->102 (5): IDTP = 15, IDFP = 5 (track 103), IDFN = 5,
    IDF1 = 2*15 / (2*15 + 5 + 5) = 0.75; IDP = IDR = 15/20.
    """
    rows = [r if not (r.track_id == 102 and r.frame > 5) else r._replace(track_id=103) for r in perfect()]
    res = evaluate_tracks({"a": gt_file(tmp_path, "a")}, {"a": rows})
    m = res["cameras"]["a"]
    assert m["idf1"] == pytest.approx(0.75)
    assert m["idp"] == pytest.approx(0.75) and m["idr"] == pytest.approx(0.75)
    assert m["num_switches"] == 1  # person 2's track changes at frame 6 (CLEAR MOT counts a new id too)
    assert m["mota"] == pytest.approx(1 - 1 / 20)


def test_identities_swapped_in_one_camera(tmp_path) -> None:
    """Camera b gives person 1 identity 2 and person 2 identity 1. Within each camera tracking is perfect;
    across cameras either matching of ids covers 10 of 20 gt boxes: IDF1 = 2*10 / (2*10 + 10 + 10) = 0.5."""
    gts = {"a": gt_file(tmp_path, "a"), "b": gt_file(tmp_path, "b")}
    res = evaluate_tracks(gts, {"a": perfect(), "b": perfect(ids=(2, 1))})
    assert res["cameras"]["a"]["idf1"] == pytest.approx(1.0)
    assert res["cameras"]["b"]["idf1"] == pytest.approx(1.0)
    assert res["cross_camera"]["idf1"] == pytest.approx(0.5)


def test_unlinked_and_missing_cameras_count_as_misses(tmp_path) -> None:
    gts = {"a": gt_file(tmp_path, "a"), "b": gt_file(tmp_path, "b")}
    unlinked = [r._replace(identity_id=None) if r.track_id == 102 else r for r in perfect()]
    res = evaluate_tracks(gts, {"a": unlinked})
    assert res["cameras"]["a"]["idf1"] == pytest.approx(1.0)  # local ids are all there
    assert res["cameras"]["b"]["idr"] == pytest.approx(0.0)
    assert res["cross_camera"]["idr"] == pytest.approx(10 / 40)
    assert res["cross_camera"]["idp"] == pytest.approx(1.0)


def test_evaluate_tracks_cli_reads_the_store(tmp_path, capsys) -> None:
    """Ground-truth tracks committed to a store, linked by person: the command reports 100 % everywhere;
    swapping camera b's identities halves the cross-camera IDF1."""
    import numpy as np

    from reid.cli import main
    from reid.store import LinkProposal, Store, VideoRecord
    from reid.video.types import Tracklet

    gt_dir = tmp_path / "gt"
    gt_dir.mkdir()
    gts = {"a": gt_file(gt_dir, "a"), "b": gt_file(gt_dir, "b")}
    db = tmp_path / "x.db"
    ids: dict[tuple[str, int], int] = {}
    with Store(db) as store:
        for cam in gts:
            store.camera_id(cam)
            tracklets = [Tracklet(cam, f"{cam}.mp4", pid, np.arange(10), np.arange(10) / 10 + (0 if cam == "a" else 5),
                                  np.array([box] * 10, np.float32), np.ones(10, np.float32),
                                  embedding=np.ones(4, np.float32) / 2)
                         for pid, box in ((1, P), (2, Q))]
            store.commit_video(VideoRecord(cam, f"{cam}.mp4", 10.0, 10, 320, 240), tracklets)
        for f in store.tracklet_features():
            ids[(f.camera, f.track_id)] = f.id
        store.apply_links([[LinkProposal(ids[("a", p)]), LinkProposal(ids[("b", p)], 0.1, 0.8)] for p in (1, 2)])
    assert main(["evaluate-tracks", "--gt", str(gt_dir), "--db", str(db), "--json", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    cross = next(line for line in out.splitlines() if line.startswith("cross-camera"))
    assert cross.split()[1] == "100.0"
    with Store(db) as store:
        store.apply_links([[LinkProposal(ids[("a", 1)]), LinkProposal(ids[("b", 2)], 0.1, 0.8)],
                           [LinkProposal(ids[("a", 2)]), LinkProposal(ids[("b", 1)], 0.1, 0.8)]])
    assert main(["evaluate-tracks", "--gt", str(gt_dir), "--db", str(db)]) == 0
    cross = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("cross-camera"))
    assert cross.split()[1] == "50.0"
