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
from .rng import step, uniform

_ALWAYS = np.uint64(1) << np.uint64(53)


@njit(cache=True)
def _thresholds(beta: float, h: float) -> np.ndarray:
    """flip_table as 53-bit integer thresholds uint64[10], index (s+1)//2 * 5 + (sum_nn+4)//2."""
    p = flip_table(beta, h).ravel()
    out = np.empty(10, dtype=np.uint64)
    for k in range(10):
        out[k] = _ALWAYS if p[k] >= 1.0 else np.uint64(p[k] * 2.0**53)
    return out


@njit(cache=True)
def checkerboard_sweeps(s: np.ndarray, beta: float, h: float, n: int, st: np.ndarray) -> None:
    """``n`` checkerboard Metropolis sweeps (even then odd sublattice) of ``s`` (int8[L, L], L even).

    The RNG state lives in registers for the whole call (``rng.step``), acceptance compares integers
    and the update is branch-free (one draw per site, even when the flip is certain): unpredictable
    accept/reject branches near Tc cost more than the extra random numbers.
    """
    L = s.shape[0]
    thr = _thresholds(beta, h)
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    for _ in range(n):
        for colour in range(2):
            for i in range(L):
                im = i - 1 if i > 0 else L - 1
                ip = i + 1 if i + 1 < L else 0
                for j in range((i + colour) & 1, L, 2):
                    si = s[i, j]
                    nn = s[im, j] + s[ip, j] + s[i, j - 1 if j > 0 else L - 1] + s[i, j + 1 if j + 1 < L else 0]
                    t = thr[((si + 1) >> 1) * 5 + ((nn + 4) >> 1)]
                    r, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                    flip = np.int8((r >> np.uint64(11)) < t)  # branch-free: t = 2^53 always flips
                    s[i, j] = si * (np.int8(1) - np.int8(2) * flip)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


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
