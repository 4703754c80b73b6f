"""Multi-spin coded checkerboard Metropolis: 64 independent chains per uint64 word (the fast path).

Lane b of word ``w[i, j]`` holds the spin (bit 1 = up) of chain b at site (i, j); all lanes share L
but each has its own temperature (h = 0). For a site of the active colour, the four bonds give
anti-aligned bits a_k = s ^ n_k; with c = a_1 + ... + a_4 the flip costs dE = 8 - 4c (J = 1), so the
Metropolis rule is: flip if c >= 2; if c == 1 with probability p4 = exp(-4 beta); if c == 0 with
p8 = exp(-8 beta). The per-lane Bernoulli decisions u_b < p_b are made bit-serially, most
significant bit first, on 64 lanes at once: each 64-bit draw r of xoshiro256** supplies the next
binary digit of all 64 uniforms; a lane is decided at the first digit where u and p differ, so the
result is exact to 53 bits while costing about log2(64) + 2 draws per word rather than 64 draws
(the idea of bit-serial comparison of random bits, e.g. Watanabe et al., Comput. Phys. Commun. 2005).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import step

_DIGITS = 53


def probability_words(betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary digits of p4 = exp(-4 beta) and p8 = exp(-8 beta) per lane: two uint64[53] arrays.

    Bit b of word d is digit d+1 (weight 2^-(d+1)) of lane b's probability. ``betas``: float[<=64].
    """
    betas = np.asarray(betas, dtype=np.float64)
    if betas.size > 64:
        raise ValueError(f"at most 64 lanes per word, got {betas.size}")
    p4 = np.zeros(_DIGITS, dtype=np.uint64)
    p8 = np.zeros(_DIGITS, dtype=np.uint64)
    for b, beta in enumerate(betas):
        for words, p in ((p4, np.exp(-4.0 * beta)), (p8, np.exp(-8.0 * beta))):
            q = int(p * 2**_DIGITS)  # p in (0, 1): 53-bit fixed point, floor
            for d in range(_DIGITS):
                if (q >> (_DIGITS - 1 - d)) & 1:
                    words[d] |= np.uint64(1 << b)
    return p4, p8


def flip_rule(s, up, down, left, right, lanes) -> tuple:
    """(lanes that flip for sure (c >= 2), lanes needing p4 (c == 1), lanes needing p8 (c == 0)) of a
    site word ``s`` and its four neighbours' words: c anti-aligned bonds cost dE = 8 - 4c. Plain
    Python on uint64: compiled for the CPU here and for CUDA in :mod:`.cuda_msc`."""
    a1, a2, a3, a4 = s ^ up, s ^ down, s ^ left, s ^ right
    any12 = a1 | a2
    any34 = a3 | a4
    c0 = ~(any12 | any34)
    c1 = ((a1 ^ a2) & ~any34) | ((a3 ^ a4) & ~any12)
    return ~(c0 | c1), c1 & lanes, c0 & lanes


_flip_rule = njit(cache=True, inline="always")(flip_rule)


@njit(cache=True, inline="always")
def _bernoulli(need1, need0, p4: np.ndarray, p8: np.ndarray, s0, s1, s2, s3) -> tuple:
    """Lanes of ``need1`` accept with p4, lanes of ``need0`` with p8 (exact to 53 bits); the RNG state
    in locals (registers): returns (accepting lanes, s0, s1, s2, s3)."""
    undecided = need1 | need0
    accept = np.uint64(0)
    d = 0
    while undecided != np.uint64(0) and d < _DIGITS:
        r, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        pw = (need1 & p4[d]) | (need0 & p8[d])
        accept |= undecided & pw & ~r  # digit of p is 1, of u is 0: u < p
        undecided &= ~(pw ^ r)  # equal digits: still undecided
        d += 1
    return accept, s0, s1, s2, s3


@njit(cache=True)
def msc_sweeps(w: np.ndarray, p4: np.ndarray, p8: np.ndarray, lanes: np.uint64, n: int, st: np.ndarray) -> None:
    """``n`` checkerboard sweeps of packed spins ``w`` (uint64[L, L], L even); ``lanes`` masks used
    lanes; ``st`` (uint64[4], xoshiro256**) is held in locals during the sweeps and written back."""
    L = w.shape[0]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    for _ in range(n):
        for colour in range(2):
            for i in range(L):
                im = i - 1 if i > 0 else L - 1
                ip = i + 1 if i + 1 < L else 0
                for j in range((i + colour) & 1, L, 2):
                    s = w[i, j]
                    left, right = w[i, j - 1 if j > 0 else L - 1], w[i, j + 1 if j + 1 < L else 0]
                    flip, need1, need0 = _flip_rule(s, w[im, j], w[ip, j], left, right, lanes)
                    if (need1 | need0) != np.uint64(0):
                        acc, s0, s1, s2, s3 = _bernoulli(need1, need0, p4, p8, s0, s1, s2, s3)
                        flip |= acc
                    w[i, j] = s ^ (flip & lanes)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


@njit(cache=True)
def pack(spins: np.ndarray) -> np.ndarray:
    """int8[n, L, L] (+-1, n <= 64) -> uint64[L, L], lane b = chain b."""
    n, L = spins.shape[0], spins.shape[1]
    w = np.zeros((L, L), dtype=np.uint64)
    for b in range(n):
        bit = np.uint64(1) << np.uint64(b)
        for i in range(L):
            for j in range(L):
                if spins[b, i, j] > 0:
                    w[i, j] |= bit
    return w


@njit(cache=True)
def unpack(w: np.ndarray, n: int) -> np.ndarray:
    """uint64[L, L] -> int8[n, L, L] for the first ``n`` lanes."""
    L = w.shape[0]
    out = np.empty((n, L, L), dtype=np.int8)
    for i in range(L):
        for j in range(L):
            x = w[i, j]
            for b in range(n):
                out[b, i, j] = 1 if (x >> np.uint64(b)) & np.uint64(1) else -1
    return out
