"""Brute-force enumeration of all 2^N states of a tiny L x L periodic Ising lattice (N <= 20).

Independent of every sampler and of Kaufman's formula: the reference for chi-square tests.
"""

from __future__ import annotations

import numpy as np


def all_states(L: int) -> np.ndarray:
    """All configurations as int8[2^N, L, L]; state index k has spin (i, j) = +1 iff bit i*L+j of k is set."""
    N = L * L
    if N > 20:
        raise ValueError(f"enumeration is for N = L*L <= 20, got L = {L}")
    k = np.arange(2**N, dtype=np.int64)[:, None]
    bits = (k >> np.arange(N)) & 1
    return (2 * bits - 1).astype(np.int8).reshape(-1, L, L)


def energies(states: np.ndarray, h: float = 0.0) -> np.ndarray:
    """Total energy of each configuration (int8[M, L, L]), J = 1."""
    s = states.astype(np.int64)
    bonds = (s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
    return -bonds - h * s.sum(axis=(1, 2))


def boltzmann(L: int, temperature: float, h: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact probabilities of all states, with their total energy and magnetization (float64[2^N])."""
    st = all_states(L)
    E = energies(st, h).astype(np.float64)
    M = st.reshape(st.shape[0], -1).sum(axis=1).astype(np.float64)
    w = np.exp(-(E - E.min()) / temperature)
    return w / w.sum(), E, M


def exact_moments(L: int, temperature: float, h: float = 0.0) -> dict[str, float]:
    """Exact <e>, <|m|>, C, chi (with |m|) and Binder U4 per site at T, h."""
    p, E, M = boltzmann(L, temperature, h)
    N = L * L
    e, m = E / N, M / N
    m2, m4 = p @ m**2, p @ m**4
    return {
        "energy": p @ e,
        "abs_magnetization": p @ np.abs(m),
        "specific_heat": N * (p @ e**2 - (p @ e) ** 2) / temperature**2,
        "susceptibility": N * (m2 - (p @ np.abs(m)) ** 2) / temperature,
        "binder": 1.0 - m4 / (3.0 * m2**2),
    }
