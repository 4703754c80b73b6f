"""Every Ising update against exact enumeration (chi-square) and Kaufman's exact energy (z-scores).

Samples for chi-square tests are thinned far beyond tau_int (4x4 lattice, 20 sweeps apart), so they
are independent draws; p-values below 1e-4 fail. Energy checks use tau_int-corrected errors and
fail beyond 4 standard errors.
"""

import numpy as np
import pytest

from physml.kernels.ising import ALGORITHMS
from physml.kernels.statistics import mean_error
from physml.physics import TC, kaufman_energy
from physml.physics.enumeration import boltzmann
from tests.stats_helpers import chains, chi2_pvalue

BOLTZMANN = [a for a, spec in ALGORITHMS.items() if spec[3]]
WITH_FIELD = [a for a, spec in ALGORITHMS.items() if spec[3] and spec[2]]


def _em_histogram_test(algorithm, T, h, n_chains=8, nrec=2500, every=20):
    L = 4
    e, m, _ = chains(algorithm, L, [T] * n_chains, h, nrec=nrec, every=every, burn=200)
    p, E, M = boltzmann(L, T, h)
    # joint (bond energy, M) classes: bond energy in steps of 4, M in steps of 2
    key = lambda E_, M_: ((E_ + 32) // 4 * 17 + (M_ + 16) // 2).astype(int)
    exp_p = np.bincount(key(np.rint(E + h * M), M), weights=p, minlength=17 * 17)
    sample = key(np.rint((e.ravel() + h * m.ravel()) * 16), np.rint(m.ravel() * 16))
    obs = np.bincount(sample, minlength=17 * 17)
    return chi2_pvalue(obs, exp_p)


@pytest.mark.parametrize("algorithm", BOLTZMANN)
def test_matches_enumeration_h0(algorithm):
    assert _em_histogram_test(algorithm, 2.5, 0.0) > 1e-4


@pytest.mark.parametrize("algorithm", WITH_FIELD)
def test_matches_enumeration_with_field(algorithm):
    # thinned further: with a field the magnetization reverses rarely (tau ~ 100 sweeps at T = 2.2)
    assert _em_histogram_test(algorithm, 2.2, 0.3, nrec=1500, every=200) > 1e-4


def test_literal_synchronous_update_is_biased():
    # all sites at once from the old state: not the Boltzmann distribution (seed's Algorithm 3, literal)
    assert _em_histogram_test("synchronous", 2.5, 0.0, n_chains=4, nrec=1000) < 1e-10


@pytest.mark.parametrize("algorithm", BOLTZMANN)
def test_energy_matches_kaufman_below_at_above_tc(algorithm):
    L, temps = 8, [1.8, TC, 3.0]
    reps = 4
    e, _, _ = chains(algorithm, L, np.repeat(temps, reps), nrec=4000, every=2, burn=500, seed=7)
    for i, T in enumerate(temps):
        mean, err, _ = mean_error(e[i * reps : (i + 1) * reps])
        exact = kaufman_energy(L, T)[0]
        assert abs(mean - exact) < 4 * err, (algorithm, T, mean, exact, err)


def test_hopfield_rule_is_metropolis_at_twice_its_noise():
    # direct use of the faithful rule: noise T_n must reproduce the exact energy at T = 2 T_n
    from physml.kernels.hopfield import hopfield_sweeps
    from physml.kernels.lattice import energy_per_site, random_spins
    from physml.kernels.rng import seed_states

    L, t_noise = 8, 1.25
    st = seed_states(3, [0])[0]
    s = random_spins(L, st)
    hopfield_sweeps(s, t_noise, 0.0, 500, st)
    e = np.empty(20000)
    for r in range(e.size):
        hopfield_sweeps(s, t_noise, 0.0, 1, st)
        e[r] = energy_per_site(s, 0.0)
    mean, err, _ = mean_error(e[None, :])
    assert abs(mean - kaufman_energy(L, 2 * t_noise)[0]) < 4 * err
    assert abs(mean - kaufman_energy(L, t_noise)[0]) > 20 * err  # and not at T_n itself


def test_fast_path_agrees_with_reference_checkerboard():
    L, T, n = 16, TC, 16
    a, ma, _ = chains("msc", L, [T] * n, nrec=1500, every=2, burn=500, seed=11)
    b, mb, _ = chains("checkerboard", L, [T] * n, nrec=1500, every=2, burn=500, seed=12)
    for x, y in ((a, b), (np.abs(ma), np.abs(mb))):
        (mx, ex, _), (my, ey, _) = mean_error(x), mean_error(y)
        assert abs(mx - my) < 4 * np.hypot(ex, ey)


def test_msc_lanes_at_different_temperatures_are_independent_chains():
    temps = np.array([1.6, 2.0, 2.4, 2.8, 3.4] * 4)
    e, _, _ = chains("msc", 8, temps, nrec=3000, every=2, burn=500, seed=5)
    for T in np.unique(temps):
        mean, err, _ = mean_error(e[temps == T])
        assert abs(mean - kaufman_energy(8, T)[0]) < 4 * err


def test_same_seed_same_trajectory_and_streams_differ():
    a = chains("metropolis", 6, [2.0, 2.0], nrec=50, seed=3)
    b = chains("metropolis", 6, [2.0, 2.0], nrec=50, seed=3)
    assert np.array_equal(a[2], b[2])
    assert not np.array_equal(a[2][0], a[2][1])
