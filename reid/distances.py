"""Euclidean and cosine distances between embeddings on numpy arrays: the numpy half of the project's one
distance function (``reid.losses.distances`` holds the torch half, re-exports these, and shares their formula).

Here, below every package, so that code which must not load torch (``reid.store``, ``gui``) measures distances
as the linker and the evaluation do: nothing but numpy is imported.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EPS", "cosine_distance_numpy", "paired_distance_numpy", "pairwise_distance_numpy"]

EPS = 1e-12  # squared distances below this are treated as zero (sqrt has an infinite slope at 0)
# numpy turns x @ x.T into BLAS syrk, which segfaults in numpy's bundled OpenBLAS 0.3.31 for float64
# at ~20k rows with several threads (measured here); blocks of rows go through gemm instead.
_ROWS = 4096


def pairwise_distance_numpy(x: np.ndarray, y: np.ndarray | None = None, squared: bool = False) -> np.ndarray:
    """Numpy twin of :func:`pairwise_distance`: (N, D) x (M, D) -> (N, M), dtype float32 or float64 as input.

    Same formula (``|x|^2 + |y|^2 - 2 x.y``, clamped at 0, zero below 1e-12); exact zero diagonal
    when ``y`` is ``None`` or ``x`` itself.
    """
    self_distance = y is None or y is x
    x = np.asarray(x)
    if x.dtype != np.float64:
        x = x.astype(np.float32, copy=False)
    other = x if self_distance else np.asarray(y, dtype=x.dtype)
    if x.ndim != 2 or other.ndim != 2 or x.shape[1] != other.shape[1]:
        raise ValueError(f"pairwise_distance_numpy needs (N, D) and (M, D) inputs, got {x.shape} and {other.shape}")
    xx = np.einsum("ij,ij->i", x, x)
    yy = xx if self_distance else np.einsum("ij,ij->i", other, other)
    d2 = np.empty((len(x), len(other)), x.dtype)
    for s in range(0, len(x), _ROWS):  # row blocks: GEMM, never numpy's x @ x.T -> syrk path (see _ROWS)
        block = d2[s: s + _ROWS]
        np.matmul(x[s: s + _ROWS], other.T, out=block)
        block *= -2.0
        block += xx[s: s + _ROWS, None]
        block += yy[None, :]
    np.maximum(d2, 0.0, out=d2)
    if self_distance:
        np.fill_diagonal(d2, 0.0)
    d2[d2 < EPS] = 0.0
    if squared:
        return d2
    return np.sqrt(d2, out=d2)


def cosine_distance_numpy(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Numpy twin of :func:`cosine_distance`: (N, D) x (M, D) -> (N, M) ``1 - cos`` in [0, 2]."""
    self_distance = y is None or y is x
    x = np.asarray(x)
    if x.dtype != np.float64:
        x = x.astype(np.float32, copy=False)
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), EPS)
    if self_distance:
        yn = xn
    else:
        other = np.asarray(y, dtype=x.dtype)
        yn = other / np.maximum(np.linalg.norm(other, axis=1, keepdims=True), EPS)
    out = 1.0 - xn @ yn.T
    return np.clip(out, 0.0, 2.0, out=out)


def paired_distance_numpy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Numpy twin of :func:`paired_distance`: (N, D) and (N, D) -> (N,) float64 ``||x_i - y_i||``, from the
    differences in float64 (so a pair's distance does not depend on which other rows came with it)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"paired_distance_numpy needs two (N, D) inputs of one shape, got {x.shape} and {y.shape}")
    out = np.empty(len(x), np.float64)
    for s in range(0, len(x), 65536):  # blocks bound the float64 copy
        d = x[s:s + 65536].astype(np.float64) - y[s:s + 65536]
        out[s:s + 65536] = np.sqrt(np.einsum("ij,ij->i", d, d))
    return out
