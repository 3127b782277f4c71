"""Reading another project's checkpoint safely: ``read_foreign_checkpoint(path) -> state dict``.

torchreid wraps its state dict in ``{"state_dict": ..., "epoch", "rank1" (a numpy scalar), "optimizer"}``,
fast-reid in ``{"model": ..., "optimizer", "scheduler", "iteration"}``; reid-strong-baseline (ignite 0.1.2's
``ModelCheckpoint``) pickles the whole model, which a safe load refuses with the way out.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.errors import CheckpointError, load_problem

_CONTAINERS = ("state_dict", "model", "net", "network", "model_state_dict")  # where trainers put the weights


def _numpy_scalar_globals() -> list[Any]:
    """What unpickling numeric numpy scalars needs (torchreid stores ``rank1`` as one): the scalar constructor
    under its numpy 1 and 2 names, ``numpy.dtype`` and the numeric dtype classes. The object dtype is not
    among them, so no arbitrary object can come through."""
    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar  # type: ignore[no-redef]
    items: list[Any] = [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"),
                           np.dtype]
    dtypes = getattr(np, "dtypes", None)
    for name in ("Float16DType", "Float32DType", "Float64DType", "Int8DType", "Int16DType", "Int32DType",
                 "Int64DType", "UInt8DType", "UInt16DType", "UInt32DType", "UInt64DType", "BoolDType"):
        if dtypes is not None and hasattr(dtypes, name):
            items.append(getattr(dtypes, name))
    return items


def weights_only_error(path: str | Path, exc: Exception, then: str = "") -> CheckpointError:
    """The one-line error for ``torch.load(path, weights_only=True)`` failing with ``exc``: a pickled object
    the safe load refused (named, with the way out for a trusted file and ``then`` after it), else a damaged
    or foreign file (with torch's informative line, not its generic preamble)."""
    text = str(exc)
    found = re.search(r"GLOBAL (\S+)", text) or re.search(r"but got <class '([^']+)'>", text)
    if isinstance(exc, pickle.UnpicklingError) and found:
        return CheckpointError(
            f"{path}: holds a pickled {found.group(1)} object, which a safe load (weights_only) refuses; if "
            f"you trust the file, re-save just its state dict with torch.save(model.state_dict(), ...){then}"
        )
    return CheckpointError(f"{path}: truncated, corrupt or not a PyTorch file: {load_problem(exc)}")


def read_foreign_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict inside a checkpoint of another project, read with ``torch.load(weights_only=True)``.

    Unwraps ``{"state_dict": ...}`` (torchreid), ``{"model": ...}`` (fast-reid, ours), ``{"net": ...}``;
    metadata holding numeric numpy scalars is accepted. Raises ``CheckpointError`` (one line naming the file)
    when it is missing, corrupt, holds pickled Python objects or no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: not found")
    try:
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a refused pickled object, zip errors, EOF, plain text ...
        raise weights_only_error(path, exc) from exc
    for _ in range(3):  # e.g. {"model": {"state_dict": ...}}
        inner = next((obj[k] for k in _CONTAINERS if isinstance(obj, Mapping) and isinstance(obj.get(k), Mapping)),
                     None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    state = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not state:
        keys = ", ".join(str(k) for k in list(obj)[:8])
        raise CheckpointError(f"{path}: no tensors in it (top-level keys: {keys or 'none'})")
    return state
