"""How likely a proposed link is right: a logistic fit of p(right | cost / threshold).

``link_probability(cost, threshold)`` = ``1 / (1 + exp(SLOPE (cost / threshold - MIDPOINT)))``: 0.5 where the
cost is ``MIDPOINT`` times the link threshold, falling with the cost. ``fit_link_probability`` refits it (maximum
likelihood, ``scipy.optimize``, slope kept >= 0 so p never rises with the cost); ``benchmarks/bench_probability.py``
labels the review queue's items (proposed links and suggested merges) of the tuning splits of
``examples/splits.yaml`` from their reference, fits, and checks the fit on the held-out splits
(docs/linking.md, "Link probability").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Fitted 2026-12-07 by benchmarks/bench_probability.py on the five tuning splits of examples/splits.yaml: the
# review queue of each split's fresh-install `reid process` database, 124 items (111 proposed links, 13 suggested
# merges; 91 right by the reference). Checked on the 98 items of the held-out splits: roughly calibrated in the
# middle, over-confident at the top (p 0.85 -> 0.63 right); docs/linking.md, "Link probability".
SLOPE = 3.143
MIDPOINT = 1.121
N_FIT = 124


@dataclass(frozen=True)
class LinkFit:
    """A fitted ``p = 1 / (1 + exp(slope (ratio - midpoint)))`` and the number of labelled items behind it."""

    slope: float
    midpoint: float
    n: int

    def p(self, ratio: np.ndarray) -> np.ndarray:
        """p for ``ratio`` = cost / threshold, any shape."""
        z = np.clip(self.slope * (np.asarray(ratio, np.float64) - self.midpoint), -700.0, 700.0)
        return 1.0 / (1.0 + np.exp(z))


FITTED = LinkFit(SLOPE, MIDPOINT, N_FIT)


def link_probability(cost: float, threshold: float, fit: LinkFit = FITTED) -> float:
    """The probability that a link (or merge) at ``cost`` is right, at link ``threshold`` (> 0): in [0, 1],
    non-increasing in ``cost``; ``fit`` defaults to the constants fitted on the tuning splits."""
    if not threshold > 0:
        raise ValueError(f"link threshold must be positive, got {threshold}")
    z = fit.slope * (cost / threshold - fit.midpoint)
    return 1.0 / (1.0 + math.exp(min(max(z, -700.0), 700.0)))


def fit_link_probability(ratio: np.ndarray, right: np.ndarray) -> LinkFit:
    """Maximum-likelihood logistic fit of ``right`` ((N,) bool) on ``ratio`` ((N,) cost / threshold), slope
    >= 0. ``ValueError`` when the labels are all one kind (nothing to fit)."""
    from scipy.optimize import minimize  # only a refit needs it, not the review queue

    x = np.asarray(ratio, np.float64).ravel()
    y = np.asarray(right, bool).ravel().astype(np.float64)
    if len(x) != len(y) or not 0 < y.sum() < len(y):
        raise ValueError(
            f"need one label per ratio, some right and some wrong; got {int(y.sum())} of {len(y)} right"
        )

    def nll(w: np.ndarray) -> tuple[float, np.ndarray]:  # logit p = a - b x
        z = w[0] - w[1] * x
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z))
        g = 1.0 / (1.0 + np.exp(-z)) - y
        return loss, np.array([g.sum(), -(g * x).sum()])

    res = minimize(nll, np.array([0.0, 1.0]), jac=True, method="L-BFGS-B", bounds=[(None, None), (0.0, None)])
    a, b = (float(v) for v in res.x)
    if b <= 1e-9:
        raise ValueError(f"p does not fall with the cost on these {len(x)} items: nothing monotone to fit")
    return LinkFit(b, a / b, len(x))


def brier(p: np.ndarray, right: np.ndarray) -> float:
    """Mean squared difference of ``p`` and the 0/1 outcome."""
    return float(np.mean((np.asarray(p, np.float64) - np.asarray(right, np.float64)) ** 2))
