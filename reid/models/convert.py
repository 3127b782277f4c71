"""Import re-ID weights trained elsewhere into a ``ReIDModel`` of the same architecture, with a report.

Key layouts recognised (after stripping ``module.`` of DataParallel/DDP and ``_orig_mod.`` of torch.compile):

- torchvision ResNet: ``conv1.*``, ``bn1.*``, ``layer1-4.*``; ``fc.*`` = ImageNet classifier (skipped).
- torchreid ``resnet50``: the same backbone names; ``classifier.*`` = identity classifier (skipped); the
  ``fc.*`` embedding layer of ``resnet50_fc512`` (Linear + BN + ReLU) is part of its feature and has no
  counterpart here: refused.
- reid-strong-baseline: ``base.*`` backbone, ``bottleneck.*`` BNNeck (loaded), ``classifier.weight``.
- fast-reid: ``backbone.*``, ``heads.bottleneck.0.*`` BNNeck (loaded; ``.1.`` after a 1x1 reduction
  convolution ``heads.bottleneck.0.weight``, loaded as ``reduce.weight``), ``heads.pool_layer.p`` GeM exponent
  (loaded as ``pool.p``), ``heads.weight``, ``pixel_mean/std``.
- this project: ``backbone.*``, ``bnneck.*``, ``classifier.weight``.

The weights alone do not fix the model: the ResNet stem, the last stride and parameter-free pooling differ
between projects without a tensor to show it. ``reid.models.layouts.describe_source`` tells the project from
the key layout; the target model must have been built with that project's stem (``ModelConfig.stem``), GeM
when the source has a GeM exponent and the same reduction, or the import is refused.

The backbone's prefix is found by matching key suffixes against our backbone's torchvision names, so other
wrappers (``model.backbone.``, ``encoder.`` ...) work too, given a ``SourceLayout`` that names their stem.
Every backbone tensor must load (name and shape), no tensor inside the source's backbone may be left over
(IBN, non-local or SE variants have such tensors), and no tensor of the head may be left out unless it is a
classifier, the input normalisation or a BNNeck the caller chose not to use (``bnneck=False``): otherwise the
features could not match and nothing is loaded. ``num_batches_tracked`` counters are optional
(files saved before PyTorch 0.4.1 lack them; they do not affect inference). A classifier is only loaded into a
model that has one with the same number of identities; retrieval models have none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from reid.errors import CheckpointError
from reid.models.backbone import STEMS, guess_arch
from reid.models.embedder import GeM, ReIDModel
from reid.models.layouts import GEM_P, NECK_CONV, SourceLayout, describe_source

_WRAPPERS = ("module.", "_orig_mod.")  # DataParallel / DDP, torch.compile
_BACKBONE_ATTRS = ("backbone.", "base.", "encoder.", "body.", "trunk.")  # the backbone's name in re-ID models
_COUNTER = "num_batches_tracked"
_NECK = re.compile(r"(?:heads?\.)?(?:bottleneck|bnneck|neck|feat_bn)(?:\.\d)?\."
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
                 ) -> tuple[str | None, str, bool]:
    """Where a key outside the backbone goes: ``(target key, "", True)`` or ``(None, why it is skipped, whether
    skipping it leaves the retrieval feature as the source computes it)``."""
    name = rel.rsplit(".", 1)[-1]
    if name in ("pixel_mean", "pixel_std"):
        values = " ".join(f"{v:.3g}" for v in value.flatten().tolist())
        return None, f"input normalisation of the source ({name} {values} on a 0-255 scale), used as " \
                     f"--mean/--std divided by 255", True
    if rel == NECK_CONV and value.ndim == 4:
        if "reduce.weight" in target:
            return "reduce.weight", "", True
        return None, f"the source's {value.shape[0]}-d reduction before its BNNeck; this model has none " \
                     f"(build it with embedding_dim={value.shape[0]})", False
    if GEM_P.fullmatch(rel):
        if "pool.p" in target:
            return "pool.p", "", True
        return None, "the source's GeM exponent; this model pools by average (build it with pooling='gem')", False
    if m := _NECK.fullmatch(rel):
        key = f"bnneck.{m.group(1)}"
        if key in target:
            return key, "", True
        return None, "the source's BNNeck; this model has none (built with --no-bnneck)", True
    module, _, param = rel.rpartition(".")
    if module in _CLASSIFIERS and param in ("weight", "bias") and value.ndim in (1, 2):
        n = int(value.shape[0])
        what = "ImageNet classifier (1000 classes)" if module == "fc" and n == 1000 else \
            f"classifier of {n} training identities"
        if model.classifier is None:
            return None, f"{what} — not used for retrieval", True
        if param == "bias":
            return None, f"{what}: bias (ours has none)", True
        if n != model.num_classes:
            return None, f"{what} — this model's has {model.num_classes}", True
        return "classifier.weight", "", True
    if rel.startswith("fc."):
        return None, "embedding layer after pooling (torchreid resnet50_fc512: Linear + BN + ReLU), part of its " \
                     "feature, with no counterpart here", False
    if rel in target and not rel.startswith("backbone."):
        return rel, "", True  # this project's own names: reduce.weight, pool.p, ...
    return None, f"no counterpart in {model.arch} ReIDModel", False


def _check_model_fits(model: ReIDModel, layout: SourceLayout, source: str) -> None:
    """Refuse (one line) when ``model`` lacks a layer without weights that the source's features depend on."""
    stem = getattr(model.backbone, "stem", "torchvision")
    who = f"a {layout.project} checkpoint" if layout.project else "its key layout"
    if layout.stem is None and layout.why_unknown:
        raise CheckpointError(f"{source}: {who}, but {layout.why_unknown}")
    if layout.stem is None:
        where = f"under {layout.prefix!r}" if layout.prefix else "without a recognised prefix"
        raise CheckpointError(
            f"{source}: backbone {where} is not a layout of torchreid, reid-strong-baseline or fast-reid, so "
            f"its ResNet stem is unknown ({', '.join(STEMS)}); pass --stem (and --last-stride) as the code that "
            f"trained it builds its ResNet")
    if stem != layout.stem:
        raise CheckpointError(
            f"{source}: {who}, whose ResNet stem is {layout.stem!r} ({STEMS[layout.stem]}); this model was "
            f"built with stem {stem!r}, so its features would differ; build it with stem={layout.stem!r}")
    if layout.bnneck_is_retrieval_feature and not isinstance(model.bnneck, nn.BatchNorm1d):
        raise CheckpointError(f"{source}: {who}: fast-reid retrieves with the output of its BNNeck whatever "
                              f"MODEL.HEADS.NECK_FEAT says; this model has none, so its features would differ")
    if layout.pooling == "gem" and not isinstance(model.pool, GeM):
        raise CheckpointError(f"{source}: {who} pooling with GeM (a learned exponent); this model pools by "
                              f"average; build it with pooling='gem'")


