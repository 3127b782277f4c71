"""Resolve the user's device choice (``auto | cpu | cuda | cuda:N``) into a ``torch.device``; used by
training and inference alike."""

from __future__ import annotations

import torch

from reid.config import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when a GPU is visible, else the CPU.

    Asking for ``cuda`` without a usable GPU raises ``ConfigError`` saying why, rather than failing later
    inside a kernel.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no GPU is visible"
            raise ConfigError(f"device {name!r} requested but CUDA is not available ({why}); "
                              "use --device cpu or --device auto")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} requested but only {torch.cuda.device_count()} GPU(s) are visible")
        return device
    raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def describe(device: torch.device) -> str:
    """One line naming the device, e.g. ``cuda:0 (NVIDIA H100 80GB HBM3)`` or ``cpu (threads=8)``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"{device.type} (threads={torch.get_num_threads()})"
