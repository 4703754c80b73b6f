"""Shared statistical checks for Monte Carlo tests."""

import numpy as np
from scipy import stats

from physml.kernels import ising
from physml.kernels.lattice import random_spins
from physml.kernels.rng import seed_states


def chains(algorithm, L, temps, h=0.0, nrec=1000, every=1, burn=100, seed=1):
    """Run len(temps) independent chains; returns e, m float[n, nrec] and spins int8[n, nrec, L*L]."""
    temps = np.asarray(temps, dtype=float)
    rng = seed_states(seed, range(temps.size))
    spins = np.stack([random_spins(L, rng[c]) for c in range(temps.size)])
    aux = np.zeros(temps.size, dtype=np.int64)
    return ising.run(algorithm, spins, temps, h, rng, aux, nrec, every, burn)


def chi2_pvalue(observed: np.ndarray, expected_p: np.ndarray, min_expected: float = 5.0) -> float:
    """Pearson chi-square p-value; bins with expected count < min_expected are pooled into one."""
    n = observed.sum()
    exp = expected_p * n
    small = exp < min_expected
    obs2 = np.r_[observed[~small], observed[small].sum()]
    exp2 = np.r_[exp[~small], exp[small].sum()]
    if exp2[-1] == 0:
        obs2, exp2 = obs2[:-1], exp2[:-1]
    return float(stats.chisquare(obs2, exp2).pvalue)
