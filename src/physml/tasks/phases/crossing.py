"""Where an output curve crosses 1/2, and the 1/L extrapolation of crossings (finite-size scaling)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit


def _logistic(t, t0, w):
    return 1.0 / (1.0 + np.exp((t - t0) / w))


def half_crossing(t: np.ndarray, p: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """T* where a decreasing curve p(T) = 1 / (1 + exp((T - T*) / w)) passes 1/2; (T*, error)."""
    t, p, err = (np.asarray(a, dtype=np.float64) for a in (t, p, err))
    i = int(np.argmin(np.abs(p - 0.5)))
    try:
        popt, pcov = curve_fit(
            _logistic, t, p, p0=(t[i], 0.1), sigma=np.maximum(err, 1e-3), absolute_sigma=True, maxfev=10000
        )
    except (RuntimeError, ValueError):
        return float("nan"), float("nan")
    if not t.min() <= popt[0] <= t.max():  # the curve does not cross 1/2 on the sampled range
        return float("nan"), float("nan")
    return float(popt[0]), float(np.sqrt(max(pcov[0, 0], 0.0)))


def extrapolate_inverse_L(sizes, tstar, errs) -> tuple[float, float]:
    """Tc from T*(L) = Tc + a / L by weighted least squares; (Tc, error). One size: T* itself."""
    sizes, tstar, errs = (np.asarray(a, dtype=np.float64) for a in (sizes, tstar, errs))
    ok = np.isfinite(tstar)
    sizes, tstar, errs = sizes[ok], tstar[ok], errs[ok]
    if sizes.size == 0:
        return float("nan"), float("nan")
    if sizes.size < 2:
        return float(tstar[0]), float(errs[0])
    w = 1.0 / np.maximum(np.nan_to_num(errs, nan=1.0), 1e-4) ** 2
    A = np.stack([np.ones_like(sizes), 1.0 / sizes], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * tstar))
    return float(coef[0]), float(np.sqrt(cov[0, 0]))
