"""Helpers shared by the benchmarks: timing and the NumPy reference kernel."""
from __future__ import annotations

import time

import numpy as np


def best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls of ``fn()`` (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def numpy_checkerboard(s: np.ndarray, beta: float, sweeps: int, rng: np.random.Generator) -> None:
    """Plain NumPy vectorized checkerboard Metropolis on int8[L, L] (the reference kernel)."""
    L = s.shape[0]
    colour = (np.add.outer(np.arange(L), np.arange(L)) & 1).astype(bool)
    table = np.exp(-beta * np.arange(-8, 9, dtype=np.float64))  # index dE + 8
    for _ in range(sweeps):
        for mask in (~colour, colour):
            nn = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            de = 2 * s * nn
            accept = mask & (rng.random((L, L)) < table[de + 8])
            s[accept] *= -1
