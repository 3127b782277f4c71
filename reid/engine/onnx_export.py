"""Export a trained embedder to ONNX (dynamic batch) with its preprocessing in the file's metadata.

The model inside takes ``(B, 3, H, W)`` float32 RGB already normalised, ``(x / 255 - mean) / std``, and
returns ``(B, D)`` L2-normalised embeddings. ``reid.video.embed`` reads the metadata keys below.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from reid.engine.checkpoint import EmbedderMeta, load_embedder
from reid.errors import CheckpointError

log = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAME = "embeddings"


def metadata(meta: EmbedderMeta) -> dict[str, str]:
    """ONNX metadata_props describing the expected input (strings, as ONNX stores them)."""
    return {
        "reid.arch": meta.arch,
        "reid.height": str(meta.height),
        "reid.width": str(meta.width),
        "reid.mean": ",".join(f"{v:.6f}" for v in meta.mean),
        "reid.std": ",".join(f"{v:.6f}" for v in meta.std),
        "reid.embedding_dim": str(meta.embedding_dim),
        "reid.input": "float32 NCHW RGB, (pixel / 255 - mean) / std; output L2-normalised (B, D)",
    }


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise CheckpointError('ONNX export needs the onnx extra: pip install -e ".[onnx]"') from None


def export_onnx(weights: str | Path, out: str | Path, opset: int = 17) -> Path:
    """Write ``weights`` (a ``reid train`` checkpoint) as an ONNX model with a dynamic batch axis."""
    _require_onnx()
    import onnx

    model, meta = load_embedder(weights, "cpu")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 3, meta.height, meta.width)
    # The TorchScript-based exporter needs no extra packages and handles this plain CNN exactly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (dummy,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    for key, value in metadata(meta).items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(proto, str(out))
    log.info(
        "wrote %s (%s, input %dx%d, %d-d embedding)",
        out,
        meta.arch,
        meta.height,
        meta.width,
        meta.embedding_dim,
    )
    return out


def parity(weights: str | Path, onnx_path: str | Path, batch: int = 4, seed: int = 0) -> float:
    """Max absolute difference between PyTorch and onnxruntime embeddings of one random batch."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise CheckpointError('checking ONNX parity needs onnxruntime: pip install -e ".[onnx]"') from None
    model, meta = load_embedder(weights, "cpu")
    x = torch.randn(batch, 3, meta.height, meta.width, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    return float(np.abs(got - expected).max())
