"""XY kernel against exact quadrature (2x2), low-T equipartition, and the invariances of its moves."""

import numpy as np
import pytest

from physml.kernels import xy
from physml.kernels.rng import seed_states
from physml.kernels.statistics import mean_error


def _chains(L, T, n=4, nrec=4000, every=1, burn=200, seed=0):
    rng = seed_states(seed, range(n))
    th = np.stack([xy.random_angles(L, rng[c]) for c in range(n)])
    return xy.run(th, np.full(n, T), rng, nrec, every, burn)


def _exact_2x2_energy(T, k=48):
    """<e> of the 2x2 periodic XY lattice by quadrature over 3 relative angles (the 4th fixed):
    each horizontal and vertical pair is bonded twice, so E = -2 sum over the 4 distinct pairs."""
    g = 2 * np.pi * np.arange(k) / k
    a, b, c = np.meshgrid(g, g, g, indexing="ij")  # theta_00 = 0, theta_01 = a, theta_10 = b, theta_11 = c
    E = -2 * (np.cos(a) + np.cos(b) + np.cos(c - a) + np.cos(c - b))
    w = np.exp(-(E - E.min()) / T)
    return float((w * E).sum() / w.sum() / 4)


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0])
def test_matches_exact_2x2(T):
    e, _, _ = _chains(2, T)
    mean, err, _ = mean_error(e)
    assert abs(mean - _exact_2x2_energy(T)) < 4 * err


def test_low_temperature_equipartition():
    # harmonic spin waves: <e> = -2 + T/2 per site, with O(T^2) anharmonic corrections (tiny at T = 0.05)
    T = 0.05
    e, _, _ = _chains(16, T, n=2, nrec=300, burn=300)
    mean, err, _ = mean_error(e)
    assert abs(mean - (-2 + T / 2)) < max(4 * err, 3e-3)


def test_overrelaxation_conserves_energy_and_magnetization_is_bounded():
    rng = seed_states(1, [0])
    th = xy.random_angles(8, rng[0])
    e0 = xy.xy_energy(th)
    # a sweep of pure reflections: energy unchanged to rounding
    L = th.shape[0]
    for i in range(L):
        for j in range(L):
            hx, hy = xy._field(th, i, j)
            th[i, j] = 2 * np.arctan2(hy, hx) - th[i, j]
    assert xy.xy_energy(th) == pytest.approx(e0, abs=1e-12)
    _, m, conf = _chains(8, 0.3, n=1, nrec=20)
    assert np.all((m >= 0) & (m <= 1)) and conf.dtype == np.float32
