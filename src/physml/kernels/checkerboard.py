"""The seed's Algorithm 3 (synchronous update), done right and done literally.

``checkerboard_sweeps``: the parallel form that keeps detailed balance. The square lattice is
bipartite (L even); all sites of one colour have neighbours of the other colour only, so updating one
colour at a time with Metropolis acceptance at T is exactly a product of independent single-site
updates, each reversible with respect to the Boltzmann distribution (e.g. Landau & Binder, ch. 4).

``synchronous_sweeps``: the literal all-sites-at-once update. Every site decides from the *old*
configuration, so neighbours flip together; the chain does not sample the Boltzmann distribution
(at high T it oscillates between a configuration and its flipped copy, and the stationary energy
is biased). It is exposed under the name ``synchronous`` only to show that bias (see the tests).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .metropolis import flip_table
from .rng import uniform


@njit(cache=True)
def _half_sweep(s: np.ndarray, p: np.ndarray, colour: int, st: np.ndarray) -> None:
    L = s.shape[0]
    for i in range(L):
        im = i - 1 if i > 0 else L - 1
        ip = i + 1 if i + 1 < L else 0
        for j in range((i + colour) & 1, L, 2):
            si = s[i, j]
            nn = s[im, j] + s[ip, j] + s[i, j - 1 if j > 0 else L - 1] + s[i, j + 1 if j + 1 < L else 0]
            a = p[(si + 1) >> 1, (nn + 4) >> 1]
            if a >= 1.0 or uniform(st) < a:
                s[i, j] = -si


@njit(cache=True)
def checkerboard_sweeps(s: np.ndarray, beta: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` checkerboard Metropolis sweeps (even then odd sublattice) of ``s`` (int8[L, L], L even)."""
    p = flip_table(beta, h)
    for _ in range(n):
        _half_sweep(s, p, 0, st)
        _half_sweep(s, p, 1, st)


@njit(cache=True)
def synchronous_sweeps(s: np.ndarray, beta: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` literal synchronous sweeps: all sites decide from the old state (biased; see module)."""
    L = s.shape[0]
    p = flip_table(beta, h)
    old = s.copy()
    for _ in range(n):
        old[:, :] = s
        for i in range(L):
            im = i - 1 if i > 0 else L - 1
            ip = i + 1 if i + 1 < L else 0
            for j in range(L):
                si = old[i, j]
                nn = old[im, j] + old[ip, j] + old[i, j - 1 if j > 0 else L - 1] + old[i, j + 1 if j + 1 < L else 0]
                a = p[(si + 1) >> 1, (nn + 4) >> 1]
                if a >= 1.0 or uniform(st) < a:
                    s[i, j] = -si
