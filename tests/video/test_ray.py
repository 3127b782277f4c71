"""``reid process --ray``: one Ray task per video, committed by the driver, on a local Ray instance.

Failures are injected by replacing ``ray_runner.run_task`` with a wrapper (pickled by value to the workers)
that counts its attempts in files and fails on one camera.
"""

import logging
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reid.cli import main
from reid.config import DetectorConfig, EmbedConfig, PipelineConfig
from reid.errors import ReidError, StoreError
from reid.store import writer
from reid.video import ray_cluster, ray_runner
from reid.video.manifest import load_manifest
from reid.video.pipeline import run_pipeline
from reid.video.ray_runner import run_on_ray


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray instance (2 CPUs) for the module's tests."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def gt(scene: Path) -> dict[str, str]:
    return {cam: str(scene / "gt" / f"{cam}.txt") for cam in ("cam1", "cam2")}


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("videos", "tracklets", "detections", "thumbnails", "identity_members")}


def cli(scene: Path, db: Path, *flags: str) -> list[str]:
    args = ["process", "--no-progress", "--manifest", str(scene / "scene.yaml"), "--db", str(db)]
    for cam, path in gt(scene).items():
        args += ["--detections", f"{cam}={path}"]
    return [*args, *flags]


def injected(attempts: Path, camera: str, failures: int, missing: bool = False):
    """A ``run_task`` that fails its first ``failures`` attempts on ``camera`` (RuntimeError, or with
    ``missing`` a path the worker cannot see: a ``VideoError``); every attempt appends to ``attempts/CAMERA``."""
    real = ray_runner.run_task

    def run_task(task):
        log = attempts / task.camera
        with log.open("a") as f:
            f.write("x")
        n = len(log.read_text())
        if task.camera == camera and n <= failures:
            if missing:
                return real(replace(task, open_path=str(attempts / "not-on-this-node.mp4")))
            raise RuntimeError(f"injected failure {n}")
        return real(task)

    return run_task


def test_cli_auto_starts_a_local_instance_when_no_cluster_runs(two_camera_scene, tmp_path, monkeypatch, capsys):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("Ray is already running in this process")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    code = main(cli(two_camera_scene, tmp_path / "site.db", "--ray", "--workers", "2"))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "cam1: 6 tracklets" in out.out and "cam2: 6 tracklets" in out.out
    assert not ray.is_initialized()  # the instance started for the run is shut down with it


def test_same_tracklets_and_identities_as_the_local_path(ray_local, two_camera_scene, tmp_path):
    manifest = load_manifest(two_camera_scene / "scene.yaml")
    local = run_pipeline(manifest, tmp_path / "local.db", PipelineConfig(), detections=gt(two_camera_scene),
                         workers=1, progress=False)
    remote = run_on_ray(manifest, tmp_path / "ray.db", PipelineConfig(), detections=gt(two_camera_scene),
                        progress=False)
    assert remote.tracklets_per_camera == local.tracklets_per_camera == {"cam1": 6, "cam2": 6}
    assert (remote.identities, remote.cross_camera_identities) == (local.identities, local.cross_camera_identities)
    assert table_counts(tmp_path / "ray.db") == table_counts(tmp_path / "local.db")
    assert not remote.failed and [v.path for v in remote.videos] == [v.path for v in local.videos]


def test_rerun_submits_nothing_and_force_redoes_without_duplicates(ray_local, two_camera_scene, tmp_path,
                                                                  monkeypatch):
    manifest, db = load_manifest(two_camera_scene / "scene.yaml"), tmp_path / "site.db"
    run_on_ray(manifest, db, PipelineConfig(), detections=gt(two_camera_scene), progress=False)
    once = table_counts(db)

    def no_tasks(*args):
        raise AssertionError("tasks submitted for finished videos")

    with monkeypatch.context() as m:
        m.setattr(ray_runner, "_run_tasks", no_tasks)
        again = run_on_ray(manifest, db, PipelineConfig(), detections=gt(two_camera_scene), progress=False)
    assert [v.skipped for v in again.videos] == [True, True] and table_counts(db) == once
    forced = run_on_ray(manifest, db, PipelineConfig(force=True), detections=gt(two_camera_scene), progress=False)
    assert forced.force and not any(v.skipped for v in forced.videos) and table_counts(db) == once


def test_a_failing_task_is_retried_then_reported_and_the_others_committed(ray_local, two_camera_scene, tmp_path,
                                                                          monkeypatch, capsys):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    monkeypatch.setattr(ray_runner, "run_task", injected(attempts, "cam2", failures=99))
    db = tmp_path / "site.db"
    code = main(cli(two_camera_scene, db, "--ray", "--ray-retries", "1"))
    out = capsys.readouterr()
    assert code == 1
    assert (attempts / "cam2").read_text() == "xx" and (attempts / "cam1").read_text() == "x"  # 1 + 1 retry
    assert "1 video(s) FAILED" in out.out and "RuntimeError: injected failure 2" in out.out
    assert "cam2.mp4" in out.out and "1 video(s) failed" in out.err
    assert "cam1: 6 tracklets" in out.out and table_counts(db)["videos"] == 1


