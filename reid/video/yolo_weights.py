"""Ultralytics ``.pt`` detector files read without running code from them: ``load_yolo_pt(path) -> YOLO``.

A YOLO ``.pt`` pickles the whole model, and ultralytics' ``YOLO(path)`` unpickles it fully: a file made to
run a command on load runs it. Here the file is read with ``torch.load(weights_only=True)`` and an allow-list
of what a detection checkpoint holds; ultralytics is handed the loaded checkpoint and never reads the file.

The allow-list (``allowed_globals``): ``ultralytics.nn.tasks.DetectionModel``; every ``nn.Module`` class
defined in ``torch.nn.modules`` or ``ultralytics.nn.modules`` but ``TorchVision`` (its constructor loads
torchvision weights); the loss and assigner classes of ``ultralytics.utils.loss`` / ``tal`` (training state
some files keep); plain data: ultralytics' ``IterableSimpleNamespace``, numpy scalars and dtypes, ``pathlib``
paths; and ``getattr`` limited to a module's ``forward`` (some files pickle ``Detect.forward`` through it).
A reference outside the list is refused before anything is unpickled. A file refused that way loads only
when its SHA-256 is that of a published file (``reid.hub.known_file``) or the user opts in
(``detector.trust_weights``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pathlib
import pickle
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reid.errors import CheckpointError, first_line, load_problem
from reid.hub import known_file

log = logging.getLogger(__name__)

MODULE_PACKAGES = ("torch.nn.modules", "ultralytics.nn.modules")  # nn.Module classes defined here are allowed
DENIED = frozenset({"ultralytics.nn.modules.block.TorchVision"})  # its constructor loads torchvision weights
DATA_MODULES = ("ultralytics.utils.loss", "ultralytics.utils.tal")  # classes defined here (criterion state)
TRUST_FLAG = "detector.trust_weights (--detector.trust-weights)"
_LOADING = threading.Lock()  # safe_globals edits a process-wide set: one restricted load at a time


class UnsafeWeightsError(CheckpointError):
    """A detector file referencing Python objects outside the allow-list; nothing in it was run."""


def _refused(path: Path, name: str) -> UnsafeWeightsError:
    return UnsafeWeightsError(
        f"{path}: refused: it holds pickled code or objects outside the YOLO allow-list ({name}); nothing "
        f"in it was run. If you trust the file, set {TRUST_FLAG} to load it with ultralytics' full unpickler"
    )


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as ultralytics files pickle it (a head's ``Detect.forward``): only ``forward`` /
    ``forward_fuse`` of a module class or module (the classes themselves passed the allow-list)."""
    if name in ("forward", "forward_fuse"):
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            return getattr(obj, name)
        if isinstance(obj, nn.Module):
            return getattr(type(obj), name).__get__(obj)
    raise pickle.UnpicklingError(f"getattr({type(obj).__name__}, {name!r}) is not allowed")


def _fixed_globals() -> dict[str, Any]:
    """Allowed names that are not module classes: plain data, legacy aliases, restricted ``getattr``."""
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import IterableSimpleNamespace
    from ultralytics.utils.loss import E2EDetectLoss

    scalar = np.float64(0).__reduce__()[0]  # numpy's scalar constructor (numpy.core / numpy._core)
    path = type(pathlib.Path())  # either OS's pickled path becomes this one's
    fixed: dict[str, Any] = {
        "ultralytics.nn.tasks.DetectionModel": DetectionModel,
        "ultralytics.nn.tasks.YOLOv10DetectionModel": DetectionModel,
        "ultralytics.nn.modules.block.Silence": nn.Identity,  # YOLOv9e
        "ultralytics.utils.loss.v10DetectLoss": E2EDetectLoss,
        "ultralytics.utils.IterableSimpleNamespace": IterableSimpleNamespace,
        "ultralytics.yolo.utils.IterableSimpleNamespace": IterableSimpleNamespace,  # files before 8.0.44
        "numpy.core.multiarray.scalar": scalar,
        "numpy._core.multiarray.scalar": scalar,
        "numpy.dtype": np.dtype,
        "builtins.getattr": _restricted_getattr,
    }
    for module in ("pathlib", "pathlib._local"):
        for name in ("PosixPath", "WindowsPath"):
            fixed[f"{module}.{name}"] = path
    return fixed


def _dtype_classes() -> list[Any]:
    """numpy's dtype classes: the unpickler needs them, but the checkpoint scan does not list them."""
    return [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_)]


def _module_class(name: str) -> Any | None:
    """The class ``name`` ("pkg.module.Class") when the allow-list's rule admits it, else None."""
    module, _, attr = name.rpartition(".")
    in_packages = any(module == p or module.startswith(p + ".") for p in MODULE_PACKAGES)
    if name in DENIED or not (in_packages or module in DATA_MODULES):
        return None  # nothing else is even imported
    try:
        obj = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return None
    if not isinstance(obj, type):
        return None
    if in_packages:
        return obj if issubclass(obj, nn.Module) and obj.__module__.startswith(MODULE_PACKAGES) else None
    return obj if obj.__module__ == module else None


