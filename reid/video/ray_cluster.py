"""Reaching Ray for ``reid process --ray``: import it (an optional extra), find or start a cluster, hand it back.

``ray`` is imported only by ``import_ray``, so ``reid`` imports without it. Addresses (``--ray``): ``auto``
(the cluster in ``RAY_ADDRESS``, else one started on this machine with ``ray start``, else a new local instance
for this run), ``local`` (always a new local instance), ``HOST:6379`` (from a node of the cluster) or
``ray://HOST:10001`` (Ray Client, from any machine).

On a cluster every node must see the video files at the same absolute path (a shared filesystem) and have the
same ``reid`` installed (``pip install -e '.[distributed]'``); the database stays on the driver's machine.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from reid.errors import ReidError
from reid.lifeline import start_reaper, stop_reaper

log = logging.getLogger(__name__)

INSTALL_HINT = "ray is not installed: pip install -e '.[distributed]'"
AUTH_HINT = "a cluster with token authentication also needs RAY_AUTH_MODE=token and its token in ~/.ray/auth_token"
REACH_TIMEOUT_S = 5.0  # a head node on the network answers a TCP connect in milliseconds


def import_ray() -> ModuleType:
    """The ``ray`` module, or a ``ReidError`` saying how to install it (ray is an optional extra)."""
    try:
        import ray
    except ImportError:
        raise ReidError(INSTALL_HINT) from None
    return ray


def check_address(address: str) -> None:
    """Fail at once on a malformed ``--ray`` address (before any work); ``auto`` and ``local`` are fine."""
    if address not in ("auto", "local"):
        _split_address(address)


def check_reachable(address: str, timeout: float = REACH_TIMEOUT_S) -> None:
    """Fail at once when nothing answers at ``HOST:PORT`` or ``ray://HOST:PORT``: ``ray.init`` would retry
    for many minutes without a word."""
    try:
        with socket.create_connection(_split_address(address), timeout=timeout):
            pass
    except OSError as exc:
        raise ReidError(f"cannot connect to Ray at {address!r}: nothing answers there "
                        f"({exc.strerror or type(exc).__name__})") from None


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ReidError(f"--ray {address!r}: expected auto, local, HOST:PORT or ray://HOST:PORT")
    return host.strip("[]"), int(port)


def connect(ray: ModuleType, address: str = "auto", cpus: int = 0) -> bool:
    """Connect this process to Ray; True when this call started it (the caller then shuts it down).

    ``address``: see the module docstring. ``cpus``: CPUs of a local instance started here (0 = all cores);
    a running cluster keeps its own size. An already initialised Ray (tests, notebooks) is used as it is.
    """
    if ray.is_initialized():
        return False
    local = {"num_cpus": cpus or None, "logging_level": logging.WARNING}
    cluster = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
    if cluster not in ("", "auto", "local"):
        check_reachable(cluster)
    existing = address != "local"
    try:
        if address == "local":
            ray.init(address="local", **local)
        elif address == "auto" and not cluster:
            try:  # ray.init("auto") raises at once when no cluster runs on this machine
                ray.init(address="auto", logging_level=logging.WARNING)
            except ConnectionError:
                log.info("ray: no running cluster found; starting a local Ray instance for this run")
                ray.init(**local)
                existing = False
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = f" ({AUTH_HINT})" if existing else ""
        raise ReidError(f"cannot connect to Ray at {cluster or address!r}: {reason}{hint}") from None
    if existing and cpus:
        log.info("ray: using a running cluster, which keeps its own size (%d CPUs asked for, ignored)", cpus)
    return True


@contextmanager
def ray_session(ray: ModuleType, address: str = "auto", cpus: int = 0) -> Iterator[ModuleType]:
    """``connect`` for the ``with`` block; a Ray instance started here is shut down when it ends, and dies with
    this process if it is killed (a reaper ends what Ray's own fate-sharing leaves: ``reid.lifeline``)."""
    started = connect(ray, address, cpus)
    reaper = start_reaper() if started else None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
        stop_reaper(reaper)
