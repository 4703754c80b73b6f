"""Glauber heat-bath update (Glauber 1963): s_i = +1 with probability 1 / (1 + exp(-2 beta h_i)),
h_i = J sum_nn s_j + h, at uniformly chosen sites; samples the Boltzmann distribution at T = 1/beta.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import below, uniform


@njit(cache=True)
def heatbath_sweeps(s: np.ndarray, beta: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` random-site heat-bath sweeps of ``s`` (int8[L, L]) in place."""
    L = s.shape[0]
    N = L * L
    pup = np.empty(5)
    for b in range(5):
        pup[b] = 1.0 / (1.0 + np.exp(-2.0 * beta * ((2 * b - 4) + h)))
    for _ in range(n * N):
        k = below(st, N)
        i = k // L
        j = k - i * L
        nn = s[i - 1 if i > 0 else L - 1, j] + s[i + 1 if i + 1 < L else 0, j]
        nn += s[i, j - 1 if j > 0 else L - 1] + s[i, j + 1 if j + 1 < L else 0]
        s[i, j] = 1 if uniform(st) < pup[(nn + 4) >> 1] else -1
