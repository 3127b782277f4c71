"""Feature extraction and query/gallery evaluation of a model (Market-1501 protocol via reid.metrics)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reid.data import load_images, normalize
from reid.engine.checkpoint import EmbedderMeta
from reid.losses import pairwise_distance
from reid.metrics import evaluate_rank, re_ranking

log = logging.getLogger(__name__)

RANKS = (1, 5, 10, 20)


@torch.no_grad()
def extract_features(
    model: nn.Module,
    images: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device,
    batch: int = 256,
    flip: bool = False,
) -> torch.Tensor:
    """Embed ``images`` (N, 3, H, W) uint8 at the model's input size -> (N, D) float32, L2-normalised, on CPU.

    Runs in eval mode without gradients (the model's mode is restored afterwards), float16 autocast on CUDA.
    ``flip=True`` adds the horizontally flipped image's feature before normalising.
    """
    was_training = model.training
    model.eval()
    cuda = device.type == "cuda"
    out: list[torch.Tensor] = []
    try:
        for start in range(0, len(images), batch):
            x = normalize(images[start:start + batch].to(device, non_blocking=True), mean, std)
            if cuda:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.float16, enabled=cuda):
                f = model(x).float()
                if flip:
                    f = f + model(x.flip(3)).float()
            out.append(F.normalize(f, dim=1).cpu())
    finally:
        model.train(was_training)
    if not out:
        return torch.empty(0, int(getattr(model, "embedding_dim", 0)))
    return torch.cat(out)


def load_eval_images(dataset: Any, height: int, width: int, progress: bool = True
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode the query and gallery images once: two uint8 tensors (N, 3, height, width) on CPU."""
    query = load_images([s.path for s in dataset.query], height, width, progress=progress)
    gallery = load_images([s.path for s in dataset.gallery], height, width, progress=progress)
    return query, gallery


def _summary(cmc: np.ndarray, mAP: float, suffix: str = "") -> dict[str, Any]:
    cmc = np.asarray(cmc, dtype=np.float64)
    row: dict[str, Any] = {f"cmc{suffix}": cmc, f"mAP{suffix}": float(mAP)}
    for r in RANKS:
        row[f"rank{r}{suffix}"] = float(cmc[min(r, len(cmc)) - 1]) if len(cmc) else 0.0
    return row


def evaluate_model(
    model: nn.Module,
    dataset: Any,
    meta: EmbedderMeta,
    device: torch.device,
    rerank: bool = False,
    *,
    images: tuple[torch.Tensor, torch.Tensor] | None = None,
    flip: bool = False,
    batch: int = 256,
    return_distmat: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Rank the gallery for every query and score it (Market-1501 protocol, see ``reid.metrics.evaluate_rank``).

    ``images``: pre-decoded ``(query, gallery)`` uint8 tensors, to avoid decoding again at every evaluation.
    Returns ``cmc`` (np array), ``mAP``, ``rank1/5/10/20`` (fractions 0..1); with ``rerank`` also the same keys
    suffixed ``_rerank`` (k-reciprocal re-ranking, Zhong et al. 2017); with ``return_distmat`` the
    (num_query, num_gallery) ``distmat`` (re-ranked when ``rerank``) used for retrieval pictures and
    ``distmat_plain``, the embedding distances (the same as ``distmat`` without ``rerank``).
    """
    if images is None:
        images = load_eval_images(dataset, meta.height, meta.width, progress=progress)
    q_images, g_images = images
    qf = extract_features(model, q_images, meta.mean, meta.std, device, batch=batch, flip=flip)
    gf = extract_features(model, g_images, meta.mean, meta.std, device, batch=batch, flip=flip)
    q_pids = np.asarray([s.pid for s in dataset.query])
    g_pids = np.asarray([s.pid for s in dataset.gallery])
    q_camids = np.asarray([s.camid for s in dataset.query])
    g_camids = np.asarray([s.camid for s in dataset.gallery])
    qd, gd = qf.to(device), gf.to(device)  # distances where the model ran (fast on a GPU)
    distmat = pairwise_distance(qd, gd).cpu().numpy()
    cmc, mAP = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids)
    result = _summary(cmc, mAP)
    if return_distmat:
        result["distmat_plain"] = distmat
    if rerank:
        q_q = pairwise_distance(qd).cpu().numpy()
        g_g = pairwise_distance(gd).cpu().numpy()
        distmat = np.asarray(re_ranking(distmat, q_q, g_g))
        result.update(_summary(*evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids), suffix="_rerank"))
    if return_distmat:
        result["distmat"] = distmat
    return result
