"""Counter-seeded 64-bit random numbers for numba kernels.

Generator: xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
ACM TOMS 47, 2021), period 2^256 - 1, passes BigCrush. Each stream is seeded by SplitMix64 from
``(seed, stream)`` so that chains get statistically independent, reproducible streams without any
global state: a chain's random numbers depend on the seed and its own index only.

State: ``uint64[4]`` per stream (``uint64[n, 4]`` for a batch).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_INV53 = 1.0 / 9007199254740992.0  # 2^-53


@njit(cache=True, inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def splitmix64(x: np.uint64) -> tuple:
    """One SplitMix64 step: returns (new counter, output)."""
    x = x + _GOLDEN
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def next_u64(s: np.ndarray) -> np.uint64:
    """Advance a xoshiro256** state ``s`` (uint64[4]) in place and return 64 random bits."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def step(s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64) -> tuple:
    """xoshiro256** on a state held in local variables (registers in hot loops).

    Returns (64 random bits, s0, s1, s2, s3); same sequence as :func:`next_u64`.
    """
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(cache=True, inline="always")
def uniform(s: np.ndarray) -> float:
    """Uniform double in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> np.uint64(11)) * _INV53


@njit(cache=True, inline="always")
def uniform_open0(s: np.ndarray) -> float:
    """Uniform double in (0, 1]: safe under log."""
    return (float(next_u64(s) >> np.uint64(11)) + 1.0) * _INV53


@njit(cache=True, inline="always")
def below(s: np.ndarray, n: int) -> int:
    """Integer uniform in [0, n) by Lemire's multiply-shift on the top 32 bits (n < 2^32)."""
    return int(((next_u64(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(cache=True)
def _seed_states(seed: np.uint64, streams: np.ndarray) -> np.ndarray:
    out = np.empty((streams.shape[0], 4), dtype=np.uint64)
    for i in range(streams.shape[0]):
        x = seed ^ (streams[i] * np.uint64(0xD1B54A32D192ED03))
        x, _ = splitmix64(x)  # decorrelate neighbouring stream ids
        for k in range(4):
            x, out[i, k] = splitmix64(x)
    return out


def seed_states(seed: int, streams) -> np.ndarray:
    """xoshiro256** states ``uint64[n, 4]`` for stream ids ``streams`` (ints >= 0) under ``seed``."""
    ids = np.asarray(streams, dtype=np.uint64).reshape(-1)
    return _seed_states(np.uint64(seed % 2**64), ids)
