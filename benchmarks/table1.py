"""The seed's Table 1 in checkable terms: wall time and MSE of <e> against Kaufman's exact values.

For each algorithm and sweep budget B: one chain per temperature on the grid (L = 32, T = 1.5..3.5,
21 points, h = 0) runs B sweeps, discards the first B/5, and measures e after every sweep. MSE is the
mean over the grid of (<e> - e_exact(L, T))^2 in units of J^2 per site^2, with the exact finite-L
energy of Kaufman (1949). "HMC" is the seed's Hopfield rule (Algorithm 2) at noise T/2; "HMC-P2"
its parallel form (Algorithm 3): the literal synchronous update, and the checkerboard form that is
correct; msc is the multi-spin coded checkerboard. One core; Python-side cost included.
Run: `.venv/bin/python -m benchmarks.table1 [--L 32] [--budgets 10 1000 2500 4000]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from physml.kernels import ising
from physml.kernels.lattice import random_spins
from physml.kernels.rng import seed_states
from physml.physics import kaufman_energy

ROWS = [
    ("MCMC (metropolis)", "metropolis"),
    ("HMC (hopfield)", "hopfield"),
    ("HMC-P2 literal (synchronous)", "synchronous"),
    ("HMC-P2 checkerboard", "checkerboard"),
    ("checkerboard, multi-spin (msc)", "msc"),
    ("Wolff", "wolff"),
]


def measure(algorithm: str, L: int, temps: np.ndarray, budget: int, seed: int = 0) -> tuple[float, float]:
    rng = seed_states(seed, range(temps.size))
    spins = np.stack([random_spins(L, rng[c]) for c in range(temps.size)])
    aux = np.zeros(temps.size, dtype=np.int64)
    burn = budget // 5
    t0 = time.perf_counter()
    e, _, _ = ising.run(algorithm, spins, temps, 0.0, rng, aux, budget - burn, 1, burn)
    secs = time.perf_counter() - t0
    exact = np.array([kaufman_energy(L, t)[0] for t in temps])
    return secs, float(np.mean((e.mean(axis=1) - exact) ** 2))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--L", type=int, default=32)
    ap.add_argument("--budgets", type=int, nargs="+", default=[10, 1000, 2500, 4000])
    a = ap.parse_args(argv)
    temps = np.linspace(1.5, 3.5, 21)
    for _, alg in ROWS:  # compile outside the timings
        measure(alg, 4, temps[:2], 10)
    print(f"L = {a.L}, 21 temperatures 1.5..3.5, one chain each; MSE of <e> vs Kaufman [J^2/site^2]")
    print(f"{'algorithm':<32} {'sweeps':>7} {'time/s':>8} {'MSE':>10}")
    for name, alg in ROWS:
        for b in a.budgets:
            secs, mse = measure(alg, a.L, temps, b)
            print(f"{name:<32} {b:>7} {secs:>8.3f} {mse:>10.2e}")


if __name__ == "__main__":
    main()