def test_a_transient_failure_is_retried_and_the_video_lands_once(ray_local, two_camera_scene, tmp_path,
                                                                monkeypatch):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    monkeypatch.setattr(ray_runner, "run_task", injected(attempts, "cam2", failures=1))
    db = tmp_path / "site.db"
    summary = run_on_ray(load_manifest(two_camera_scene / "scene.yaml"), db, PipelineConfig(),
                         detections=gt(two_camera_scene), progress=False)
    assert (attempts / "cam2").read_text() == "xx" and not summary.failed
    assert summary.tracklets_per_camera == {"cam1": 6, "cam2": 6}
    assert table_counts(db)["videos"] == 2 and table_counts(db)["tracklets"] == 12


def test_bad_input_is_reported_without_retrying(ray_local, two_camera_scene, tmp_path, monkeypatch):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    monkeypatch.setattr(ray_runner, "run_task", injected(attempts, "cam1", failures=99, missing=True))
    summary = run_on_ray(load_manifest(two_camera_scene / "scene.yaml"), tmp_path / "site.db", PipelineConfig(),
                         detections=gt(two_camera_scene), retries=2, progress=False)
    assert (attempts / "cam1").read_text() == "x"  # a VideoError is not retried
    [failed] = summary.failed
    assert failed.camera == "cam1" and "not-on-this-node.mp4: file not found" in failed.error
    assert summary.tracklets_per_camera == {"cam1": 0, "cam2": 6}


def test_a_result_the_database_refuses_fails_that_video_alone(ray_local, two_camera_scene, tmp_path, monkeypatch,
                                                               capsys):
    real = writer.commit_video

    def refuse_cam2(conn, video, tracklets, *args):  # writes its rows, then refuses: all must be rolled back
        vid = real(conn, video, tracklets, *args)
        if video.camera == "cam2":
            raise StoreError(f"{video.path}: inconsistent tracklets (injected)")
        return vid

    monkeypatch.setattr(writer, "commit_video", refuse_cam2)  # the driver commits, so no pickling needed
    db = tmp_path / "site.db"
    code = main(cli(two_camera_scene, db, "--ray"))
    out = capsys.readouterr()
    assert code == 1 and "1 video(s) failed" in out.err
    assert "1 video(s) FAILED (not in the database" in out.out
    assert "cam2: " in out.out and "not committed: " in out.out and "inconsistent tracklets (injected)" in out.out
    assert "cam1: 6 tracklets" in out.out
    counts = table_counts(db)
    assert counts["videos"] == 1 and counts["tracklets"] == 6
    assert counts["identity_members"] == 6  # linking ran after the failure


def test_task_needing_more_cpus_than_the_cluster_has_is_refused(ray_local, two_camera_scene, tmp_path):
    with pytest.raises(ReidError, match="needs 4 CPU.*has 2"):
        run_on_ray(load_manifest(two_camera_scene / "scene.yaml"), tmp_path / "site.db", PipelineConfig(),
                   detections=gt(two_camera_scene), task_cpus=4, progress=False)


def test_worker_models_are_built_once_per_process():
    cfg = PipelineConfig(detector=DetectorConfig(kind="hog"))
    first = ray_runner.worker_models(cfg, None)
    assert all(a is b for a, b in zip(ray_runner.worker_models(cfg, None), first, strict=True))
    other = ray_runner.worker_models(replace(cfg, stride=3), None)  # stride is not a model setting
    assert other[0] is first[0]


def test_tasks_get_this_machines_detector_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "yolov8n.pt").write_bytes(b"")  # `auto` picks the first weights found here
    cfg = ray_runner.pinned_config(PipelineConfig(embed=EmbedConfig(weights="ckpt/reid.pt"), device="cuda:1"))
    assert cfg.detector.kind == "yolo" and cfg.detector.weights == str(tmp_path / "models" / "yolov8n.pt")
    assert cfg.embed.weights == str(tmp_path / "ckpt" / "reid.pt") and cfg.device == "cuda"


def test_an_address_where_nothing_answers_fails_at_once():
    with pytest.raises(ReidError, match="nothing answers"):
        ray_cluster.check_reachable("127.0.0.1:1")  # port 1: nothing listens
    with pytest.raises(ReidError, match="expected auto, local, HOST:PORT"):
        ray_cluster.check_reachable("head-node")


def test_missing_ray_gives_one_line(two_camera_scene, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(cli(two_camera_scene, tmp_path / "site.db", "--ray", "auto"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "error: ray is not installed: pip install -e '.[distributed]'"
    assert not (tmp_path / "site.db").exists()
