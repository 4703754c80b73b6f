"""Exact partition function of the L x L periodic Ising lattice (J = k_B = 1, h = 0).

B. Kaufman, Phys. Rev. 76, 1232 (1949), in the form of P. D. Beale, PRL 76, 78 (1996):

    Z = 1/2 (2 sinh 2K)^(N/2) (Z1 + Z2 + Z3 + Z4),     N = L^2,
    Z1 = prod_r 2 cosh(L g_{2r+1} / 2),  Z2 = prod_r 2 sinh(L g_{2r+1} / 2),
    Z3 = prod_r 2 cosh(L g_{2r} / 2),    Z4 = prod_r 2 sinh(L g_{2r} / 2),    r = 0..L-1,
    cosh g_k = cosh 2K coth 2K - cos(pi k / L),   g_0 = 2K + ln tanh K (negative below Tc).

Everything is done in logarithms with analytic first and second K-derivatives, so it is stable for
L up to 1024 and beyond; Z2 and Z4 keep their signs.
"""

from __future__ import annotations

import numpy as np


def _gammas(K: float, L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """g_k, dg/dK, d2g/dK2 for k = 0..2L-1 (float64[2L] each)."""
    k = np.arange(2 * L)
    s2, c2 = np.sinh(2 * K), np.cosh(2 * K)
    c = c2 * c2 / s2
    dc = 2 * c2 - 2 * c2 / s2**2
    ddc = 4 * s2 - 4 * (s2**2 - 2 * c2**2) / s2**3
    g = np.arccosh(np.maximum(c - np.cos(np.pi * k / L), 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        dg = dc / np.sinh(g)
        ddg = (ddc - np.cosh(g) * dg**2) / np.sinh(g)
    g[0] = 2 * K + np.log(np.tanh(K))
    dg[0] = 2 + 2 / s2
    ddg[0] = -4 * c2 / s2**2
    return g, dg, ddg


def _log_terms(K: float, L: int) -> tuple[np.ndarray, ...]:
    """Z_i = exp(l_i) g_i for i = 1..4: l_i, l_i', l_i'' (K-derivatives) and g_i, g_i', g_i''.

    g_i is 1 except for Z4 near Tc, where its factor 2 sinh(L g_0 / 2) passes through zero and is
    kept outside the logarithm so that Z4 and its derivatives stay finite there.
    """
    g, dg, ddg = _gammas(K, L)
    l0, l1, l2 = np.zeros(4), np.zeros(4), np.zeros(4)
    f0, f1, f2 = np.ones(4), np.zeros(4), np.zeros(4)
    for i, (parity, use_sinh) in enumerate([(1, False), (1, True), (0, False), (0, True)]):
        x, dx, ddx = (L / 2 * a[parity::2] for a in (g, dg, ddg))
        if use_sinh and parity == 0 and abs(x[0]) < 1.0:
            f0[i] = 2 * np.sinh(x[0])
            f1[i] = 2 * np.cosh(x[0]) * dx[0]
            f2[i] = 2 * np.sinh(x[0]) * dx[0] ** 2 + 2 * np.cosh(x[0]) * ddx[0]
            x, dx, ddx = x[1:], dx[1:], ddx[1:]
        ax = np.abs(x)
        q = np.exp(-2 * ax)
        if use_sinh:
            f0[i] *= np.prod(np.sign(x))
            f = ax + np.log(-np.expm1(-2 * ax))  # ln|2 sinh x|
            d, dd = 1 / np.tanh(x), -4 * q / np.expm1(-2 * ax) ** 2  # (ln sinh)', -csch^2
        else:
            f = ax + np.log1p(q)  # ln 2cosh x
            d, dd = np.tanh(x), 4 * q / (1 + q) ** 2  # (ln cosh)', sech^2
        l0[i], l1[i], l2[i] = f.sum(), (d * dx).sum(), (dd * dx**2 + d * ddx).sum()
    return l0, l1, l2, f0, f1, f2


def _derivatives(K: float, L: int) -> tuple[float, float, float]:
    """ln Z and its first two K-derivatives."""
    N = L * L
    l0, l1, l2, f0, f1, f2 = _log_terms(K, L)
    e = np.exp(l0 - np.max(l0))
    S = np.dot(e, f0)
    S1 = np.dot(e, l1 * f0 + f1) / S
    S2 = np.dot(e, (l2 + l1**2) * f0 + 2 * l1 * f1 + f2) / S
    lnz = np.log(0.5) + N / 2 * np.log(2 * np.sinh(2 * K)) + np.max(l0) + np.log(S)
    d1 = N / np.tanh(2 * K) + S1
    d2 = -2 * N / np.sinh(2 * K) ** 2 + S2 - S1**2
    return float(lnz), float(d1), float(d2)


def _check(L: int, temperature) -> np.ndarray:
    if int(L) != L or L < 2:
        raise ValueError(f"L must be an integer >= 2, got {L}")
    t = np.atleast_1d(np.asarray(temperature, dtype=np.float64))
    if np.any(t <= 0):
        raise ValueError(f"temperature must be > 0, got {t[t <= 0][:3]}")
    return t


def kaufman_log_z(L: int, temperature) -> np.ndarray:
    """ln Z of the L x L periodic lattice at each temperature."""
    return np.array([_derivatives(1 / t, int(L))[0] for t in _check(L, temperature)])


def kaufman_energy(L: int, temperature) -> np.ndarray:
    """Exact mean energy per site <E>/N = -(1/N) d ln Z / dK."""
    t = _check(L, temperature)
    return np.array([-_derivatives(1 / x, int(L))[1] for x in t]) / L**2


def kaufman_specific_heat(L: int, temperature) -> np.ndarray:
    """Exact specific heat per site C/N = (K^2/N) d^2 ln Z / dK^2."""
    t = _check(L, temperature)
    return np.array([_derivatives(1 / x, int(L))[2] / x**2 for x in t]) / L**2
