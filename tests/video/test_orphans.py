"""A killed run leaves nothing behind: ``reid process`` killed with SIGKILL takes its camera workers with it
(``reid.lifeline``), and so does any process started with ``die_with_parent`` / ``watch_parent``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")

GONE_WITHIN_S = 10.0  # issue 13: no worker of a killed run is alive 10 s later
START_TIMEOUT_S = 120.0  # spawning two workers that import torch, on a busy 2-core machine


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid``, None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has exited; only its entry waits


def _descendants(root: int) -> dict[int, str]:
    """Every living descendant of ``root``: pid → command line."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parent_of[int(entry.name)] = stat[1]
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parent_of.items():
            if ppid == parent and pid not in found and _alive(pid):
                try:
                    found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                frontier.append(pid)
    return found


def _wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _kill_and_check(parent: subprocess.Popen, children: dict[int, str]) -> None:
    """SIGKILL ``parent``; every one of ``children`` must be gone within ``GONE_WITHIN_S``."""
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        gone = _wait_until(lambda: not any(_alive(pid) for pid in children), GONE_WITHIN_S)
        left = {pid: cmd[:120] for pid, cmd in children.items() if _alive(pid)}
        assert gone, f"still alive {GONE_WITHIN_S:.0f} s after their parent was killed: {left}"
    finally:
        for pid in children:  # never leave our own strays behind, whatever the outcome
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_killed_process_run_takes_its_camera_workers_with_it(make_video, tmp_path):
    videos = [make_video(f"{cam}.avi", frames=300) for cam in ("a", "b")]
    cmd = [sys.executable, "-m", "reid", "process", "--no-progress", "--workers", "2", "--detector", "hog",
           "--camera", f"a={videos[0]}", "--camera", f"b={videos[1]}", "--db", str(tmp_path / "site.db")]
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        def workers() -> dict[int, str]:
            return {pid: c for pid, c in _descendants(run.pid).items() if "spawn_main" in c}

        started = _wait_until(lambda: len(workers()) >= 2 or run.poll() is not None, START_TIMEOUT_S)
        assert started and run.poll() is None, f"no camera workers appeared: {(tmp_path / 'run.log').read_text()}"
        time.sleep(2.0)  # let them get into their work (or finish it and wait for more, as in issue 13)
        children = _descendants(run.pid)  # the workers and multiprocessing's resource tracker
        assert len([c for c in children.values() if "spawn_main" in c]) == 2, children
    except BaseException:
        run.kill()
        raise
    _kill_and_check(run, children)


WATCHED_CHILD = """
import multiprocessing as mp, os, sys, time

def child(parent_pid):
    from reid.lifeline import watch_parent
    watch_parent(parent_pid)  # the portable fallback alone: no PR_SET_PDEATHSIG here
    time.sleep(600)

if __name__ == "__main__":
    p = mp.get_context(sys.argv[1]).Process(target=child, args=(os.getpid(),))
    p.start()
    print(p.pid, flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_watch_parent_alone_ends_an_orphan(tmp_path, method):
    """The fallback without the Linux signal: the parent's sentinel (spawn) or its pid (fork)."""
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    script = tmp_path / "parent.py"
    script.write_text(WATCHED_CHILD)
    run = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        assert run.stdout is not None
        pid = int(run.stdout.readline())
        assert _wait_until(lambda: pid in _descendants(run.pid), 30)
        time.sleep(1.0)  # its watcher thread is up
    except BaseException:
        run.kill()
        raise
    _kill_and_check(run, {pid: "watched child"})


REAPED_TREE = """
import subprocess, sys, time
from reid.lifeline import start_reaper

reaper = start_reaper()
# a child (like Ray's raylet) that starts a grandchild, prints its pid, lives on a while (the reaper sees the
# tree) and exits: the grandchild is re-parented, nothing of ours watches it any more
subprocess.run([sys.executable, "-c", "import subprocess, sys, time; "
                "print(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']).pid, flush=True); "
                "time.sleep(1.5)"])
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(reaper.pid, flush=True)
time.sleep(600)
"""


def test_reaper_ends_what_its_owner_left_even_re_parented_grandchildren(tmp_path):
    script = tmp_path / "owner.py"
    script.write_text(REAPED_TREE)
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        assert run.stdout is not None
        grandchild, reaper = int(run.stdout.readline()), int(run.stdout.readline())
        assert _wait_until(lambda: len(_descendants(run.pid)) == 2, 30)  # the reaper and the sleeper
        time.sleep(1.0)  # the reaper, polling every 0.5 s, has seen the sleeper too
        children = _descendants(run.pid)
        assert reaper in children and grandchild not in children and _alive(grandchild)  # re-parented
        children[grandchild] = "re-parented grandchild"
    except BaseException:
        run.kill()
        raise
    _kill_and_check(run, children)


@pytest.mark.slow
def test_killed_ray_driver_takes_its_local_ray_instance_with_it(make_video, tmp_path):
    """``reid process --ray local``: Ray's raylet and GCS die with the driver by themselves, its agents only a
    minute later (measured: 72 s, Ray 2.60); with the reaper everything is gone within seconds."""
    pytest.importorskip("ray")
    videos = [make_video(f"{cam}.avi", frames=300) for cam in ("a", "b")]
    cmd = [sys.executable, "-m", "reid", "process", "--no-progress", "--ray", "local", "--workers", "2",
           "--detector", "hog", "--camera", f"a={videos[0]}", "--camera", f"b={videos[1]}",
           "--db", str(tmp_path / "site.db")]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    try:
        def ready() -> bool:
            cmds = _descendants(run.pid).values()
            return any("lifeline.py" in c for c in cmds) and any(c.startswith("ray::") for c in cmds)

        started = _wait_until(lambda: ready() or run.poll() is not None, START_TIMEOUT_S, step=0.5)
        assert started and run.poll() is None, f"no Ray instance appeared: {(tmp_path / 'run.log').read_text()}"
        time.sleep(1.0)  # the reaper has seen the whole tree
        children = _descendants(run.pid)
    except BaseException:
        run.kill()
        raise
    _kill_and_check(run, children)
