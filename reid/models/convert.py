"""Import re-ID weights trained elsewhere into a ``ReIDModel`` of the same architecture, with a report.

Key layouts recognised (after stripping ``module.`` of DataParallel/DDP and ``_orig_mod.`` of torch.compile):

- torchvision ResNet: ``conv1.*``, ``bn1.*``, ``layer1-4.*``; ``fc.*`` = ImageNet classifier (skipped).
- torchreid ``resnet50``: the same backbone names; ``classifier.*`` = identity classifier (skipped); the
  ``fc.*`` embedding layer of ``resnet50_fc512`` (Linear + BN + ReLU) has no counterpart (skipped).
- reid-strong-baseline: ``base.*`` backbone, ``bottleneck.*`` BNNeck (loaded), ``classifier.weight``.
- fast-reid: ``backbone.*``, ``heads.bottleneck.0.*`` BNNeck (loaded), ``heads.weight``, ``pixel_mean/std``.
- this project: ``backbone.*``, ``bnneck.*``, ``classifier.weight``.

The backbone's prefix is found by matching key suffixes against our backbone's torchvision names, so other
wrappers (``model.backbone.``, ``encoder.`` ...) work too. Every backbone tensor must load (name and shape),
and no tensor inside the source's backbone may be left over (IBN, non-local or SE variants have such tensors):
otherwise the architecture does not match and nothing is loaded. ``num_batches_tracked`` counters are optional
(files saved before PyTorch 0.4.1 lack them; they do not affect inference). A classifier is only loaded into a
model that has one with the same number of identities; retrieval models have none.
"""

from __future__ import annotations

import pickle
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.errors import CheckpointError, first_line
from reid.models.backbone import guess_arch
from reid.models.embedder import ReIDModel

_WRAPPERS = ("module.", "_orig_mod.")  # DataParallel / DDP, torch.compile
_CONTAINERS = ("state_dict", "model", "net", "network", "model_state_dict")  # where trainers put the weights
_BACKBONE_ATTRS = ("backbone.", "base.", "encoder.", "body.", "trunk.")  # the backbone's name in re-ID models
_COUNTER = "num_batches_tracked"
_NECK = re.compile(r"(?:heads?\.)?(?:bottleneck|bnneck|neck|feat_bn)(?:\.0)?\."
                   r"(weight|bias|running_mean|running_var|num_batches_tracked)")
_CLASSIFIERS = {"classifier", "fc", "heads", "head", "heads.classifier", "head.classifier", "last_linear"}


@dataclass
class ImportReport:
    """What ``import_state_dict`` did. ``loaded``: (source key, target key); ``skipped``: (source key, reason);
    ``missing``: target keys left at their initial values (``num_batches_tracked`` not counted)."""

    source: str
    arch: str
    loaded: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the user: counts, skipped keys grouped by reason, missing keys."""
        parts = Counter(target.split(".")[0] for _, target in self.loaded)
        where = ", ".join(f"{name} {n}" for name, n in parts.items())
        lines = [f"{self.source} -> {self.arch}: loaded {len(self.loaded)} tensors ({where}), "
                 f"skipped {len(self.skipped)}, left at initial values {len(self.missing)}"]
        by_reason: dict[str, list[str]] = {}
        for key, reason in self.skipped:
            by_reason.setdefault(reason, []).append(key)
        for reason, keys in by_reason.items():
            lines.append(f"  skipped {_short(keys)}: {reason}")
        if self.missing:
            lines.append(f"  left at initial values: {_short(self.missing)}")
        return "\n".join(lines)


def _short(keys: list[str], limit: int = 6) -> str:
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def _unwrap(key: str) -> str:
    while key.startswith(_WRAPPERS):
        key = key.removeprefix("module.").removeprefix("_orig_mod.")
    return key


def _backbone_prefix(keys: list[str], names: set[str]) -> str | None:
    """The prefix under which most source keys end in one of our backbone's names (shortest on a tie)."""
    votes: Counter[str] = Counter()
    for key in keys:
        parts = key.split(".")
        for i in range(len(parts)):
            if ".".join(parts[i:]) in names:
                votes[".".join(parts[:i]) + ("." if i else "")] += 1
                break
    if not votes:
        return None
    return min(votes, key=lambda p: (-votes[p], len(p)))


def _head_target(rel: str, value: torch.Tensor, model: ReIDModel, target: Mapping[str, torch.Tensor]
                 ) -> tuple[str | None, str]:
    """Where a key outside the backbone goes: ``(target key, "")`` or ``(None, reason it is skipped)``."""
    name = rel.rsplit(".", 1)[-1]
    if name in ("pixel_mean", "pixel_std"):
        values = " ".join(f"{v:.3g}" for v in value.flatten().tolist())
        return None, f"input normalisation of the source ({name} {values} on a 0-255 scale); divide by 255 " \
                     f"and pass it with --mean/--std if it is not ImageNet's"
    if m := _NECK.fullmatch(rel):
        key = f"bnneck.{m.group(1)}"
        if key in target:
            return key, ""
        return None, "the source's BNNeck; this model has none (built with --no-bnneck)"
    module, _, param = rel.rpartition(".")
    if module in _CLASSIFIERS and param in ("weight", "bias") and value.ndim in (1, 2):
        n = int(value.shape[0])
        what = "ImageNet classifier (1000 classes)" if module == "fc" and n == 1000 else \
            f"classifier of {n} training identities"
        if model.classifier is None:
            return None, f"{what} — not used for retrieval"
        if param == "bias":
            return None, f"{what}: bias (ours has none)"
        if n != model.num_classes:
            return None, f"{what} — this model's has {model.num_classes}"
        return "classifier.weight", ""
    if rel.startswith("fc."):
        return None, "embedding layer after pooling (torchreid resnet50_fc512: Linear + BN + ReLU) — no " \
                     "counterpart; the pooled backbone feature is used"
    if rel in target and not rel.startswith("backbone."):
        return rel, ""  # this project's own names: reduce.weight, pool.p, ...
    return None, f"no counterpart in {model.arch} ReIDModel"


