"""pairwise_distance (torch) and its numpy twin against a brute-force double loop."""

import numpy as np
import pytest
import torch

from reid.losses import cosine_distance, pairwise_distance
from reid.losses.distances import cosine_distance_numpy, pairwise_distance_numpy


def brute(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.stack([((a - b) ** 2).sum().sqrt() for b in y]) for a in x])


def test_matches_brute_force_cross_and_self() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 5, generator=g, dtype=torch.float64)
    y = torch.randn(4, 5, generator=g, dtype=torch.float64)
    torch.testing.assert_close(pairwise_distance(x, y), brute(x, y))
    torch.testing.assert_close(pairwise_distance(x, y, squared=True), brute(x, y) ** 2)
    d = pairwise_distance(x)
    torch.testing.assert_close(d, brute(x, x))
    assert torch.equal(d.diagonal(), torch.zeros(6, dtype=torch.float64))  # exact, not ~1e-8
    assert torch.equal(pairwise_distance(x, x).diagonal(), torch.zeros(6, dtype=torch.float64))


def test_gradient_is_finite_at_zero_distance() -> None:
    x = torch.ones(4, 3, requires_grad=True)  # every pair at distance 0
    d = pairwise_distance(x)
    d.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.equal(d, torch.zeros(4, 4))


def test_gradient_matches_brute_force() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 5, generator=g, dtype=torch.float64)
    (gx,) = torch.autograd.grad((pairwise_distance(x) * w).sum(), x)
    # off-diagonal pairs only: the brute-force sqrt has a NaN gradient at the diagonal's 0
    total = sum(w[i, j] * ((x[i] - x[j]) ** 2).sum().sqrt() for i in range(5) for j in range(5) if i != j)
    (gb,) = torch.autograd.grad(total, x)
    torch.testing.assert_close(gx, gb)


def test_numpy_twin_agrees() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 4)), rng.normal(size=(3, 4))
    expect = pairwise_distance(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(pairwise_distance_numpy(x, y), expect, rtol=1e-12)
    np.testing.assert_allclose(pairwise_distance_numpy(x, y, squared=True), expect**2, rtol=1e-12)
    self_d = pairwise_distance_numpy(x.astype(np.float32))
    assert self_d.dtype == np.float32 and np.all(np.diag(self_d) == 0)


def test_cosine() -> None:
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    expect = torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    torch.testing.assert_close(cosine_distance(x), expect)
    np.testing.assert_allclose(cosine_distance_numpy(x.numpy()), expect.numpy(), atol=1e-6)


def test_bad_shapes() -> None:
    with pytest.raises(ValueError, match="pairwise_distance"):
        pairwise_distance(torch.zeros(3, 2), torch.zeros(3, 4))
