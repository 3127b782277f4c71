"""Child processes that end when the process that started them dies.

A ``ProcessPoolExecutor`` worker is not told when its parent is killed (SIGKILL, the out-of-memory killer, a
container stop): it finishes its job, then waits for the next one forever, holding its memory (issue 13 saw two
camera workers alive 42 minutes after ``reid process`` was killed). ``die_with_parent``, run as the pool's
``initializer``, ties a worker to its parent twice over: on Linux the kernel sends it SIGTERM when the parent
dies (``prctl(PR_SET_PDEATHSIG)``), and on every platform ``watch_parent`` runs a daemon thread that ends the
process once the parent is gone (it waits on the parent's ``multiprocessing`` sentinel, else polls the pid).

Processes this process does not start itself but that are started on its behalf (a local Ray instance: Ray ends
its raylet and GCS with the driver, but its agents linger for a minute, and its workers are started by the
raylet) are ended by a *reaper*: ``start_reaper`` starts a small process that keeps the list of this process's
descendants and, once this process is gone, ends those still running. Linux only (it reads ``/proc``).

Stopping on purpose: ``sigterm_interrupts`` makes SIGTERM (``docker stop``, systemd, ``kill``) raise
``Terminated``, a ``KeyboardInterrupt``, in the main thread, so a run stops as on Ctrl-C, cleanly (pools shut
down, no leaked semaphores); ``ignore_interrupts`` keeps a worker out of Ctrl-C's signal to the whole process
group, leaving it to its parent, which terminates its workers rather than waiting for them.

Whatever the worker was writing is lost, as it would be in the parent: the store commits a video whole or not
at all, so a re-run redoes it. This module imports nothing but the standard library: the reaper runs it as a
script.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_S = 0.5  # how often the fallback checks the parent's pid when there is no sentinel to wait on
ORPHAN_EXIT_CODE = 3  # nobody reads it (the parent is gone); it only tells a process listing what happened
REAPER_POLL_S = 0.5  # the reaper's view of the process tree is at most this old
REAP_GRACE_S = 3.0  # between the reaper's SIGTERM and its SIGKILL


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when process ``parent_pid`` (the one that started it) dies; ends it at once if
    that process is already gone. Meant as a ``ProcessPoolExecutor``/``multiprocessing`` initializer with
    ``initargs=(os.getpid(),)``. The kernel's signal follows the *thread* that started the worker
    (``ProcessPoolExecutor`` starts them in ``submit``/``map``): use the pool from a thread that outlives it."""
    set_parent_death_signal(signal.SIGTERM)
    watch_parent(parent_pid)


def set_parent_death_signal(sig: int) -> bool:
    """Linux only: ask the kernel to send ``sig`` to this process when its parent dies. False where that is
    not available (other platforms, no libc), so the caller relies on ``watch_parent``."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(parent_pid: int) -> threading.Thread:
    """Start a daemon thread that ends this process (``os._exit``) once process ``parent_pid`` is gone.

    It waits on ``multiprocessing.parent_process()``'s sentinel when this process was started by
    ``multiprocessing`` from ``parent_pid`` (no polling), else checks every ``POLL_S`` seconds whether
    ``parent_pid`` is still this process's parent. Ends the process at once if the parent is already gone.
    """
    if os.getppid() != parent_pid:  # died (and we were re-parented) before we could watch it
        os._exit(ORPHAN_EXIT_CODE)
    thread = threading.Thread(target=_wait_for_parent, args=(parent_pid,), name="reid-parent-watch", daemon=True)
    thread.start()
    return thread


def _wait_for_parent(parent_pid: int) -> None:
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if parent is not None and parent.pid == parent_pid and sentinel is not None:
        from multiprocessing.connection import wait

        wait([sentinel])  # readable once the parent has exited
    else:
        while os.getppid() == parent_pid:
            time.sleep(POLL_S)
    os._exit(ORPHAN_EXIT_CODE)


# ------------------------------------------------------------------------------------------ stopping on purpose
class Terminated(KeyboardInterrupt):
    """SIGTERM received: handled like Ctrl-C; ``exit_code`` is the shell's for a process ended by SIGTERM."""

    exit_code = 128 + signal.SIGTERM


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` in the main thread instead of ending the process at
    once, so ``finally`` blocks and pool shutdowns run. Does nothing outside the main thread (Python delivers
    signals only there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def init_worker(parent_pid: int) -> None:
    """Pool ``initializer`` (``initargs=(os.getpid(),)``): the worker ends with its parent (``die_with_parent``)
    and leaves Ctrl-C to it (``ignore_interrupts``). Kept in this light module so that a worker runs it before
    it imports anything heavy."""
    die_with_parent(parent_pid)
    ignore_interrupts()


def ignore_interrupts() -> None:
    """Ignore SIGINT in this (worker) process: Ctrl-C reaches every process of the terminal's group, and the
    parent alone decides what happens (it terminates its workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ------------------------------------------------------------------------------------------------- the reaper
def start_reaper() -> subprocess.Popen | None:
    """Start a reaper for this process (see the module docstring); None where there is no ``/proc``. Stop it
    with ``stop_reaper`` once the processes it guards have been shut down normally. It looks at the process
    tree every ``REAPER_POLL_S``: a process started in the last such interval before this one dies may be
    missed (Ray's workers end by themselves when their raylet does)."""
    if not Path("/proc/self/stat").exists():
        return None
    return subprocess.Popen([sys.executable, "-S", __file__, str(os.getpid())], stdin=subprocess.DEVNULL,
                            start_new_session=True)  # a signal to our process group must not reach it


def stop_reaper(reaper: subprocess.Popen | None) -> None:
    """End the reaper without reaping: what it guarded has been shut down normally."""
    if reaper is not None and reaper.poll() is None:
        reaper.send_signal(signal.SIGTERM)  # its default action ends it at once, nothing reaped
        reaper.wait()


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a living ``pid``; None when it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else (int(fields[1]), int(fields[19]))


def _descendants(root: int) -> dict[int, int]:
    """pid → start time of every living descendant of ``root``."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, start) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = start
                frontier.append(pid)
    return found


def reap(owner: int) -> None:
    """The reaper's body: while process ``owner`` (our parent) lives, note its descendants; once it is gone,
    SIGTERM those still running (the same pid *and* start time: a reused pid is left alone), SIGKILL them after
    ``REAP_GRACE_S``."""
    me = os.getpid()
    known: dict[int, int] = {}
    while os.getppid() == owner:
        known.update({pid: start for pid, start in _descendants(owner).items() if pid != me})
        time.sleep(REAPER_POLL_S)

    def still(pid: int, start: int) -> bool:
        stat = _stat(pid)
        return stat is not None and stat[1] == start

    for sig, wait_s in ((signal.SIGTERM, REAP_GRACE_S), (signal.SIGKILL, 0.0)):
        known = {pid: start for pid, start in known.items() if still(pid, start)}
        for pid in known:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + wait_s
        while known and time.monotonic() < deadline and any(still(p, s) for p, s in known.items()):
            time.sleep(0.1)


if __name__ == "__main__":  # the reaper: python lifeline.py OWNER_PID
    reap(int(sys.argv[1]))
