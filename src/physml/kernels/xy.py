"""2D XY model, H = -J sum_<ij> cos(theta_i - theta_j) on an L x L periodic lattice (J = k_B = 1).

One sweep = a sequential Metropolis sweep (proposal theta + delta (2u - 1), delta = pi min(1, T))
followed by ``OVERRELAX`` over-relaxation sweeps, which reflect each angle about its local field,
theta -> 2 phi - theta with phi = arg(sum_nn e^{i theta_j}): energy-conserving moves that decorrelate
fast at low T (Creutz, Phys. Rev. D 36, 515 (1987); Brown & Woch, PRL 58, 2394 (1987)). The BKT
temperature is T_BKT = 0.8929 (Hasenbusch, J. Phys. A 38, 5869 (2005)).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import uniform

OVERRELAX = 2
TBKT = 0.8929


@njit(cache=True)
def _field(th: np.ndarray, i: int, j: int) -> tuple:
    L = th.shape[0]
    im, ip = (i - 1) % L, (i + 1) % L
    jm, jp = (j - 1) % L, (j + 1) % L
    hx = np.cos(th[im, j]) + np.cos(th[ip, j]) + np.cos(th[i, jm]) + np.cos(th[i, jp])
    hy = np.sin(th[im, j]) + np.sin(th[ip, j]) + np.sin(th[i, jm]) + np.sin(th[i, jp])
    return hx, hy


@njit(cache=True)
def xy_sweeps(th: np.ndarray, beta: float, n: int, st: np.ndarray) -> None:
    """``n`` sweeps (Metropolis + over-relaxation) of angles ``th`` (float64[L, L]) in place."""
    L = th.shape[0]
    delta = np.pi * min(1.0, 1.0 / beta)
    for _ in range(n):
        for i in range(L):
            for j in range(L):
                hx, hy = _field(th, i, j)
                new = th[i, j] + delta * (2.0 * uniform(st) - 1.0)
                de = -(np.cos(new) * hx + np.sin(new) * hy) + (np.cos(th[i, j]) * hx + np.sin(th[i, j]) * hy)
                if de <= 0.0 or uniform(st) < np.exp(-beta * de):
                    th[i, j] = np.mod(new, 2 * np.pi)
        for _ in range(OVERRELAX):
            for i in range(L):
                for j in range(L):
                    hx, hy = _field(th, i, j)
                    if hx != 0.0 or hy != 0.0:
                        th[i, j] = np.mod(2.0 * np.arctan2(hy, hx) - th[i, j], 2 * np.pi)


@njit(cache=True)
def xy_energy(th: np.ndarray) -> float:
    """Energy per site."""
    L = th.shape[0]
    e = 0.0
    for i in range(L):
        for j in range(L):
            e -= np.cos(th[i, j] - th[(i + 1) % L, j]) + np.cos(th[i, j] - th[i, (j + 1) % L])
    return e / (L * L)


@njit(cache=True)
def xy_magnetization(th: np.ndarray) -> float:
    """|M| per site, M = sum_i (cos theta_i, sin theta_i)."""
    return np.hypot(np.cos(th).sum(), np.sin(th).sum()) / th.size


@njit(cache=True)
def random_angles(L: int, st: np.ndarray) -> np.ndarray:
    out = np.empty((L, L))
    for i in range(L):
        for j in range(L):
            out[i, j] = 2 * np.pi * uniform(st)
    return out


@njit(cache=True)
def _run(th, betas, rng, nrec, every, burn, e, m, out):
    L = th.shape[1]
    for c in range(th.shape[0]):
        s, st = th[c].copy(), rng[c].copy()
        if burn > 0:
            xy_sweeps(s, betas[c], burn, st)
        for r in range(nrec):
            xy_sweeps(s, betas[c], every, st)
            e[c, r] = xy_energy(s)
            m[c, r] = xy_magnetization(s)
            out[c, r, :] = s.reshape(L * L).astype(np.float32)
        th[c] = s
        rng[c] = st


def run(
    theta: np.ndarray, temperatures: np.ndarray, rng: np.ndarray, nrec: int, every: int, burn: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like ``kernels.ising.run`` for XY: theta float64[n, L, L]; returns e, |m| float64[n, nrec] and
    angles float32[n, nrec, L*L]."""
    n, L = theta.shape[0], theta.shape[1]
    e, m = np.empty((n, nrec)), np.empty((n, nrec))
    out = np.empty((n, nrec, L * L), dtype=np.float32)
    _run(theta, 1.0 / np.asarray(temperatures, dtype=np.float64), rng, nrec, every, burn, e, m, out)
    return e, m, out