def import_state_dict(model: ReIDModel, state: Mapping[str, torch.Tensor], source: str = "state dict"
                      ) -> ImportReport:
    """Copy the tensors of ``state`` (another project's state dict) that fit ``model``; report the rest.

    Raises ``CheckpointError`` (one line naming ``source``) when not every backbone tensor of ``model`` finds a
    tensor of the same name and shape, or the source's backbone has tensors ours has no place for; ``model`` is
    then left unchanged.
    """
    target = model.state_dict()
    ours = {k.removeprefix("backbone."): v for k, v in target.items() if k.startswith("backbone.")}
    originals = {_unwrap(k): k for k in state}
    values = {_unwrap(k): v for k, v in state.items()}
    prefix = _backbone_prefix(list(values), set(ours))
    if prefix is None:
        first = sorted({k.split(".")[0] for k in values})[:8]
        raise CheckpointError(f"{source}: no {model.arch} backbone keys (conv1.weight, layer1.0.* ...) in it; "
                              f"its keys start with {', '.join(first) or 'nothing'}")
    outer = next((prefix.removesuffix(a) for a in _BACKBONE_ATTRS if prefix.endswith(a)), prefix)
    top = {k.split(".")[0] for k in ours}
    report = ImportReport(source, model.arch)
    mapped: dict[str, torch.Tensor] = {}
    extra: list[str] = []
    for key, value in values.items():
        rel = key.removeprefix(prefix)
        in_backbone = key.startswith(prefix) and (prefix != "" or rel.split(".")[0] in top)
        head = not in_backbone or rel.split(".")[0] in ("fc", "classifier")  # a whole torchvision net's fc
        dest: str | None
        if head:
            dest, reason = _head_target(rel if in_backbone else key.removeprefix(outer), value, model, target)
        else:
            dest = f"backbone.{rel}"
            dest, reason = (dest, "") if dest in target else (None, f"no counterpart in {model.arch}")
        if dest is None and not head:
            extra.append(originals[key])
        if dest is not None and tuple(value.shape) != (want := tuple(target[dest].shape)):
            dest, reason = None, f"shape {tuple(value.shape)} vs ours {want}"
        if dest is None:
            report.skipped.append((originals[key], reason))
            continue
        mapped[dest] = value
        report.loaded.append((originals[key], dest))

    required = [k for k in ours if not k.endswith(_COUNTER)]
    matched = sum(f"backbone.{k}" in mapped for k in required)
    if matched < len(required) or extra:
        backbone_state = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
        looks = guess_arch(backbone_state)
        if looks != model.arch and not looks.startswith("an unknown"):
            hint = f"is it a {looks} checkpoint?"
        elif extra:
            hint = f"an IBN, non-local or SE variant? (e.g. {extra[0]})"
        elif looks.startswith("an unknown"):
            hint = "its backbone has another layout."
        else:
            hint = f"it looks like {looks} but its shapes differ."
        count = f"{matched} of {len(required)} {model.arch} backbone tensors matched by name and shape" \
            if matched < len(required) else \
            f"all {matched} {model.arch} backbone tensors matched, but {len(extra)} more have no place in it"
        raise CheckpointError(f"{source}: {count} — {hint} Nothing was loaded")
    model.load_state_dict(mapped, strict=False)  # copy_ casts float16/float64 sources to our dtype
    report.missing = [k for k in target if k not in mapped and not k.endswith(_COUNTER)]
    return report


def source_has_bnneck(state: Mapping[str, torch.Tensor]) -> bool:
    """Whether ``state`` holds a BNNeck (``bottleneck.*`` of reid-strong-baseline / fast-reid, our ``bnneck.*``)."""
    return any(re.search(r"(?:^|\.)(?:bottleneck|bnneck|neck|feat_bn)(?:\.0)?\.running_var$", k) for k in state)


# ---------------------------------------------------------------------------------------------- reading files


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
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL (\S+) was not", str(exc)) or re.search(r"but got <class '([^']+)'>", str(exc))
        if found:
            raise CheckpointError(
                f"{path}: holds a pickled {found.group(1)} object, which a safe load (weights_only) refuses; if "
                f"you trust the file, re-save just its state dict with torch.save(model.state_dict(), ...)"
            ) from exc
        raise CheckpointError(f"{path}: truncated, corrupt or not a PyTorch file ({first_line(exc)})") from exc
    except Exception as exc:  # zip errors, EOF, plain text ...
        raise CheckpointError(f"{path}: truncated, corrupt or not a PyTorch file ({first_line(exc)})") from exc
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
