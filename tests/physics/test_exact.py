"""Exact references against brute-force enumeration, a transfer matrix and each other."""

import numpy as np
import pytest

from physml.physics import (
    TC,
    kaufman_energy,
    kaufman_log_z,
    kaufman_specific_heat,
    onsager_energy,
    onsager_specific_heat,
    yang_magnetization,
)
from physml.physics.enumeration import boltzmann, energies, exact_moments


def test_onsager_tc():
    # sinh(2/Tc) = 1 (Kramers-Wannier self-duality)
    assert np.sinh(2 / TC) == pytest.approx(1.0, abs=1e-14)
    assert TC == pytest.approx(2.269185314, abs=1e-9)


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", [0.8, 1.8, TC, 3.0, 10.0])
def test_kaufman_matches_enumeration(L, T):
    p, E, _ = boltzmann(L, T)
    z = np.log(np.exp(-(E - E.min()) / T).sum()) - E.min() / T
    assert kaufman_log_z(L, T)[0] == pytest.approx(z, rel=1e-12)
    ex = exact_moments(L, T)
    assert kaufman_energy(L, T)[0] == pytest.approx(ex["energy"], abs=1e-12)
    assert kaufman_specific_heat(L, T)[0] == pytest.approx(ex["specific_heat"], abs=1e-9)


def _transfer_matrix_energy(L: int, T: float) -> float:
    """<e> of the L x L torus from the row-to-row transfer matrix (2^L states), by dlnZ/dbeta."""

    def lnz(beta):
        rows = ((np.arange(2**L)[:, None] >> np.arange(L)) & 1) * 2 - 1
        intra = (rows * np.roll(rows, 1, axis=1)).sum(axis=1)
        inter = rows @ rows.T
        tm = np.exp(beta * (0.5 * intra[:, None] + 0.5 * intra[None, :] + inter))
        w = np.linalg.eigvalsh(tm)
        top = np.abs(w).max()
        return L * np.log(top) + np.log(np.sum((w / top) ** L))

    d = 1e-5
    return -(lnz(1 / T + d) - lnz(1 / T - d)) / (2 * d) / L**2


@pytest.mark.parametrize("T", [1.5, TC, 3.2])
def test_kaufman_matches_transfer_matrix_L8(T):
    assert kaufman_energy(8, T)[0] == pytest.approx(_transfer_matrix_energy(8, T), abs=1e-6)


def test_large_lattice_tends_to_onsager_and_is_finite():
    T = np.array([1.5, 2.0, 2.6, 3.5])
    assert np.allclose(kaufman_energy(1024, T), onsager_energy(T), atol=1e-9)
    assert np.allclose(kaufman_specific_heat(1024, T), onsager_specific_heat(T), atol=1e-6)
    c = kaufman_specific_heat(1024, [TC])[0]
    # finite-size peak: C(Tc, L) = (8/pi) K_c^2 [ln L + 0.2758...] per site (Ferdinand & Fisher 1969)
    kc = 1 / TC
    assert c == pytest.approx(8 / np.pi * kc**2 * (np.log(1024) + 0.2758), rel=2e-3)


def test_onsager_specific_heat_is_derivative_of_energy():
    for T in (1.2, 2.0, 2.5, 4.0):
        d = 1e-6
        assert onsager_specific_heat(T) == pytest.approx(
            (onsager_energy(T + d) - onsager_energy(T - d)) / (2 * d), rel=1e-6
        )


def test_yang_magnetization():
    assert yang_magnetization(TC * 1.0001) == 0.0
    assert yang_magnetization(0.5) == pytest.approx(1.0, abs=1e-6)
    # near Tc, m ~ (1 - T/Tc)^(1/8) with amplitude 1.2224 (Yang)
    t = TC * (1 - 1e-4)
    assert yang_magnetization(t) == pytest.approx(1.2224 * (1e-4) ** 0.125, rel=2e-3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        kaufman_energy(4, [0.0])
    with pytest.raises(ValueError, match="L must"):
        kaufman_energy(1, [1.0])


def test_enumeration_energies_with_field():
    st = np.ones((1, 3, 3), dtype=np.int8)
    assert energies(st, h=0.5)[0] == -18 - 4.5
