"""One embedder interface for every runtime: BGR crops -> (N, D) float32 L2-normalised features.

- ``CheckpointEmbedder``: a ``reid train`` checkpoint (``.pt``) through ``reid.models.inference`` (nothing of the
  trainer), and ``OnnxEmbedder``: its ONNX export (``.onnx``) through onnxruntime; crops are resized to the
  model's input size, converted to RGB, normalised with its mean/std and run in batches (no_grad; autocast on
  CUDA).
- ``HandcraftedEmbedder`` (``reid.video.handcrafted``): striped colour/texture histograms, no weights.

``EMBEDDERS`` maps each runtime's name to its builder; ``make_embedder`` picks one from ``EmbedConfig`` (no
weights: hand-crafted; else by the weights' file type, ``FILE_TYPES``) and says which in one log line; ``embed_tracklets``
embeds the best crops of many tracklets (of all cameras) in one call and stores each tracklet's
quality-weighted mean embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import torch

from reid.config import EmbedConfig
from reid.errors import CheckpointError
from reid.registry import Registry
from reid.video.handcrafted import HandcraftedEmbedder
from reid.video.types import Tracklet

__all__ = ["EMBEDDERS", "CheckpointEmbedder", "Embedder", "HandcraftedEmbedder", "OnnxEmbedder", "embed_tracklets",
           "embedder_kind", "make_embedder", "tracklet_embedding"]

log = logging.getLogger(__name__)

ONNX_HINT = 'pip install -e ".[onnx]"'


@runtime_checkable
class Embedder(Protocol):
    """``embed(crops)``: list of (h, w, 3) uint8 BGR crops -> (N, dim) float32, rows L2-normalised;
    an empty list gives (0, dim)."""

    name: str
    dim: int

    def embed(self, crops: list[np.ndarray]) -> np.ndarray: ...


def _to_batch(crops: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """BGR crops of any size -> (B, 3, height, width) uint8 RGB."""
    out = np.empty((len(crops), height, width, 3), np.uint8)
    for k, c in enumerate(crops):
        out[k] = cv2.resize(np.ascontiguousarray(c), (width, height), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
    return out.transpose(0, 3, 1, 2)


def _l2(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class CheckpointEmbedder:
    """A trained re-ID model run with PyTorch. ``path``: a ``reid train`` checkpoint (``.pt``)."""

    def __init__(self, path: str | Path, device: torch.device | str = "cpu", batch: int = 64) -> None:
        path = Path(path)
        self.batch = max(1, int(batch))
        self.device = torch.device(device)
        from reid.models.inference import load_embedder

        self.model, self.meta = load_embedder(path, self.device)
        self.link_threshold = self.meta.link_threshold  # the pipeline's fallback when the site cannot calibrate
        self.name = f"{self.meta.arch}:{path.name}"
        self.dim = int(self.meta.embedding_dim)

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        from reid.data.augment import normalize

        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        cuda = self.device.type == "cuda"
        with torch.no_grad(), torch.autocast("cuda", enabled=cuda):
            for s in range(0, len(crops), self.batch):
                x = torch.from_numpy(_to_batch(crops[s:s + self.batch], self.meta.height, self.meta.width))
                x = normalize(x.to(self.device, non_blocking=True), self.meta.mean, self.meta.std)
                if cuda:
                    x = x.contiguous(memory_format=torch.channels_last)
                out.append(self.model(x).float().cpu().numpy())
        return _l2(np.concatenate(out))


class OnnxEmbedder:
    """An ONNX export of a re-ID model run with onnxruntime (input size and normalisation from the file's
    ``reid.*`` metadata, written by ``reid.engine.onnx_export``)."""

    def __init__(self, path: str | Path, device: torch.device | str = "cpu", batch: int = 64) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise CheckpointError(f"{path}: running an ONNX model needs onnxruntime: {ONNX_HINT}") from None
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: not found")
        providers = ["CPUExecutionProvider"]
        if torch.device(device).type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise CheckpointError(f"{path}: not a usable ONNX model ({type(exc).__name__})") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        try:
            self.height = int(meta.get("reid.height") or inp.shape[2])
            self.width = int(meta.get("reid.width") or inp.shape[3])
            self.mean = tuple(float(v) for v in meta.get("reid.mean", "0.485,0.456,0.406").split(","))
            self.std = tuple(float(v) for v in meta.get("reid.std", "0.229,0.224,0.225").split(","))
        except (TypeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"{path}: no input size in its metadata or input shape ({exc})") from exc
        if "reid.mean" not in meta:
            log.warning("%s: no reid.* metadata; assuming ImageNet mean/std", path)
        out_dim = self.session.get_outputs()[0].shape[-1]
        self.dim = int(meta.get("reid.embedding_dim") or out_dim)
        self.batch = max(1, int(batch))
        self.name = f"onnx:{path.name}"

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        mean = np.array(self.mean, np.float32).reshape(1, 3, 1, 1)
        std = np.array(self.std, np.float32).reshape(1, 3, 1, 1)
        out = []
        for s in range(0, len(crops), self.batch):
            x = (_to_batch(crops[s:s + self.batch], self.height, self.width).astype(np.float32) / 255.0 - mean) / std
            out.append(self.session.run(None, {self.input_name: x})[0])
        return _l2(np.concatenate(out).astype(np.float32))


EmbedderBuilder = Callable[[Path, torch.device, int], Embedder]  # (weights file, device, batch) -> embedder
EMBEDDERS: Registry[EmbedderBuilder] = Registry("embedder")
EMBEDDERS.add("handcrafted", lambda weights, device, batch: HandcraftedEmbedder())
EMBEDDERS.add("checkpoint", CheckpointEmbedder)
EMBEDDERS.add("onnx", OnnxEmbedder)
FILE_TYPES = {".onnx": "onnx"}  # weights suffix -> runtime; any other file is a reid checkpoint (its loader checks)


def embedder_kind(weights: str | Path | None) -> str:
    """The ``EMBEDDERS`` entry that runs ``weights``: ``handcrafted`` without any, else by file type."""
    return FILE_TYPES.get(Path(weights).suffix.lower(), "checkpoint") if weights else "handcrafted"


def make_embedder(cfg: EmbedConfig, device: torch.device | str = "cpu") -> Embedder:
    """The embedder ``cfg`` asks for: ``cfg.weights`` (.pt or .onnx) or, when None, the hand-crafted one.

    Logs one line saying which is used. Raises ``CheckpointError`` for a missing or unusable weights file.
    """
    kind = embedder_kind(cfg.weights)
    if kind == "handcrafted":
        log.info("no --weights given; using the hand-crafted colour/texture descriptor (training-free baseline)")
        return EMBEDDERS.get(kind)(Path(), torch.device(device), cfg.batch)
    path = Path(str(cfg.weights))
    if not path.is_file():
        raise CheckpointError(f"{path}: re-ID weights not found (put checkpoints in models/ or pass --weights)")
    embedder = EMBEDDERS.get(kind)(path, torch.device(device), cfg.batch)
    log.info("embedding crops with %s (%d-d) on %s", embedder.name, embedder.dim, torch.device(device))
    return embedder


def tracklet_embedding(embs: np.ndarray, qualities: np.ndarray | None = None) -> np.ndarray:
    """Quality-weighted mean of a tracklet's crop embeddings, L2-normalised.

    ``embs``: (n, D) float32; ``qualities``: (n,) >= 0 (None or all zero: plain mean). Returns (D,) float32.
    """
    embs = np.asarray(embs, np.float32)
    if embs.ndim != 2 or len(embs) == 0:
        raise ValueError(f"tracklet_embedding needs (n, D) embeddings with n >= 1, got shape {embs.shape}")
    w = np.ones(len(embs), np.float32) if qualities is None else np.clip(np.asarray(qualities, np.float32), 0, None)
    if w.shape != (len(embs),):
        raise ValueError(f"qualities shape {w.shape} does not match {len(embs)} embeddings")
    if w.sum() <= 0:
        w = np.ones_like(w)
    mean = (w[:, None] * embs).sum(0) / w.sum()
    return _l2(mean[None])[0]


EMBED_CHUNK = 256  # crops per embed call: batches across tracklets, bounds the temporaries of one call


def embed_tracklets(tracklets: Sequence[Tracklet], embedder: Embedder) -> None:
    """Embed the crops of all ``tracklets`` in chunks of ``EMBED_CHUNK`` crops and set each
    ``tracklet.embedding`` (D,) to the quality-weighted mean; tracklets without crops keep None."""
    crops = [c for t in tracklets for c in t.crops]
    if not crops:
        return
    embs = np.concatenate([embedder.embed([c.image for c in crops[s : s + EMBED_CHUNK]])
                           for s in range(0, len(crops), EMBED_CHUNK)])
    start = 0
    for t in tracklets:
        n = len(t.crops)
        if n:
            t.embedding = tracklet_embedding(embs[start:start + n], np.array([c.quality for c in t.crops]))
        start += n
