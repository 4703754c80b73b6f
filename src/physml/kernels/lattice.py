"""Energy and magnetization of 2D Ising configurations on an L x L periodic square lattice.

H = -J sum_<ij> s_i s_j - h sum_i s_i   (J = 1, k_B = 1; the seed's eq. (1) with h = mu B).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import next_u64


@njit(cache=True)
def energy_per_site(s: np.ndarray, h: float) -> float:
    """Energy per site of ``s`` (int8[L, L], entries +-1) in units of J."""
    L = s.shape[0]
    bonds = 0
    tot = 0
    for i in range(L):
        ip = i + 1 if i + 1 < L else 0
        for j in range(L):
            jp = j + 1 if j + 1 < L else 0
            si = s[i, j]
            bonds += si * (s[ip, j] + s[i, jp])
            tot += si
    return (-bonds - h * tot) / (L * L)


@njit(cache=True)
def magnetization_per_site(s: np.ndarray) -> float:
    """Signed magnetization per site of ``s`` (int8[L, L])."""
    tot = 0
    for v in s.ravel():
        tot += v
    return tot / s.size


@njit(cache=True)
def random_spins(L: int, st: np.ndarray) -> np.ndarray:
    """A hot start int8[L, L] drawn from the chain's own xoshiro stream ``st`` (uint64[4])."""
    s = np.empty((L, L), dtype=np.int8)
    for i in range(L):
        for j in range(L):
            s[i, j] = 1 if (next_u64(st) >> np.uint64(63)) else -1
    return s
