"""Spin-flip attempts per ns per core at T = Tc for every Ising update, against a NumPy reference.

Run: `make bench` or `.venv/bin/python -m benchmarks.ising_kernels [--sizes 64 256 1024]`.
Wolff is counted in spins flipped (cluster flips) per ns; msc in lane-spins (64 chains per word).
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import best_of, numpy_checkerboard
from physml.kernels import ising
from physml.kernels.lattice import random_spins
from physml.kernels.multispin import msc_sweeps, pack, probability_words
from physml.kernels.rng import seed_states
from physml.kernels.wolff import _cluster_flip, wolff_calibrate
from physml.physics import TC

TARGETS = {"msc": 3.0, "checkerboard": 0.25, "wolff": 0.05}


def _sweeps_for(L: int, rate_guess: float, seconds: float = 0.4) -> int:
    return max(1, int(seconds * rate_guess * 1e9 / L**2))


def scalar_rate(alg: str, L: int) -> float:
    st = seed_states(0, [0])
    s = random_spins(L, st[0])[None]
    aux = np.zeros(1, dtype=np.int64)
    ising.run(alg, s, np.array([TC]), 0.0, st, aux, 0, 1, burn=2)  # compile + thermalize a little
    n = _sweeps_for(L, 0.3)
    t = best_of(lambda: ising.run(alg, s, np.array([TC]), 0.0, st, aux, 0, 1, burn=n))
    return n * L * L / t / 1e9


def msc_rate(L: int) -> float:
    st = seed_states(0, [0])[0]
    p4, p8 = probability_words(np.full(64, 1 / TC))
    spins = np.stack([random_spins(L, st) for _ in range(64)])
    w = pack(spins)
    lanes = np.uint64(0xFFFFFFFFFFFFFFFF)
    msc_sweeps(w, p4, p8, lanes, 2, st)
    n = _sweeps_for(L, 3.0 / 64) or 1
    t = best_of(lambda: msc_sweeps(w, p4, p8, lanes, n, st))
    return 64 * n * L * L / t / 1e9


def wolff_rate(L: int) -> float:
    from numba import njit

    @njit(cache=False)
    def clusters(s, p_add, n, st):
        stack = np.empty((s.size, 2), dtype=np.int32)
        tot = 0
        for _ in range(n):
            tot += _cluster_flip(s, p_add, stack, st)
        return tot

    st = seed_states(0, [0])[0]
    s = random_spins(L, st)
    p_add = 1 - np.exp(-2 / TC)
    wolff_calibrate(s, 1 / TC, 30, st)  # equilibrate at Tc: a hot start has only tiny clusters
    n = max(20, int(2e7 / (0.3 * L**2)))  # about 2e7 flipped spins
    flipped = [0]

    def go():
        flipped[0] = clusters(s, p_add, n, st)

    t = best_of(go)
    return flipped[0] / t / 1e9


def numpy_rate(L: int) -> float:
    s = np.where(np.random.default_rng(0).random((L, L)) < 0.5, 1, -1).astype(np.int8)
    rng = np.random.default_rng(1)
    n = _sweeps_for(L, 0.01, 0.3)
    t = best_of(lambda: numpy_checkerboard(s, 1 / TC, n, rng), repeat=2)
    return n * L * L / t / 1e9


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    a = ap.parse_args(argv)
    algs = ["metropolis", "heatbath", "hopfield", "checkerboard", "synchronous", "wolff", "msc"]
    print("flips per ns per core at T = Tc (one core); ratio = / NumPy checkerboard measured now")
    print(f"{'L':>6} {'numpy':>8} " + " ".join(f"{x:>18}" for x in algs))
    for L in a.sizes:
        ref = numpy_rate(L)
        rates = {}
        for alg in algs:
            rates[alg] = msc_rate(L) if alg == "msc" else wolff_rate(L) if alg == "wolff" else scalar_rate(alg, L)
        print(f"{L:>6} {ref:>8.4f} " + " ".join(f"{rates[x]:>8.3f} ({rates[x] / ref:>6.0f}x)" for x in algs))
        for alg, target in TARGETS.items():
            flag = "ok" if rates[alg] >= target else "MISS"
            print(f"       target {alg} >= {target} flips/ns: {rates[alg]:.3f} [{flag}]")
    print("msc target also >= 50x NumPy; see ratios above.")
    print(cuda_line())


def cuda_line(L: int = 4096, sweeps: int = 200) -> str:
    """flips/ns of the msc kernel on one GPU (64 lanes x L^2 per sweep), or why it was not measured."""
    import os

    from numba import cuda

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not cuda.is_available():
        return (
            "msc on CUDA: not measured (no GPU here). Reference: NVIDIA's ising-gpu multi-spin code, about 380 "
            "flips/ns on a V100 and 900 on an H100 (Romero et al., CPC 2020); check with this benchmark on a GPU node."
        )
    from physml.kernels.cuda_msc import DeviceLattice

    p4, p8 = probability_words(np.full(64, 1 / TC))
    dev = DeviceLattice(np.zeros((L, L), np.uint64), p4, p8, (1 << 64) - 1, (1, 2), 0)
    dev.sweeps(5)
    cuda.synchronize()
    t = best_of(lambda: (dev.sweeps(sweeps), cuda.synchronize()))
    name = cuda.get_current_device().name.decode()
    return f"msc on CUDA ({name}), L = {L}: {64 * sweeps * L * L / t / 1e9:.1f} flips/ns"


if __name__ == "__main__":
    main()
