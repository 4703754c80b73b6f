"""The multi-spin coded checkerboard Metropolis of :mod:`.multispin` on a CUDA GPU (numba.cuda).

One thread per site word of the active colour (64 chains per uint64 word, each lane at its own
temperature, h = 0); the same rule and the same bit-serial Bernoulli decisions (exact to 53 bits).
Random bits come from Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
1, 2, 3", SC'11), counter-based: the counter (site, sweep, colour, digit pair) and the key (two 32-bit
words from the batch's seed) give 128 bits, two digits of 64 lanes, with no state to keep: a run
resumes from its sweep count and is deterministic by seed whatever the launch configuration.

Without a GPU it runs under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, pure Python: small
lattices only); the tests do that. The published reference for a real GPU: NVIDIA's ising-gpu
multi-spin code (Romero et al., Comput. Phys. Commun. 2020) reaches about 380 flips/ns on a V100.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, uint32, uint64

from .multispin import _DIGITS, flip_rule

_flip_rule = cuda.jit(device=True, inline=True)(flip_rule)

_M0, _M1 = 0xD2511F53, 0xCD9E8D57  # Philox4x32 multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85  # Weyl key increments
_MASK = 0xFFFFFFFF
THREADS = 128


@cuda.jit(device=True, inline=True)
def _round(c0, c1, c2, c3, k0, k1):
    p0 = uint64(c0) * uint64(_M0)
    p1 = uint64(c2) * uint64(_M1)
    hi0, lo0 = uint32(p0 >> uint64(32)), uint32(p0 & uint64(_MASK))
    hi1, lo1 = uint32(p1 >> uint64(32)), uint32(p1 & uint64(_MASK))
    return hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0


@cuda.jit(device=True)
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0..c3) and key (k0, k1): four uint32."""
    c0, c1, c2, c3, k0, k1 = uint32(c0), uint32(c1), uint32(c2), uint32(c3), uint32(k0), uint32(k1)
    for _ in range(9):
        c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1)
        k0 = uint32((uint64(k0) + uint64(_W0)) & uint64(_MASK))
        k1 = uint32((uint64(k1) + uint64(_W1)) & uint64(_MASK))
    return _round(c0, c1, c2, c3, k0, k1)


@cuda.jit
def _half_sweep(w, p4, p8, lanes, colour, sweep, k0, k1):
    """Update the sites of ``colour`` of packed spins ``w`` (uint64[L, L]) once."""
    idx = cuda.grid(1)
    L = w.shape[0]
    half = L // 2
    if idx >= L * half:
        return
    i = idx // half
    j = 2 * (idx % half) + ((i + colour) & 1)
    s = w[i, j]
    up, down = w[i - 1 if i > 0 else L - 1, j], w[i + 1 if i + 1 < L else 0, j]
    left, right = w[i, j - 1 if j > 0 else L - 1], w[i, j + 1 if j + 1 < L else 0]
    flip, need1, need0 = _flip_rule(s, up, down, left, right, lanes)
    undecided = need1 | need0
    d = 0
    while undecided != uint64(0) and d < _DIGITS:
        x0, x1, x2, x3 = philox(idx, sweep, colour, d // 2, k0, k1)
        if d % 2 == 0:
            r = (uint64(x0) << uint64(32)) | uint64(x1)
        else:
            r = (uint64(x2) << uint64(32)) | uint64(x3)
        pw = (need1 & p4[d]) | (need0 & p8[d])
        flip |= undecided & pw & ~r  # digit of p is 1, of u is 0: u < p
        undecided &= ~(pw ^ r)
        d += 1
    w[i, j] = s ^ (flip & lanes)


def key_of(state: np.ndarray) -> tuple[int, int]:
    """The Philox key of a batch: two 32-bit words of its first xoshiro state word (the seed's stream)."""
    x = int(state[0])
    return x & _MASK, (x >> 32) & _MASK


class DeviceLattice:
    """Packed spins on the GPU for a batch of chains: ``sweeps(n)`` advances them, ``host()`` reads
    them back; ``sweep`` counts the sweeps done (the Philox counter)."""

    def __init__(self, w: np.ndarray, p4: np.ndarray, p8: np.ndarray, lanes: int, key: tuple[int, int], sweep: int):
        self.w, self.p4, self.p8 = cuda.to_device(w), cuda.to_device(p4), cuda.to_device(p8)
        self.lanes, self.key, self.sweep = np.uint64(lanes), key, int(sweep)
        self.blocks = (w.shape[0] * (w.shape[0] // 2) + THREADS - 1) // THREADS

    def sweeps(self, n: int) -> None:
        for _ in range(n):
            for colour in range(2):
                _half_sweep[self.blocks, THREADS](self.w, self.p4, self.p8, self.lanes, colour, self.sweep, *self.key)
            self.sweep += 1

    def host(self) -> np.ndarray:
        return self.w.copy_to_host()


def available() -> bool:
    """Whether a CUDA GPU (or the simulator) is there."""
    return cuda.is_available()
