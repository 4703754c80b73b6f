"""RNG and error-analysis helpers against known distributions and processes."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from physml.kernels.rng import below, seed_states, uniform
from physml.kernels.statistics import jackknife, mean_error, tau_int


@njit
def _draw(st, n, k):
    u = np.empty(n)
    b = np.empty(n, dtype=np.int64)
    for i in range(n):
        u[i] = uniform(st)
        b[i] = below(st, k)
    return u, b


def test_uniform_and_below_are_uniform():
    st = seed_states(123, [0])[0]
    u, b = _draw(st, 200000, 7)
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    assert stats.chisquare(np.bincount(b, minlength=7)).pvalue > 1e-4
    assert 0.0 <= u.min() and u.max() < 1.0


def test_streams_are_uncorrelated():
    s = seed_states(5, [0, 1])
    u0, _ = _draw(s[0], 100000, 2)
    u1, _ = _draw(s[1], 100000, 2)
    r = np.corrcoef(u0, u1)[0, 1]
    assert abs(r) < 4 / np.sqrt(u0.size)  # 4 standard errors of r under independence


def _ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.standard_normal()
    eps = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + eps[i]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_tau_int_of_ar1(phi):
    exact = 0.5 * (1 + phi) / (1 - phi)  # sum over rho(t) = phi^|t|
    est = np.mean([tau_int(_ar1(phi, 100000, s)) for s in range(4)])
    assert est == pytest.approx(exact, rel=0.1)


def test_mean_error_covers_truth_for_correlated_series():
    # 200 AR(1) series of mean 0: the errors should give |z| < 2 in about 95% of them
    z = []
    for s in range(200):
        m, err, _ = mean_error(_ar1(0.8, 5000, s)[None, :])
        z.append(m / err)
    frac = np.mean(np.abs(z) < 2)
    assert 0.90 < frac < 0.99


def test_jackknife_of_mean_is_standard_error():
    x = np.random.default_rng(0).standard_normal((4, 1000))
    est, err = jackknife({"x": x}, lambda d: d["x"].mean(), blocks=50)
    assert est == pytest.approx(x.mean())
    assert err == pytest.approx(x.std(ddof=1) / np.sqrt(x.size), rel=0.15)