def import_state_dict(model: ReIDModel, state: Mapping[str, torch.Tensor], source: str = "state dict",
                      layout: SourceLayout | None = None) -> ImportReport:
    """Copy the tensors of ``state`` (another project's state dict) that fit ``model``; report the rest.

    ``layout`` (default: ``describe_source(state)``) says which project wrote it, hence which stem and pooling
    ``model`` must have been built with. Raises ``CheckpointError`` (one line naming ``source``) when the stem
    or pooling differ, when not every backbone tensor of ``model`` finds a tensor of the same name and shape,
    when the source's backbone has tensors ours has no place for, or when a head tensor its feature depends
    on has no place here (a reduction, a GeM exponent, torchreid's fc512 layer); ``model`` is then left
    unchanged.
    """
    layout = describe_source(state) if layout is None else layout
    _check_model_fits(model, layout, source)
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
    blocking: list[tuple[str, str]] = []
    for key, value in values.items():
        rel = key.removeprefix(prefix)
        in_backbone = key.startswith(prefix) and (prefix != "" or rel.split(".")[0] in top)
        head = not in_backbone or rel.split(".")[0] in ("fc", "classifier")  # a whole torchvision net's fc
        dest: str | None
        if head:
            dest, reason, harmless = _head_target(rel if in_backbone else key.removeprefix(outer), value, model,
                                                  target)
        else:
            dest = f"backbone.{rel}"
            dest, reason, harmless = (dest, "", True) if dest in target else \
                (None, f"no counterpart in {model.arch}", True)  # counted in ``extra``
        if dest is None and not head:
            extra.append(originals[key])
        if dest is not None and value.numel() == target[dest].numel() and value.ndim == 4 == target[dest].ndim + 2:
            value = value.reshape(target[dest].shape)  # a 1x1 convolution on the pooled feature = a Linear
        if dest is not None and tuple(value.shape) != (want := tuple(target[dest].shape)):
            dest, reason, harmless = None, f"shape {tuple(value.shape)} vs ours {want}", not head
        if dest is None:
            report.skipped.append((originals[key], reason))
            if not harmless:
                blocking.append((originals[key], reason))
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
    if blocking:
        more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
        key, reason = blocking[0]
        raise CheckpointError(f"{source}: {key}{more}: {reason}; the features could not match. Nothing was loaded")
    model.load_state_dict(mapped, strict=False)  # copy_ casts float16/float64 sources to our dtype
    report.missing = [k for k in target if k not in mapped and not k.endswith(_COUNTER)]
    return report
