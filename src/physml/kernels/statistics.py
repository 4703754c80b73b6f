"""Error analysis for Markov-chain time series.

Integrated autocorrelation time with Sokal's automatic windowing (A. D. Sokal, "Monte Carlo methods
in statistical mechanics", Cargese lectures 1996, section 3): tau(W) = 1/2 + sum_{t=1}^{W} rho(t), with W
the smallest window such that W >= c tau(W) (c = 6). The error of a mean of n correlated samples is
sqrt(2 tau var / n). Non-linear estimators (C, chi, U4) get jackknife errors over blocks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation rho(t), t = 0..n-1, of a 1-D series (FFT, zero-padded)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    d = x - x.mean()
    f = np.fft.rfft(d, 2 * n)
    acov = np.fft.irfft(f * np.conj(f))[:n] / n
    if acov[0] <= 0:
        return np.r_[1.0, np.zeros(n - 1)]
    return acov / acov[0]


def tau_int(x: np.ndarray, c: float = 6.0) -> float:
    """Integrated autocorrelation time of series ``x`` (units: records), Sokal windowing; >= 0.5."""
    rho = autocorrelation(x)
    taus = 0.5 + np.cumsum(rho[1:])
    ok = np.nonzero(np.arange(1, rho.size) >= c * taus)[0]
    w = ok[0] if ok.size else taus.size - 1
    return float(max(taus[w] if taus.size else 0.5, 0.5))


def mean_error(series: np.ndarray) -> tuple[float, float, float]:
    """Mean, error and mean tau_int of independent chains ``series`` float[chains, n]."""
    series = np.atleast_2d(series)
    taus = np.array([tau_int(s) for s in series])
    n = series.shape[1]
    var_means = np.array([s.var(ddof=1) if n > 1 else 0.0 for s in series]) * 2 * taus / n
    err = np.sqrt(var_means.sum()) / series.shape[0]
    return float(series.mean()), float(err), float(taus.mean())


def jackknife(
    series: dict[str, np.ndarray], estimator: Callable[[dict[str, np.ndarray]], float], blocks: int = 20
) -> tuple[float, float]:
    """Estimate and jackknife error of ``estimator`` over ``blocks`` blocks per chain.

    ``series`` maps names to float[chains, n]; the estimator takes the same mapping of 1-D pooled
    arrays. Blocks are contiguous, so they must be longer than tau_int for an honest error.
    """
    first = next(iter(series.values()))
    chains, n = np.atleast_2d(first).shape
    b = max(1, min(blocks, n))
    edges = np.linspace(0, n, b + 1).astype(int)
    pooled = {k: np.atleast_2d(v) for k, v in series.items()}
    full = estimator({k: v.ravel() for k, v in pooled.items()})
    if chains * b < 2:
        return float(full), float("nan")
    keep = np.ones((chains, n), dtype=bool)
    vals = []
    for c in range(chains):
        for i in range(b):
            keep[c, edges[i] : edges[i + 1]] = False
            vals.append(estimator({k: v[keep] for k, v in pooled.items()}))
            keep[c, edges[i] : edges[i + 1]] = True
    vals = np.asarray(vals)
    m = vals.size
    return float(full), float(np.sqrt((m - 1) / m * ((vals - vals.mean()) ** 2).sum()))
