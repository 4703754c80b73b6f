"""massmaps' pieces against independent truth (no Ray): the spectrum of the simulated fields against
CCL's C_l within cosmic variance, the lognormal one-point moments against their closed forms, the
shape-noise power against sigma_e^2 / n_gal, and the classical statistics on fields whose information
is known (a Gaussian and a lognormal field with one C_l differ in their moments, not in their spectra)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from physml.tasks.massmaps import stats
from physml.tasks.massmaps.cosmology import convergence_cl, empty_beam_kappa
from physml.tasks.massmaps.fields import ARCMIN, PatchField, grid_ell, noise_sigma, observe

COSMO = (0.25, 0.876, 0.5)  # Omega_m, sigma_8, z0
PIX, SIZE = 64, 2.0  # pixels, degrees


def _periodogram(maps: np.ndarray, size_deg: float) -> np.ndarray:
    """float[n, N, N]: |FFT|^2 A / N^4 of each map (an estimate of C_l at every mode), written here
    independently of physml's estimator."""
    n = maps.shape[-1]
    area = (size_deg * np.pi / 180) ** 2
    return np.abs(np.fft.fft2(maps)) ** 2 * area / n**4


@functools.cache
def _maps(shift: bool, count: int = 400) -> tuple[np.ndarray, PatchField]:
    cl = functools.partial(convergence_cl, *COSMO)
    lam = -empty_beam_kappa(*COSMO) if shift else None
    field = PatchField(cl, PIX, SIZE, lam, pad=1)  # periodic: the periodogram is unbiased
    return field.draw(np.random.default_rng(1), count).astype(np.float64), field


@pytest.mark.parametrize("shift", [False, True], ids=["gaussian", "lognormal"])
def test_the_maps_power_spectrum_is_ccls_within_cosmic_variance(shift):
    maps, _ = _maps(shift)
    ell = grid_ell(PIX, SIZE / PIX * np.pi / 180)
    expected = convergence_cl(*COSMO, ell)
    edges = np.geomspace(2 * np.pi / (SIZE * np.pi / 180), ell.max(), 9)
    per_map = _periodogram(maps, SIZE)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (ell >= lo) & (ell < hi)
        measured = per_map[:, sel].mean(1)  # one value per map: its scatter is the cosmic variance
        se = measured.std(ddof=1) / np.sqrt(len(measured))
        assert abs(measured.mean() - expected[sel].mean()) < 4 * se, (lo, hi, measured.mean(), expected[sel].mean())


def test_the_lognormal_one_point_moments_are_the_closed_forms():
    maps, field = _maps(True)
    lam = field.shift
    var_k = float(convergence_cl(*COSMO, grid_ell(PIX, SIZE / PIX * np.pi / 180)).sum()) / (SIZE * np.pi / 180) ** 2
    s2 = np.log1p(var_k / lam**2)  # kappa = lam (exp(g - s2/2) - 1): Var = lam^2 (e^s2 - 1)
    skew = (np.exp(s2) + 2) * np.sqrt(np.expm1(s2))
    mean, var = maps.mean((1, 2)), maps.var((1, 2)) + maps.mean((1, 2)) ** 2
    third = ((maps - 0) ** 3).mean((1, 2))
    n = len(maps)
    assert abs(mean.mean()) < 4 * mean.std(ddof=1) / np.sqrt(n)
    assert abs(var.mean() - var_k) < 4 * var.std(ddof=1) / np.sqrt(n)
    assert abs(third.mean() - skew * var_k**1.5) < 4 * third.std(ddof=1) / np.sqrt(n)
    assert maps.min() > -lam  # the empty beam bounds kappa from below


def test_a_gaussian_field_has_no_skewness():
    maps, _ = _maps(False)
    third = (maps**3).mean((1, 2))
    assert abs(third.mean()) < 4 * third.std(ddof=1) / np.sqrt(len(third))


def test_shape_noise_power_is_sigma_e_squared_over_n_gal():
    sigma_e, ngal, pix_arcmin = 0.26, 20.0, SIZE * 60 / PIX
    sigma = noise_sigma(sigma_e, ngal, pix_arcmin)
    rng = np.random.default_rng(2)
    noise = np.stack([observe(np.zeros((PIX, PIX)), sigma, 0.0, pix_arcmin, rng) for _ in range(200)]).astype(float)
    per_map = _periodogram(noise, SIZE).reshape(200, -1).mean(1)
    expected = sigma_e**2 / (ngal / ARCMIN**2)  # n_gal per steradian
    assert abs(per_map.mean() - expected) < 4 * per_map.std(ddof=1) / np.sqrt(len(per_map))
    assert noise_sigma(sigma_e, 0.0, pix_arcmin) == 0.0


