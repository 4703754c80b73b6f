"""Random-site single-spin Metropolis (the seed's Algorithm 1; Metropolis et al. 1953).

One sweep = L*L attempts at uniformly chosen sites. A flip with energy change dE is accepted with
probability min(1, exp(-dE / T)); dE = 2 s_i (J sum_nn s_j + h).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import below, uniform


@njit(cache=True)
def flip_table(beta: float, h: float) -> np.ndarray:
    """Acceptance min(1, exp(-beta dE)) as float64[2, 5], indexed [(s+1)//2, (sum_nn+4)//2]."""
    p = np.empty((2, 5))
    for a in range(2):
        s = 2 * a - 1
        for b in range(5):
            nn = 2 * b - 4
            de = 2.0 * s * (nn + h)
            p[a, b] = 1.0 if de <= 0.0 else np.exp(-beta * de)
    return p


@njit(cache=True)
def metropolis_sweeps(s: np.ndarray, beta: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` random-site Metropolis sweeps of ``s`` (int8[L, L]) in place, RNG state ``st``."""
    L = s.shape[0]
    N = L * L
    p = flip_table(beta, h)
    for _ in range(n * N):
        k = below(st, N)
        i = k // L
        j = k - i * L
        si = s[i, j]
        nn = s[i - 1 if i > 0 else L - 1, j] + s[i + 1 if i + 1 < L else 0, j]
        nn += s[i, j - 1 if j > 0 else L - 1] + s[i, j + 1 if j + 1 < L else 0]
        a = p[(si + 1) >> 1, (nn + 4) >> 1]
        if a >= 1.0 or uniform(st) < a:
            s[i, j] = -si