def allowed_globals(path: Path) -> list[Any]:
    """The ``safe_globals`` entries ``path`` needs; ``UnsafeWeightsError`` naming the first not allowed."""
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as exc:  # not a torch.save zip: torch.load below says what it is
        log.debug("%s: no global scan (%s)", path, first_line(exc))
        needed = []
    fixed = _fixed_globals()
    entries: list[Any] = _dtype_classes() if "numpy.dtype" in needed else []
    for name in sorted(needed):  # only these: the unpickler's cost grows with the allowed set
        obj = fixed[name] if name in fixed else _module_class(name)
        if obj is None:
            raise _refused(path, name)
        entries.append((obj, name))
    return entries


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dict of an ultralytics ``.pt``, unpickled with ``weights_only=True`` and the allow-list.

    Raises ``UnsafeWeightsError`` for references outside the allow-list, ``CheckpointError`` for a file
    that is not an ultralytics detection checkpoint."""
    entries = allowed_globals(path)
    try:
        with _LOADING, torch.serialization.safe_globals(entries):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # a reference the scan missed (legacy file), or not a pickle
        text = str(exc)
        found = re.search(r"GLOBAL (\S+)", text) or re.search(r"getattr\([^)]*\)", text)
        if found:
            raise _refused(path, found.group(1) if found.lastindex else found.group(0)) from None
        raise CheckpointError(f"{path}: cannot load as a YOLO model: {load_problem(exc)}") from None
    except Exception as exc:  # truncated zip, TorchScript archive, plain text ...
        raise CheckpointError(f"{path}: cannot load as a YOLO model: {load_problem(exc)}") from None
    if not isinstance(ckpt, dict):  # a bare torch.save(model): ultralytics wraps it the same way
        ckpt = {"model": getattr(ckpt, "model", ckpt)}
    model = ckpt.get("ema") or ckpt.get("model")
    if not isinstance(model, nn.Module):
        raise CheckpointError(f"{path}: cannot load as a YOLO model (no ultralytics model in it)")
    return ckpt


@contextlib.contextmanager
def _ultralytics_reads(ckpt: dict[str, Any], path: Path) -> Iterator[list[str]]:
    """While open, ultralytics' ``.pt`` reader (``ultralytics.nn.tasks.torch_safe_load``, which ``YOLO(path)``
    calls) returns ``ckpt`` instead of unpickling the file; yields the list of files it was asked for."""
    from ultralytics.nn import tasks

    asked: list[str] = []
    original = tasks.torch_safe_load

    def given(weight: Any, safe_only: Any = None) -> tuple[dict[str, Any], str]:
        asked.append(str(weight))
        return ckpt, str(path)

    setattr(tasks, "torch_safe_load", given)  # noqa: B010 - a module attribute, swapped back below
    try:
        yield asked
    finally:
        setattr(tasks, "torch_safe_load", original)  # noqa: B010


def _full_load(path: Path) -> Any:
    from ultralytics import YOLO

    try:
        return YOLO(str(path), task="detect")
    except Exception as exc:  # ultralytics raises many types for a bad file
        raise CheckpointError(f"{path}: cannot load as a YOLO model ({first_line(exc)})") from None


def load_yolo_pt(path: Path, trust_weights: bool = False) -> Any:
    """An ultralytics ``YOLO`` of the ``.pt`` file ``path``, read by ``read_checkpoint`` (never fully).

    A file the allow-list refuses is loaded with ultralytics' full unpickler only when its SHA-256 is that of
    a published file or ``trust_weights`` is set (logged as a warning); else ``UnsafeWeightsError``. Call
    after ``reid.video.detect.import_ultralytics()`` (ultralytics imported offline)."""
    from ultralytics import YOLO

    try:
        ckpt = read_checkpoint(path)
    except UnsafeWeightsError:
        known = known_file(path)
        if known is not None:
            log.info("detector: %s has the SHA-256 of the published %s; loading it with ultralytics' own "
                     "loader", path, known)  # fmt: skip
            return _full_load(path)
        if not trust_weights:
            raise
        log.warning("detector: %s holds objects the safe loader refuses; loading it with ultralytics' full "
                    "unpickler because detector.trust_weights is set: any code in the file runs now, with "
                    "your permissions", path)  # fmt: skip
        return _full_load(path)
    try:
        with _ultralytics_reads(ckpt, path) as asked:
            model = YOLO(str(path), task="detect")
    except Exception as exc:  # ultralytics raises many types for a model it cannot use
        raise CheckpointError(f"{path}: cannot load as a YOLO model ({first_line(exc)})") from None
    if not asked:  # this ultralytics read the file some other way: refuse rather than trust that way
        raise CheckpointError(f"{path}: this ultralytics does not read .pt files through torch_safe_load")
    return model