def test_physmls_power_spectrum_estimator_agrees_with_the_periodogram():
    maps, _ = _maps(False)
    ell, power = stats.power_spectrum(maps[:50], SIZE * 60 / PIX, bins=6)
    grid = grid_ell(PIX, SIZE / PIX * np.pi / 180)
    per_mode = _periodogram(maps[:50], SIZE)
    edges = np.geomspace(2 * np.pi / (SIZE * np.pi / 180), np.pi / (SIZE / PIX * np.pi / 180), 7)
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        sel = (grid >= lo) & (grid < hi)
        assert np.allclose(power[:, k], per_mode[:, sel].mean(1), rtol=1e-6)
        assert lo <= ell[k] < hi


def test_peaks_are_the_local_maxima_away_from_the_edge():
    img = np.zeros((20, 20))
    img[5, 5], img[12, 14], img[0, 3] = 3.0, 2.0, 9.0  # the last is on the edge
    img[12, 15] = 1.0  # a neighbour, not a peak
    pos, h = stats.peaks(img)
    assert sorted(map(tuple, pos)) == [(5, 5), (12, 14)] and sorted(h) == [2.0, 3.0]
    assert stats.peak_match(img[None], img[None], 1.5) == (2, 2, 2, 2)


def test_equal_spectra_fields_differ_in_moments_not_in_power():
    """A Gaussian and a lognormal field with one C_l: a classifier of the power spectrum is at chance
    (within 4 standard errors of 0.5), one of the moments is not."""
    g, _ = _maps(False)
    ln, _ = _maps(True)
    maps, y = np.concatenate([g, ln]), np.repeat([0, 1], len(g))
    _, power = stats.power_spectrum(maps, SIZE * 60 / PIX, bins=6)
    acc_power = stats.cv_correct(np.log(power), y).mean()
    acc_moments = stats.cv_correct(stats.moments(maps), y).mean()
    se = 0.5 / np.sqrt(len(y))
    assert abs(acc_power - 0.5) < 4 * se
    assert acc_moments > 0.5 + 10 * se


def test_the_wiener_filter_beats_gaussian_smoothing_on_a_gaussian_field():
    """The Wiener filter is the optimal linear estimate of a Gaussian field: no Gaussian smoothing scale
    has a lower mean squared error on independent maps."""
    from physml.tasks.massmaps.fields import smooth

    maps, _ = _maps(False)
    pix = SIZE * 60 / PIX
    sigma = noise_sigma(0.26, 30.0, pix)
    rng = np.random.default_rng(3)
    noisy = maps + sigma * rng.standard_normal(maps.shape)
    signal = (np.abs(np.fft.fft2(maps[:200])) ** 2).mean(0)  # spectra from the first half
    noise = np.full_like(signal, sigma**2 * PIX**2)
    mse_w = ((stats.wiener(noisy[200:], signal, noise) - maps[200:]) ** 2).mean()
    mse_g = min(((smooth(noisy[200:], s, pix) - maps[200:]) ** 2).mean() for s in (0.5, 1, 2, 3, 4, 6))
    assert mse_w < mse_g


def test_bad_parameters_are_refused():
    from physml.tasks.massmaps.source import MassMapParams

    with pytest.raises(ValueError, match=r"cosmologies = \[0.3, 0.8\]"):
        MassMapParams(cosmologies=(0.3, 0.8))
    with pytest.raises(ValueError, match="field = 'poisson'"):
        MassMapParams(field="poisson")


def test_the_tasks_noise_and_smoothing():
    """The noise the tasks add as maps are read has the rms of noise_sigma; the smoothing of a point keeps
    its sum and spreads it with variance sigma^2 per axis."""
    import torch

    from physml.tasks.massmaps.config import MassMapData
    from physml.tasks.massmaps.task import SCALE, gaussian_blur, observe

    d = MassMapData(pixels=64, size=2.0, ngal=20.0, smoothing=0.0)
    x = observe(torch.zeros(50, 1, 64, 64, dtype=torch.float64), d)
    seeds = torch.arange(50)
    y = observe(torch.zeros(50, 1, 64, 64, dtype=torch.float64), d, seeds, 3)
    assert torch.equal(y[7], observe(torch.zeros(1, 1, 64, 64, dtype=torch.float64), d, seeds[7:8], 3)[0])  # per map
    sigma = noise_sigma(d.sigma_e, d.ngal, d.size * 60 / d.pixels) / SCALE
    n = x.numel()
    assert abs(float(x.var()) - sigma**2) < 4 * sigma**2 * np.sqrt(2 / n)
    assert abs(float(y.var()) - sigma**2) < 4 * sigma**2 * np.sqrt(2 / n)
    point = torch.zeros(1, 1, 41, 41, dtype=torch.float64)
    point[0, 0, 20, 20] = 1.0
    blurred = gaussian_blur(point, 2.5)[0, 0].numpy()
    r = np.arange(41) - 20
    assert blurred.sum() == pytest.approx(1.0, abs=1e-6)
    assert (blurred.sum(0) * r**2).sum() == pytest.approx(2.5**2, rel=1e-3)
