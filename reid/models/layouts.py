"""Which project wrote a re-ID state dict, and what that says about the layers that have no weights.

Two checkpoints with the same tensors can compute different features: the ResNet stem's max-pool and ReLU,
the stride of ``layer4`` and a parameter-free pooling leave no trace in a state dict. Each project builds them
one way, so the key layout (the names only that project writes) fixes them. Read from the projects' code
(docs/import-weights.md has the whole table):

- torchreid 0.2.5 ``resnet50`` (bare torchvision names, ``classifier.*``): torchvision stem, last stride 2
  (``resnet50()`` fixes it), retrieves with the pooled feature.
- reid-strong-baseline (``base.*``, ``bottleneck.*``): stem without ReLU (``# add missed relu``, commented out),
  last stride 1 (config default), retrieves after the BNNeck with ``TEST.NECK_FEAT 'after'`` (default), before
  it with ``'before'`` (``--no-bnneck``).
- fast-reid (``backbone.*``, ``heads.*``): last stride 1 (every shipped config), retrieves after the BNNeck
  whatever ``MODEL.HEADS.NECK_FEAT`` says (the head's eval-mode forward; that setting only picks the triplet
  loss's feature). Its stem changed on 2020-11-06 (commit 42cadae, released in v1.0.0) from torchvision's
  max-pool to ``MaxPool2d(3, 2, ceil_mode=True)`` without padding. The head's keys date the file:
  ``heads.weight`` (from 2021-03-30, v1.3.0 on): the new stem; ``heads.bnneck.*`` (``BNneckHead``, until
  2020-09-01): the old one; ``heads.bottleneck.*`` with ``heads.classifier.weight`` (2020-09-01 to 2021-03-30)
  spans the change, so the stem must be said (``--stem``).

fast-reid's head may also hold a GeM exponent (``heads.pool_layer.p``: ``GeneralizedMeanPoolingP``) and a
1x1 reduction convolution before its BNNeck (``heads.bottleneck.0.weight`` of 4 dimensions, ``EMBEDDING_DIM``);
both are read from the file. A layout not in this list gives ``stem=None``: the caller must say which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch

_STEM_KEYS = ("conv1.weight", "features.0.0.weight")  # ResNet, MobileNetV2 first convolution
_NECK_BN = re.compile(r"(?:heads?\.)?(?:bottleneck|bnneck|neck|feat_bn)(?:\.\d)?\.running_var")
NECK_CONV = "heads.bottleneck.0.weight"  # fast-reid: Conv2d(feat_dim, EMBEDDING_DIM, 1) when EMBEDDING_DIM > 0
GEM_P = re.compile(r"(?:heads?\.)?pool(?:_layer)?\.p")


@dataclass(frozen=True)
class SourceLayout:
    """What a state dict's key layout says about the model that wrote it.

    ``project``: "torchreid / torchvision", "reid-strong-baseline", "fast-reid", or "" when not recognised.
    ``stem``: that project's ResNet stem (a key of ``STEMS``), None when the layout does not tell.
    ``last_stride``: that project's default stride of ``layer4`` (not stored in weights), None when unknown.
    ``bnneck``, ``pooling`` ("avg" | "gem"), ``embedding_dim`` (0 = no reduction): read from its head tensors.
    ``mean``, ``std``: fast-reid's ``pixel_mean`` / ``pixel_std`` divided by 255, when the file holds them.
    ``prefix``: where its backbone's keys start (``""``, ``"base."``, ``"backbone."`` ...), None if not found.
    ``why_unknown``: when ``stem`` is None for a recognised project, why the layout cannot tell.
    """

    project: str
    stem: str | None
    last_stride: int | None
    bnneck: bool
    pooling: str
    embedding_dim: int
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    prefix: str | None = None
    why_unknown: str = ""

    @property
    def bnneck_is_retrieval_feature(self) -> bool:
        """Whether the source retrieves with its BNNeck output no matter how it was configured (fast-reid)."""
        return self.project == "fast-reid" and self.bnneck


def _unwrap(key: str) -> str:
    while key.startswith(("module.", "_orig_mod.")):
        key = key.removeprefix("module.").removeprefix("_orig_mod.")
    return key


def _stem_prefix(keys: list[str]) -> str | None:
    """The shortest prefix before the first convolution's key (``base.conv1.weight`` -> ``base.``)."""
    found = [k[: -len(s)] for k in keys for s in _STEM_KEYS
             if k.endswith(s) and (k == s or k[: -len(s)].endswith(".")) and "layer" not in k]
    return min(found, key=len) if found else None


def _pixel(state: Mapping[str, torch.Tensor], name: str) -> tuple[float, float, float] | None:
    value = state.get(name)
    if value is None or value.numel() != 3:
        return None
    a, b, c = (float(v) / 255.0 for v in value.flatten().tolist())
    return (a, b, c)


def describe_source(state: Mapping[str, torch.Tensor]) -> SourceLayout:
    """Recognise the project that wrote ``state`` from its key names (``module.`` wrappers ignored)."""
    state = {_unwrap(k): v for k, v in state.items()}
    keys = list(state)
    prefix = _stem_prefix(keys)
    conv = state.get(NECK_CONV)
    found = SourceLayout(
        project="", stem=None, last_stride=None, bnneck=any(_NECK_BN.fullmatch(k) for k in keys),
        pooling="gem" if any(GEM_P.fullmatch(k) for k in keys) else "avg",
        embedding_dim=int(conv.shape[0]) if conv is not None and conv.ndim == 4 else 0, prefix=prefix,
    )
    if prefix == "backbone." and any(k.startswith("heads.") for k in keys):
        fast = replace(found, project="fast-reid", last_stride=1, mean=_pixel(state, "pixel_mean"),
                       std=_pixel(state, "pixel_std"))
        if "heads.weight" in state:  # EmbeddingHead from 2021-03-30 (v1.3.0 on)
            return replace(fast, stem="fastreid")
        if any(k.startswith("heads.bnneck.") for k in keys):  # BNneckHead, until 2020-09-01
            return replace(fast, stem="torchvision")
        return replace(fast, why_unknown="its heads.classifier.* head was written between 2020-09-01 and "
                       "2021-03-30, and fast-reid's stem max-pool changed on 2020-11-06 (commit 42cadae, in "
                       "v1.0.0) to ceil_mode=True without padding: pass --stem fastreid if it was trained with "
                       "v1.0.0 or later, --stem torchvision if before")
    if prefix == "base.":
        return replace(found, project="reid-strong-baseline", stem="strong_baseline", last_stride=1)
    if prefix == "" and not found.bnneck:
        return replace(found, project="torchreid / torchvision", stem="torchvision", last_stride=2)
    return found
