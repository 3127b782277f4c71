"""The link probability: a monotone logistic in cost / threshold, fitted by maximum likelihood."""

from __future__ import annotations

import numpy as np
import pytest

from reid.link.probability import FITTED, LinkFit, brier, fit_link_probability, link_probability

THR = 0.4


def test_fitted_probability_is_bounded_and_falls_with_cost():
    costs = np.linspace(0.0, 3.0 * THR, 61)
    p = np.array([link_probability(float(c), THR) for c in costs])
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert np.all(np.diff(p) <= 0.0) and p[0] > p[-1]
    assert (
        link_probability(1e6, THR) == pytest.approx(0.0) and link_probability(-1e6, THR) == 1.0
    )  # no overflow


def test_one_half_where_the_fit_puts_it():
    assert link_probability(FITTED.midpoint * THR, THR) == pytest.approx(0.5)
    fit = LinkFit(slope=10.0, midpoint=0.8, n=0)
    assert link_probability(0.8 * THR, THR, fit) == pytest.approx(0.5)
    assert link_probability(0.7 * THR, THR, fit) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert fit.p(np.array([0.7, 0.8])) == pytest.approx([1 / (1 + np.exp(-1.0)), 0.5])


def test_a_fit_recovers_the_parameters_it_was_drawn_from():
    rng = np.random.default_rng(0)
    true = LinkFit(slope=6.0, midpoint=0.9, n=0)
    ratio = rng.uniform(0.0, 2.0, 4000)
    right = rng.random(4000) < true.p(ratio)
    fit = fit_link_probability(ratio, right)
    assert fit.n == 4000
    assert fit.slope == pytest.approx(6.0, rel=0.1) and fit.midpoint == pytest.approx(0.9, abs=0.03)


def test_a_rising_trend_is_not_fitted_and_one_label_is_refused():
    with pytest.raises(ValueError, match="does not fall"):
        fit_link_probability(np.array([0.2, 0.4, 0.6, 0.8]), np.array([False, False, True, True]))
    with pytest.raises(ValueError, match="some right and some wrong"):
        fit_link_probability(np.array([0.2, 0.4]), np.array([True, True]))
    with pytest.raises(ValueError, match="positive"):
        link_probability(0.3, 0.0)


def test_brier_score():
    assert brier(np.array([1.0, 0.0, 0.5]), np.array([True, False, True])) == pytest.approx(0.25 / 3)
