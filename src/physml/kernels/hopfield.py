"""The seed's Algorithm 2 ("HMC"): an asynchronous Hopfield-network update with noise,

    S_i <- sign( S_i sum_nn S_j - T_noise ln(1/u) ) S_i ,   u ~ U(0, 1].

Which distribution it samples: let x = S_i (J sum_nn S_j + h), so that flipping S_i costs
dE = 2x. The spin flips when x < T_noise ln(1/u), i.e. when u < exp(-x / T_noise), so its flip
probability is min(1, exp(-x / T_noise)) = min(1, exp(-dE / (2 T_noise))): exactly the Metropolis
acceptance at T = 2 T_noise. Each single-site step is therefore reversible with respect to the
Boltzmann distribution at T_eff = 2 T_noise, and a sequential sweep (sites in order, as the
algorithm is written) leaves it invariant. physml records T_eff in the shards' ``temperature``
column and keeps T_noise in the manifest (``params.hopfield_noise``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import uniform_open0


def noise_for(temperature: float) -> float:
    """The rule's noise parameter T_noise that samples the Boltzmann distribution at ``temperature``."""
    return 0.5 * temperature


@njit(cache=True)
def hopfield_sweeps(s: np.ndarray, t_noise: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` sequential sweeps of the faithful rule on ``s`` (int8[L, L]) at noise ``t_noise``."""
    L = s.shape[0]
    for _ in range(n):
        for i in range(L):
            im = i - 1 if i > 0 else L - 1
            ip = i + 1 if i + 1 < L else 0
            for j in range(L):
                nn = s[im, j] + s[ip, j] + s[i, j - 1 if j > 0 else L - 1] + s[i, j + 1 if j + 1 < L else 0]
                x = s[i, j] * (nn + h)
                if x - t_noise * np.log(1.0 / uniform_open0(st)) <= 0.0:
                    s[i, j] = -s[i, j]
