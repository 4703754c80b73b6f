"""Wolff single-cluster algorithm (U. Wolff, PRL 62, 361 (1989)) for h = 0.

A cluster grows from a random seed site, adding aligned neighbours with probability
p_add = 1 - exp(-2 beta J), and is flipped as a whole. One "sweep" here is a run of cluster flips
until at least L*L spins have been flipped, so that sweeps are comparable with local algorithms.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .rng import below, uniform


@njit(cache=True)
def _cluster_flip(s: np.ndarray, p_add: float, stack: np.ndarray, st: np.ndarray) -> int:
    """Grow and flip one cluster; returns its size. ``stack`` is int64[L*L] scratch."""
    L = s.shape[0]
    k0 = below(st, L * L)
    spin = s[k0 // L, k0 % L]
    s[k0 // L, k0 % L] = -spin
    stack[0] = k0
    top = 1
    size = 1
    while top > 0:
        top -= 1
        k = stack[top]
        i = k // L
        j = k - i * L
        for d in range(4):
            if d == 0:
                ni, nj = (i - 1 if i > 0 else L - 1), j
            elif d == 1:
                ni, nj = (i + 1 if i + 1 < L else 0), j
            elif d == 2:
                ni, nj = i, (j - 1 if j > 0 else L - 1)
            else:
                ni, nj = i, (j + 1 if j + 1 < L else 0)
            if s[ni, nj] == spin and uniform(st) < p_add:
                s[ni, nj] = -spin  # flipping on entry marks the site as visited
                stack[top] = ni * L + nj
                top += 1
                size += 1
    return size


@njit(cache=True)
def wolff_sweeps(s: np.ndarray, beta: float, n: int, st: np.ndarray) -> int:
    """``n`` Wolff sweeps of ``s`` (int8[L, L]) at h = 0; returns the number of clusters flipped."""
    L = s.shape[0]
    p_add = 1.0 - np.exp(-2.0 * beta)
    stack = np.empty(L * L, dtype=np.int64)
    clusters = 0
    for _ in range(n):
        flipped = 0
        while flipped < L * L:
            flipped += _cluster_flip(s, p_add, stack, st)
            clusters += 1
    return clusters
